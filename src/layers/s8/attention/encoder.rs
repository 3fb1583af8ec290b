//! int8 pre-LN transformer encoder block.

use super::{
    check_scratch, LayerNormS8, LayerNormS8Config, MhaS8Params, MultiHeadAttentionS8,
    MultiHeadAttentionS8Config, ScratchLen, ScratchS8,
};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::activation::LutS8;
use crate::kernels::generic::attention_s8::AttentionMask;
use crate::kernels::generic::elementwise::{add_s8, AddParamsS8};
use crate::kernels::ActivationS8;
use crate::layers::check_io;
use crate::layers::s8::{DenseS8, DenseS8Config};
use crate::num::quant::{QuantParams, Requantizer};

/// The quantization of every activation of the block, in computation order.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncoderQuantS8 {
    /// The block's input `x`.
    pub input: QuantParams,
    /// `LN1(x)`.
    pub ln1: QuantParams,
    /// The projected queries.
    pub q: QuantParams,
    /// The projected keys.
    pub k: QuantParams,
    /// The projected values.
    pub v: QuantParams,
    /// The concatenated head outputs.
    pub attn: QuantParams,
    /// `MHA(LN1(x))`.
    pub mha: QuantParams,
    /// The first residual sum `y = x + MHA(LN1(x))`.
    pub resid: QuantParams,
    /// `LN2(y)`.
    pub ln2: QuantParams,
    /// `W1·LN2(y) + b1`, before GELU.
    pub ff1: QuantParams,
    /// `GELU(…)`.
    pub gelu: QuantParams,
    /// `W2·GELU(…) + b2`.
    pub ff2: QuantParams,
    /// The block's output `y + W2·GELU(…) + b2`.
    pub output: QuantParams,
}

/// Configuration of an int8 pre-LN transformer encoder block over one sample `[seq, width]`:
/// `y = x + MHA(LN1(x))`, `out = y + W2·GELU(W1·LN2(y) + b1) + b2`, every step in int8 (see the
/// [module documentation](super)).
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TransformerEncoderS8Config {
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
    /// Exponent of the folded LN1 parameters.
    pub ln1_shift: u32,
    /// Exponent of the folded LN2 parameters.
    pub ln2_shift: u32,
    /// Quantization of every activation.
    pub quant: EncoderQuantS8,
}

/// The borrowed int8 parameters of a [`TransformerEncoderS8`].
///
/// Layout (each tensor follows the previous one):
/// - `weights`: `Wq, Wk, Wv, Wo` (`[width, width]` each), `W1 [ff, width]`, `W2 [width, ff]`
/// - `bias`, `requant`: `bq, bk, bv, bo` (`[width]` each), `b1 [ff]`, `b2 [width]`
/// - `ln_multiplier`, `ln_offset`: LN1 `[width]`, LN2 `[width]`
#[derive(Clone, Copy, Debug)]
pub struct EncoderS8Params<'a> {
    /// int8 weights, `4·width² + 2·ff·width`.
    pub weights: &'a [i8],
    /// int32 biases, `5·width + ff`.
    pub bias: &'a [i32],
    /// Per-channel requantizers, `5·width + ff`.
    pub requant: &'a [Requantizer],
    /// Folded layer-norm gammas, `2·width`.
    pub ln_multiplier: &'a [i32],
    /// Folded layer-norm betas, `2·width`.
    pub ln_offset: &'a [i64],
}

/// Lengths of the slices of [`EncoderS8Params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EncoderS8ParamsLen {
    /// `weights`: `4·width² + 2·ff·width`.
    pub weights: usize,
    /// `bias` and `requant`: `5·width + ff`.
    pub bias: usize,
    /// `ln_multiplier` and `ln_offset`: `2·width`.
    pub ln: usize,
}

