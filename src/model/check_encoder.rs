//! Validation of an [`Op::TransformerEncoderS8`](crate::model::Op::TransformerEncoderS8) without
//! its requantizers.
//!
//! [`TransformerEncoderS8Config::init`] borrows `5·width + ff` [`Requantizer`]s, which the
//! file stores as `i32` pairs; the parser has no buffer to rebuild them in (it allocates
//! nothing, and a byte slice cannot be viewed as `Requantizer`s without `unsafe`). So the
//! parser runs, in the same order, the `init`s of the block's parts that `init` itself runs:
//! the two [`LayerNormS8Config`]s, the four attention projections, the attention constants,
//! the two residual adds, the two feed-forward layers and the GELU table. The requantizers'
//! values are not read by any `init` (only their count), and their count and range are checked
//! here. [`Model::run`](crate::model::Model::run) then builds the block with its own `init` on
//! the rebuilt requantizers; a host test checks that both accept and reject the same blocks.

use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::activation::LutS8;
use crate::kernels::generic::attention_s8::AttentionParamsS8;
use crate::kernels::generic::elementwise::AddParamsS8;
use crate::kernels::ActivationS8;
use crate::layers::s8::attention::{LayerNormS8Config, ScratchLen, TransformerEncoderS8Config};
use crate::layers::s8::DenseS8Config;
use crate::model::check::check_requant;
use crate::model::EncoderTensorsS8;
use crate::num::quant::{QuantParams, Requantizer};

/// What the planner needs of a valid int8 encoder block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EncoderS8Info {
    /// Values per sample in and out, `seq · width`.
    pub len: usize,
    /// Requantizers it borrows, `5·width + ff`.
    pub requant: usize,
    /// Its forward scratch (as [`TransformerEncoderS8::scratch_len`](crate::layers::s8::attention::TransformerEncoderS8::scratch_len)).
    pub scratch: ScratchLen,
}

/// The single requantizer the parts are validated with (a dense layer accepts one per tensor).
const ONE: &[Requantizer] = &[Requantizer::ZERO];

/// Validates an int8 encoder block as [`TransformerEncoderS8Config::init`] does (module docs),
/// its requantizer pairs as [`check_requant`] (exactly one pair per bias value).
///
/// # Errors
/// What `init` returns for this block; [`ShapeError::Length`] (`Requant`) for a wrong number of
/// requantizer pairs; [`QuantError::InvalidMultiplier`](crate::QuantError::InvalidMultiplier)
/// for one out of range.
// Never inlined: its layer structs would otherwise enlarge the frame of `check_op`, which
// `Model::arena_len` runs on every `Model::run`, for every model.
#[inline(never)]
pub(crate) fn check_encoder_s8(
    c: &TransformerEncoderS8Config,
    t: &EncoderTensorsS8<'_>,
) -> Result<EncoderS8Info, Error> {
    if c.ff == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let lens = c.params_len()?;
    check_len(Buffer::Weights, lens.weights, t.weights.len())?;
    check_len(Buffer::Bias, lens.bias, t.bias.len())?;
    let pairs = lens.bias.checked_mul(2).ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Requant, pairs, t.requant.len())?;
    check_requant(t.requant, lens.bias)?;
    check_len(Buffer::Requant, lens.ln, t.ln_multiplier.len())?;
    check_len(Buffer::Requant, lens.ln, t.ln_offset.len())?;
    let (w, f, q) = (c.width, c.ff, c.quant);
    // In bounds and without overflow: the totals were checked above.
    let (w_mha, w_1) = (4 * w * w, f * w);
    let (b_mha, b_1) = (4 * w, f);
    let weights = |a: usize, n: usize| t.weights.get(a..a + n).unwrap_or(&[]);
    let bias = |a: usize, n: usize| Some(t.bias.get(a..a + n).unwrap_or(&[]));
    let ln = |shift: u32, input: QuantParams, output: QuantParams, at: usize| {
        LayerNormS8Config {
            positions: c.seq,
            width: w,
            input,
            output,
            eps: c.eps,
            shift,
        }
        .init(
            t.ln_multiplier.get(at..at + w).unwrap_or(&[]),
            t.ln_offset.get(at..at + w).unwrap_or(&[]),
        )
        .map(|_| ())
    };
    let dense = |inp: usize, out: usize, input, output, wa: usize, ba: usize| {
        DenseS8Config {
            in_features: inp,
            out_features: out,
            input,
            output,
            act: ActivationS8::NONE,
        }
        .init(weights(wa, inp * out), bias(ba, out), ONE)
        .map(|_| ())
    };
    ln(c.ln1_shift, q.input, q.ln1, 0)?;
    // The attention part, as `MultiHeadAttentionS8Config::init`.
    let mha = c.mha_config();
    let head_dim = mha.head_dim()?;
    for (i, (input, output)) in [(q.ln1, q.q), (q.ln1, q.k), (q.ln1, q.v), (q.attn, q.mha)]
        .into_iter()
        .enumerate()
    {
        dense(w, w, input, output, i * w * w, i * w)?;
    }
    AttentionParamsS8::new(head_dim, q.q, q.k, q.v, q.attn)?;
    let len = product(&[c.seq, w])?;
    product(&[3, len])?;
    add(q.input, q.mha, q.resid)?;
    ln(c.ln2_shift, q.resid, q.ln2, w)?;
    dense(w, f, q.ln2, q.ff1, w_mha, b_mha)?;
    dense(f, w, q.gelu, q.ff2, w_mha + w_1, b_mha + b_1)?;
    LutS8::gelu(
        q.ff1.scale,
        q.ff1.zero_point,
        q.gelu.scale,
        q.gelu.zero_point,
    )?;
    add(q.resid, q.ff2, q.output)?;
    // The scratch, as `init` sizes it: `seq·width + max(3·seq·width, seq·(ff + width))` bytes
    // and `seq` words.
    let hidden = product(&[c.seq, f])?;
    let bytes = hidden
        .checked_add(len)
        .map(|h| h.max(3 * len))
        .and_then(|m| m.checked_add(len))
        .ok_or(ShapeError::Dimension)?;
    Ok(EncoderS8Info {
        len,
        requant: lens.bias,
        scratch: ScratchLen {
            bytes,
            words: c.seq,
        },
    })
}

/// A residual add's constants, as the block builds them.
fn add(a: QuantParams, b: QuantParams, out: QuantParams) -> Result<(), Error> {
    AddParamsS8::new(
        a.scale,
        a.zero_point,
        b.scale,
        b.zero_point,
        out.scale,
        out.zero_point,
        ActivationS8::NONE,
    )?;
    Ok(())
}
