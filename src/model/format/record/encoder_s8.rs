//! The int8 encoder block's record (tag 41): its 13 activation quantizations travel as the
//! first [`QUANT_WORDS`] words of tensor `t1`, followed in place by the bias, the requantizer
//! pairs and the layer-norm multipliers (`docs/ttm-format.md`, "The int8 encoder block").

#[cfg(feature = "ops-attention")]
use super::decode::{Cursor, Reader};
#[cfg(feature = "ops-attention")]
use crate::error::{Buffer, FormatError, ShapeError};
use crate::layers::s8::attention::EncoderQuantS8;
#[cfg(feature = "ops-attention")]
use crate::layers::s8::attention::TransformerEncoderS8Config;
#[cfg(feature = "ops-attention")]
use crate::model::EncoderTensorsS8;
use crate::num::quant::QuantParams;

/// Words of the int8 encoder's quantization at the start of its `t1` block: the 13
/// [`EncoderQuantS8`] parameters in field order, each scale (`f32` bits) then zero point.
pub(super) const QUANT_WORDS: usize = 26;

/// The 13 quantization parameters of an int8 encoder block, in field order.
fn quant_list(q: &EncoderQuantS8) -> [QuantParams; 13] {
    [
        q.input, q.ln1, q.q, q.k, q.v, q.attn, q.mha, q.resid, q.ln2, q.ff1, q.gelu, q.ff2,
        q.output,
    ]
}

/// The [`QUANT_WORDS`] words of `q`.
pub(super) fn quant_words(q: &EncoderQuantS8) -> [u32; QUANT_WORDS] {
    let mut words = [0u32; QUANT_WORDS];
    for (pair, p) in words.chunks_exact_mut(2).zip(quant_list(q)) {
        if let [scale, zero_point] = pair {
            *scale = p.scale.to_bits();
            *zero_point = p.zero_point as u32;
        }
    }
    words
}

/// The int8 encoder's quantization from its [`QUANT_WORDS`] words (missing words read as 0).
#[cfg(feature = "ops-attention")]
fn quant_of(words: &[i32]) -> EncoderQuantS8 {
    let mut q = [QuantParams {
        scale: 0.0,
        zero_point: 0,
    }; 13];
    for (p, pair) in q.iter_mut().zip(words.chunks_exact(2)) {
        if let [scale, zero_point] = *pair {
            *p = QuantParams {
                scale: f32::from_bits(scale as u32),
                zero_point,
            };
        }
    }
    let [input, ln1, q, k, v, attn, mha, resid, ln2, ff1, gelu, ff2, output] = q;
    EncoderQuantS8 {
        input,
        ln1,
        q,
        k,
        v,
        attn,
        mha,
        resid,
        ln2,
        ff1,
        gelu,
        ff2,
        output,
    }
}

// Reading: only in a build that runs the block.
#[cfg(feature = "ops-attention")]
impl<'a> Reader<'a> {
    /// The int8 encoder block from its words (read by `c`) and tensors: `t0` weights, `t1` the
    /// quantization words then bias, requantizer pairs and layer-norm multipliers, `t2` the
    /// layer-norm offsets.
    pub(super) fn encoder_s8(
        &self,
        c: &mut Cursor<'_, 'a>,
    ) -> Result<(TransformerEncoderS8Config, EncoderTensorsS8<'a>), FormatError> {
        let layer = self.layer;
        let (seq, width, heads, ff) = (c.u()?, c.u()?, c.u()?, c.u()?);
        let causal = c.flag("causal")?;
        let (eps, ln1_shift, ln2_shift) = (c.f(), c.raw(), c.raw());
        let block = self.i32s(1)?;
        let (head, rest) = block.split_at(QUANT_WORDS.min(block.len()));
        let config = TransformerEncoderS8Config {
            seq,
            width,
            heads,
            ff,
            causal,
            eps,
            ln1_shift,
            ln2_shift,
            quant: quant_of(head),
        };
        let shape = |error| FormatError::Shape { layer, error };
        let lens = config.params_len().map_err(shape)?;
        let expected = lens
            .bias
            .checked_mul(3)
            .and_then(|n| n.checked_add(lens.ln))
            .and_then(|n| n.checked_add(QUANT_WORDS))
            .ok_or(shape(ShapeError::Dimension))?;
        if block.len() != expected {
            return Err(shape(ShapeError::Length {
                buffer: Buffer::Bias,
                expected,
                actual: block.len(),
            }));
        }
        // bias, requantizer pairs (two words per bias value), LN multipliers: in bounds, as
        // `block.len()` is their sum plus the quantization words.
        let parts = [lens.bias, 2 * lens.bias, lens.ln];
        let mut r = rest;
        let [bias, requant, ln_multiplier] = parts.map(|n| {
            let (a, b) = r.split_at(n.min(r.len()));
            r = b;
            a
        });
        Ok((
            config,
            EncoderTensorsS8 {
                weights: self.i8s(0)?,
                bias,
                requant,
                ln_multiplier,
                ln_offset: self.i64s(2)?,
            },
        ))
    }
}