impl TransformerEncoderS8Config {
    /// The lengths of the parameter slices.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn params_len(&self) -> Result<EncoderS8ParamsLen, ShapeError> {
        let (w, f) = (self.width, self.ff);
        let sq = product(&[4, w, w])?;
        let wf = product(&[2, f, w])?;
        let bias = product(&[5, w])?
            .checked_add(f)
            .ok_or(ShapeError::Dimension)?;
        Ok(EncoderS8ParamsLen {
            weights: sq.checked_add(wf).ok_or(ShapeError::Dimension)?,
            bias,
            ln: product(&[2, w])?,
        })
    }

    /// The attention part's configuration.
    pub fn mha_config(&self) -> MultiHeadAttentionS8Config {
        let q = &self.quant;
        MultiHeadAttentionS8Config {
            seq: self.seq,
            width: self.width,
            heads: self.heads,
            input: q.ln1,
            q: q.q,
            k: q.k,
            v: q.v,
            attn: q.attn,
            output: q.mha,
            causal: self.causal,
        }
    }

    /// Validates the configuration, borrows the parameters and builds the GELU table and the
    /// residual adds' constants.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for a zero, inconsistent or overflowing dimension (`heads` must
    /// divide `width`); [`ShapeError::Length`] naming `Weights`, `Bias`, `Requant` (also for the
    /// layer-norm slices); [`Error::Quant`] for invalid quantization or an unrepresentable
    /// multiplier; as [`LayerNormS8Config::init`] for the layer norms.
    pub fn init<'a>(self, p: EncoderS8Params<'a>) -> Result<TransformerEncoderS8<'a>, Error> {
        if self.ff == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let lens = self.params_len()?;
        check_len(Buffer::Weights, lens.weights, p.weights.len())?;
        check_len(Buffer::Bias, lens.bias, p.bias.len())?;
        check_len(Buffer::Requant, lens.bias, p.requant.len())?;
        check_len(Buffer::Requant, lens.ln, p.ln_multiplier.len())?;
        check_len(Buffer::Requant, lens.ln, p.ln_offset.len())?;
        let (w, f, q) = (self.width, self.ff, self.quant);
        // Offsets of the tensors in the layout above (no overflow: the totals fit).
        let (w_mha, w_1) = (4 * w * w, f * w);
        let (b_mha, b_1) = (4 * w, f);
        let split_w = |a: usize, n: usize| p.weights.get(a..a + n).unwrap_or(&[]);
        let split_b = |a: usize, n: usize| p.bias.get(a..a + n).unwrap_or(&[]);
        let split_r = |a: usize, n: usize| p.requant.get(a..a + n).unwrap_or(&[]);
        let ln = |shift: u32, input: QuantParams, output: QuantParams, at: usize| {
            LayerNormS8Config {
                positions: self.seq,
                width: w,
                input,
                output,
                eps: self.eps,
                shift,
            }
            .init(
                p.ln_multiplier.get(at..at + w).unwrap_or(&[]),
                p.ln_offset.get(at..at + w).unwrap_or(&[]),
            )
        };
        let ln1 = ln(self.ln1_shift, q.input, q.ln1, 0)?;
        let mha = self.mha_config().init(MhaS8Params {
            weights: split_w(0, w_mha),
            bias: split_b(0, b_mha),
            requant: split_r(0, b_mha),
        })?;
        let add1 = AddParamsS8::new(
            q.input.scale,
            q.input.zero_point,
            q.mha.scale,
            q.mha.zero_point,
            q.resid.scale,
            q.resid.zero_point,
            ActivationS8::NONE,
        )?;
        let ln2 = ln(self.ln2_shift, q.resid, q.ln2, w)?;
        let dense = |inp: usize, out: usize, input, output| DenseS8Config {
            in_features: inp,
            out_features: out,
            input,
            output,
            act: ActivationS8::NONE,
        };
        let ff1 = dense(w, f, q.ln2, q.ff1).init(
            split_w(w_mha, w_1),
            Some(split_b(b_mha, b_1)),
            split_r(b_mha, b_1),
        )?;
        let ff2 = dense(f, w, q.gelu, q.ff2).init(
            split_w(w_mha + w_1, w_1),
            Some(split_b(b_mha + b_1, w)),
            split_r(b_mha + b_1, w),
        )?;
        let gelu = LutS8::gelu(
            q.ff1.scale,
            q.ff1.zero_point,
            q.gelu.scale,
            q.gelu.zero_point,
        )?;
        let add2 = AddParamsS8::new(
            q.resid.scale,
            q.resid.zero_point,
            q.ff2.scale,
            q.ff2.zero_point,
            q.output.scale,
            q.output.zero_point,
            ActivationS8::NONE,
        )?;
        let len = mha.len();
        let hidden = product(&[self.seq, f])?;
        let bytes = len
            .checked_add((3 * len).max(hidden.checked_add(len).ok_or(ShapeError::Dimension)?))
            .ok_or(ShapeError::Dimension)?;
        Ok(TransformerEncoderS8 {
            config: self,
            ln1,
            mha,
            add1,
            ln2,
            ff1,
            gelu,
            ff2,
            add2,
            len,
            hidden,
            scratch: ScratchLen {
                bytes,
                words: self.seq,
            },
        })
    }
}

