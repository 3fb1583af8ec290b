//! int8 attention and transformer inference: integer layer norm, multi-head self-attention and
//! the pre-LN encoder block, with caller-owned scratch.
//!
//! (Accuracy and memory figures: see the sections below.)

mod encoder;
mod layer_norm;
mod mha;
mod quantize;

pub use crate::kernels::generic::attention_s8::AttentionMask;
pub use encoder::{
    EncoderQuantS8, EncoderS8Params, EncoderS8ParamsLen, TransformerEncoderS8,
    TransformerEncoderS8Config,
};
pub use layer_norm::{LayerNormS8, LayerNormS8Config};
pub use mha::{MhaS8Params, MultiHeadAttentionS8, MultiHeadAttentionS8Config};
pub use quantize::{
    encoder_f32_param_len, encoder_s8_storage_len, quantize_encoder, EncoderRanges,
    EncoderS8Storage, EncoderShapeS8,
};

use crate::error::{Buffer, ShapeError};

/// The scratch a layer of this module needs: int8 activations and i32 words (one row of
/// attention scores).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ScratchLen {
    /// Minimum length of [`ScratchS8::bytes`].
    pub bytes: usize,
    /// Minimum length of [`ScratchS8::words`].
    pub words: usize,
}

impl ScratchLen {
    /// Total size in bytes, `bytes + 4·words` (saturating).
    pub fn total_bytes(&self) -> usize {
        self.bytes.saturating_add(self.words.saturating_mul(4))
    }
}

/// Caller-owned scratch memory of a forward pass; longer slices than needed are fine.
#[derive(Debug)]
pub struct ScratchS8<'a> {
    /// int8 intermediate activations.
    pub bytes: &'a mut [i8],
    /// i32 intermediate values.
    pub words: &'a mut [i32],
}

impl ScratchS8<'_> {
    /// Empty scratch, for layers that need none.
    pub fn empty() -> ScratchS8<'static> {
        ScratchS8 {
            bytes: &mut [],
            words: &mut [],
        }
    }
}

/// Checks `scratch` is at least `need`.
fn check_scratch(need: &ScratchLen, scratch: &ScratchS8<'_>) -> Result<(), ShapeError> {
    for (expected, actual) in [
        (need.bytes, scratch.bytes.len()),
        (need.words, scratch.words.len()),
    ] {
        if actual < expected {
            return Err(ShapeError::Length {
                buffer: Buffer::Scratch,
                expected,
                actual,
            });
        }
    }
    Ok(())
}
