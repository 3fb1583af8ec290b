//! Quantization of an f32 encoder block's parameters for [`TransformerEncoderS8`].

use super::{EncoderQuantS8, EncoderS8ParamsLen, TransformerEncoderS8Config};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::kernels::generic::layer_norm_s8::fold_layer_norm;
use crate::layers::s8::quantize_dense_weights;
use crate::num::quant::{QuantParams, Requantizer};

#[cfg(doc)]
use super::TransformerEncoderS8;

/// The dimensions of an encoder block, without its quantization.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncoderShapeS8 {
    /// Positions per sample.
    pub seq: usize,
    /// Values per position.
    pub width: usize,
    /// Attention heads; divides `width`.
    pub heads: usize,
    /// Width of the feed-forward hidden layer.
    pub ff: usize,
    /// Whether attention is causal.
    pub causal: bool,
    /// The layer norms' `eps`.
    pub eps: f32,
}

/// Calibrated real ranges `(min, max)` of every activation of the block (for example the
/// extremes over calibration inputs of an f32 or f64 forward pass), in the order of
/// [`EncoderQuantS8`]; each becomes asymmetric int8 parameters
/// ([`QuantParams::asymmetric_from_min_max`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EncoderRanges {
    /// Range of the block's input.
    pub input: (f32, f32),
    /// Range of `LN1(x)`.
    pub ln1: (f32, f32),
    /// Range of the queries.
    pub q: (f32, f32),
    /// Range of the keys.
    pub k: (f32, f32),
    /// Range of the values.
    pub v: (f32, f32),
    /// Range of the concatenated heads.
    pub attn: (f32, f32),
    /// Range of `MHA(LN1(x))`.
    pub mha: (f32, f32),
    /// Range of `y = x + MHA(LN1(x))`.
    pub resid: (f32, f32),
    /// Range of `LN2(y)`.
    pub ln2: (f32, f32),
    /// Range of `W1·LN2(y) + b1`.
    pub ff1: (f32, f32),
    /// Range of `GELU(W1·LN2(y) + b1)`.
    pub gelu: (f32, f32),
    /// Range of `W2·GELU(…) + b2`.
    pub ff2: (f32, f32),
    /// Range of the block's output.
    pub output: (f32, f32),
}

/// The caller's buffers [`quantize_encoder`] fills: the slices of
/// [`EncoderS8Params`](super::EncoderS8Params) (same layout) and a scratch of weight scales.
#[derive(Debug)]
pub struct EncoderS8Storage<'a> {
    /// `4·width² + 2·ff·width`.
    pub weights: &'a mut [i8],
    /// `5·width + ff`.
    pub bias: &'a mut [i32],
    /// `5·width + ff`.
    pub requant: &'a mut [Requantizer],
    /// `2·width`.
    pub ln_multiplier: &'a mut [i32],
    /// `2·width`.
    pub ln_offset: &'a mut [i64],
    /// Scratch, `max(width, ff)`: one projection's per-channel weight scales.
    pub scales: &'a mut [f32],
}

/// Number of f32 parameters of an encoder block (the layout of the module docs):
/// `4·width + 4·(width² + width) + 2·ff·width + ff + width`.
///
/// # Errors
/// [`ShapeError::Dimension`] on overflow.
pub fn encoder_f32_param_len(width: usize, ff: usize) -> Result<usize, ShapeError> {
    let f = |a: usize, b: usize| a.checked_mul(b).ok_or(ShapeError::Dimension);
    let block = f(width, width)?
        .checked_add(width)
        .ok_or(ShapeError::Dimension)?;
    [f(4, width)?, f(4, block)?, f(2, f(ff, width)?)?, ff, width]
        .iter()
        .try_fold(0usize, |a, &b| a.checked_add(b))
        .ok_or(ShapeError::Dimension)
}

impl EncoderRanges {
    /// The quantization parameters of every range.
    ///
    /// # Errors
    /// [`QuantError::InvalidRange`](crate::QuantError::InvalidRange) for a NaN, infinite or
    /// inverted range.
    pub fn quant(&self) -> Result<EncoderQuantS8, Error> {
        let p = |(a, b): (f32, f32)| QuantParams::asymmetric_from_min_max(a, b);
        Ok(EncoderQuantS8 {
            input: p(self.input)?,
            ln1: p(self.ln1)?,
            q: p(self.q)?,
            k: p(self.k)?,
            v: p(self.v)?,
            attn: p(self.attn)?,
            mha: p(self.mha)?,
            resid: p(self.resid)?,
            ln2: p(self.ln2)?,
            ff1: p(self.ff1)?,
            gelu: p(self.gelu)?,
            ff2: p(self.ff2)?,
            output: p(self.output)?,
        })
    }
}

/// Lengths of the buffers of [`EncoderS8Storage`]: the parameter slices and the scales
/// scratch `max(width, ff)`.
///
/// # Errors
/// [`ShapeError::Dimension`] on overflow.
pub fn encoder_s8_storage_len(
    width: usize,
    ff: usize,
) -> Result<(EncoderS8ParamsLen, usize), ShapeError> {
    let cfg = config_of(
        EncoderShapeS8 {
            seq: 1,
            width,
            heads: 1,
            ff,
            causal: false,
            eps: 0.0,
        },
        unit_quant(),
    );
    Ok((cfg.params_len()?, width.max(ff)))
}