/// An int8 pre-LN transformer encoder block, built by [`TransformerEncoderS8Config::init`].
/// Owns its GELU table (256 bytes).
#[derive(Clone, Copy, Debug)]
pub struct TransformerEncoderS8<'a> {
    config: TransformerEncoderS8Config,
    ln1: LayerNormS8<'a>,
    mha: MultiHeadAttentionS8<'a>,
    add1: AddParamsS8,
    ln2: LayerNormS8<'a>,
    ff1: DenseS8<'a>,
    gelu: LutS8,
    ff2: DenseS8<'a>,
    add2: AddParamsS8,
    len: usize,
    hidden: usize,
    scratch: ScratchLen,
}

impl TransformerEncoderS8<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &TransformerEncoderS8Config {
        &self.config
    }

    /// Values per sample, `seq · width` (input and output).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a validated block has at least one value per sample.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Scratch of [`forward`](Self::forward): `seq·width + max(3·seq·width, seq·(ff + width))`
    /// bytes and `seq` words, independent of the batch.
    pub fn scratch_len(&self) -> ScratchLen {
        self.scratch
    }

    /// Runs the block with the configuration's mask (`causal`, no padding).
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`; `scratch`: at least
    /// [`scratch_len`](Self::scratch_len).
    ///
    /// # Errors
    /// As [`forward_masked`](Self::forward_masked).
    pub fn forward(
        &self,
        batch: usize,
        input: &[i8],
        output: &mut [i8],
        scratch: &mut ScratchS8<'_>,
    ) -> Result<(), Error> {
        let mask = AttentionMask {
            causal: self.config.causal,
            valid: self.config.seq,
        };
        self.forward_masked(batch, input, output, scratch, mask)
    }

    /// Runs the block with an explicit attention mask.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, seq, width]`; `scratch`: at least
    /// [`scratch_len`](Self::scratch_len).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input`, `Output`, or `Scratch` when too short). Nothing is written on error.
    pub fn forward_masked(
        &self,
        batch: usize,
        input: &[i8],
        output: &mut [i8],
        scratch: &mut ScratchS8<'_>,
        mask: AttentionMask,
    ) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        check_scratch(&self.scratch, scratch)?;
        let n = self.len;
        let seq = self.config.seq;
        let (y, region) = scratch.bytes.split_at_mut(n);
        let words = &mut *scratch.words;
        for (x, out) in input.chunks_exact(n).zip(output.chunks_exact_mut(n)) {
            // h1 = LN1(x) into y's buffer; MHA(h1) into out.
            self.ln1.forward(1, x, y, &mut ScratchS8::empty())?;
            {
                let (kv, rest) = region.split_at_mut(2 * n);
                let (k, v) = kv.split_at_mut(n);
                let concat = rest.get_mut(..n).unwrap_or(&mut []);
                self.mha.attend(y, out, k, v, concat, words, mask)?;
            }
            // y = x + MHA(LN1(x)); h2 = LN2(y) into out.
            add_s8(&self.add1, x, out, y)?;
            self.ln2.forward(1, y, out, &mut ScratchS8::empty())?;
            let (hidden, rest) = region.split_at_mut(self.hidden);
            let f2 = rest.get_mut(..n).unwrap_or(&mut []);
            self.ff1.forward(seq, out, hidden)?;
            self.gelu.apply(hidden);
            self.ff2.forward(seq, hidden, f2)?;
            add_s8(&self.add2, y, f2, out)?;
        }
        Ok(())
    }
}