fn unit_quant() -> EncoderQuantS8 {
    let u = QuantParams {
        scale: 1.0,
        zero_point: 0,
    };
    EncoderQuantS8 {
        input: u,
        ln1: u,
        q: u,
        k: u,
        v: u,
        attn: u,
        mha: u,
        resid: u,
        ln2: u,
        ff1: u,
        gelu: u,
        ff2: u,
        output: u,
    }
}

fn config_of(s: EncoderShapeS8, quant: EncoderQuantS8) -> TransformerEncoderS8Config {
    TransformerEncoderS8Config {
        seq: s.seq,
        width: s.width,
        heads: s.heads,
        ff: s.ff,
        causal: s.causal,
        eps: s.eps,
        ln1_shift: 1,
        ln2_shift: 1,
        quant,
    }
}

/// Quantizes an f32 encoder block (parameters in the layout of the module docs) with the
/// activation ranges `ranges` into `storage`, as the TFLite converter would: per-channel
/// symmetric int8 weights, int32 biases and per-channel requantizers
/// ([`quantize_dense_weights`]), layer norms folded by
/// [`fold_layer_norm`](crate::kernels::generic::layer_norm_s8::fold_layer_norm). Returns the
/// configuration to [`init`](TransformerEncoderS8Config::init) with the filled slices.
///
/// # Shapes
/// `params_f32`: [`encoder_f32_param_len`]; `storage`: [`encoder_s8_storage_len`].
///
/// # Errors
/// [`ShapeError::Dimension`] for a zero or overflowing dimension; [`ShapeError::Length`]
/// naming `Params` (`params_f32`), `Weights`, `Bias`, `Requant` or `Scratch` (`scales`);
/// [`Error::Quant`] for an invalid range, a NaN or infinite parameter, or an unrepresentable
/// multiplier. On error the storage may be partly written.
pub fn quantize_encoder(
    shape: EncoderShapeS8,
    params_f32: &[f32],
    ranges: &EncoderRanges,
    storage: EncoderS8Storage<'_>,
) -> Result<TransformerEncoderS8Config, Error> {
    let (w, f) = (shape.width, shape.ff);
    if w == 0 || f == 0 || shape.seq == 0 || shape.heads == 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(
        Buffer::Params,
        encoder_f32_param_len(w, f)?,
        params_f32.len(),
    )?;
    let (lens, scales_len) = encoder_s8_storage_len(w, f)?;
    let s = storage;
    check_len(Buffer::Weights, lens.weights, s.weights.len())?;
    check_len(Buffer::Bias, lens.bias, s.bias.len())?;
    check_len(Buffer::Requant, lens.bias, s.requant.len())?;
    check_len(Buffer::Requant, lens.ln, s.ln_multiplier.len())?;
    check_len(Buffer::Requant, lens.ln, s.ln_offset.len())?;
    if s.scales.len() < scales_len {
        return Err(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: scales_len,
            actual: s.scales.len(),
        }
        .into());
    }
    let q = ranges.quant()?;
    // Every slice below is in bounds: the lengths were checked against the totals above.
    let mut at = 0usize;
    let mut take = |n: usize| {
        let r = params_f32.get(at..at + n).unwrap_or(&[]);
        at += n;
        r
    };
    let (g1, be1) = (take(w), take(w));
    let mut proj = [(&[][..], &[][..]); 4];
    for p in proj.iter_mut() {
        *p = (take(w * w), take(w));
    }
    let (g2, be2) = (take(w), take(w));
    let (w1, b1, w2, b2) = (take(f * w), take(f), take(w * f), take(w));

    // (f32 weights, f32 bias, outputs, input quant, output quant, weight offset, bias offset)
    let dense = [
        (proj[0], w, q.ln1, q.q),
        (proj[1], w, q.ln1, q.k),
        (proj[2], w, q.ln1, q.v),
        (proj[3], w, q.attn, q.mha),
        ((w1, b1), f, q.ln2, q.ff1),
        ((w2, b2), w, q.gelu, q.ff2),
    ];
    let (mut wa, mut ba) = (0usize, 0usize);
    for ((wt, bt), out, qi, qo) in dense {
        let n = wt.len();
        quantize_dense_weights(
            wt,
            Some(bt),
            out,
            qi,
            qo,
            s.weights.get_mut(wa..wa + n).unwrap_or(&mut []),
            s.bias.get_mut(ba..ba + out).unwrap_or(&mut []),
            s.requant.get_mut(ba..ba + out).unwrap_or(&mut []),
            s.scales.get_mut(..out).unwrap_or(&mut []),
        )?;
        wa += n;
        ba += out;
    }
    let (m1, m2) = s.ln_multiplier.split_at_mut(w);
    let (o1, o2) = s.ln_offset.split_at_mut(w);
    let ln1_shift = fold_layer_norm(g1, be1, q.ln1, m1, o1)?;
    let ln2_shift = fold_layer_norm(g2, be2, q.ln2, m2, o2)?;
    let mut cfg = config_of(shape, q);
    cfg.ln1_shift = ln1_shift;
    cfg.ln2_shift = ln2_shift;
    Ok(cfg)
}
