//! int8 attention and transformer inference: integer layer norm, multi-head self-attention and
//! the pre-LN encoder block, with caller-owned scratch.
//!
//! | Piece | Arithmetic | Scratch |
//! |---|---|---|
//! | [`LayerNormS8`] | integer mean, variance and [`isqrt`](crate::num::isqrt), gamma/beta folded into int32 multipliers and int64 offsets ([`layer_norm_s8`](crate::kernels::generic::layer_norm_s8)) | none |
//! | one attention head | exact i32 scores, `1/√d` folded into the Q5.26 scaling, gemmlowp exp, Q0.15 probabilities, i32 `P·V`, TFLite requantizer ([`attention_s8`](crate::kernels::generic::attention_s8)) | `seq` words |
//! | [`MultiHeadAttentionS8`] | four [`DenseS8`](crate::layers::s8::DenseS8) projections (per-channel weights) around the heads | `3·seq·width` bytes + `seq` words |
//! | [`TransformerEncoderS8`] | LN1 → MHA → int8 add (TFLite ADD) → LN2 → dense W1 → GELU table → dense W2 → int8 add | `seq·width + max(3·seq·width, seq·(ff + width))` bytes + `seq` words |
//!
//! Parameters follow the f32 layout (dense weights `[out, in]`; MHA `Wq, bq, Wk, bk, Wv, bv,
//! Wo, bo`; encoder `ln1.gamma, ln1.beta, <mha>, ln2.gamma, ln2.beta, W1, b1, W2, b2`);
//! [`quantize_encoder`] turns them and calibrated activation ranges into
//! [`EncoderS8Params`]. Activations are `[batch, seq, width]` row-major; samples run one after
//! the other, so scratch does not grow with the batch.
//!
//! # Accuracy (host tests, fixed seeds)
//!
//! - Layer norm: every output equals `quantize(f64 layer norm of the dequantized input)` in the
//!   tests (widths 1 to 300); asserted within 1 step.
//! - Attention head: probabilities within 1/32768 of the f64 softmax of the dequantized scores
//!   (asserted 2/32768); outputs within 1 step of `quantize(f64 attention)` (0.503 steps of the
//!   exact real value); masked keys get probability 0 exactly.
//! - Encoder block, Xavier-uniform weights, inputs uniform in `[-2, 2)`, 16 samples, against the
//!   f64 block on the dequantized input, in output steps (a step is about 0.031 to 0.038):
//!
//! | (seq, width, heads, ff) | mask | calibrated on the samples: max / mean | calibrated on 64 other samples: max / mean |
//! |---|---|---|---|
//! | (8, 16, 2, 32) | none | 2.20 / 0.48 (0.069 / 0.015 real) | 3.57 / 0.50 (0.119 / 0.017 real) |
//! | (8, 32, 2, 64) | none | 2.39 / 0.51 (0.074 / 0.016 real) | 8.87 / 0.52 (0.295 / 0.017 real) |
//! | (8, 16, 2, 32) | causal | 2.32 / 0.54 (0.077 / 0.018 real) | 7.68 / 0.51 (0.281 / 0.019 real) |
//! | (8, 32, 2, 64) | causal, 5 valid | 2.40 / 0.54 (0.088 / 0.020 real) | 27.98 / 0.55 (1.063 / 0.021 real) |
//!
//!   Asserted: max 3.5 and mean 0.7 steps with calibration on the samples; mean 0.7 and max 32
//!   steps held out. The large held-out maxima come from the few activations beyond the
//!   calibrated ranges, which int8 clips; the arithmetic itself stays within about 2.5 steps.
//!
//! # Memory (bytes)
//!
//! | (seq, width, heads, ff) | MHA scratch | encoder scratch | int8 params (weights + bias + requant + LN) |
//! |---|---|---|---|
//! | (8, 16, 2, 32) | 384 + 32 = 416 | 512 + 32 = 544 | 2048 + 448 + 896 + 384 = 3776 |
//! | (8, 32, 2, 64) | 768 + 32 = 800 | 1024 + 32 = 1056 | 8192 + 896 + 1792 + 768 = 11648 |
//!
//! The encoder struct also owns its 256-byte GELU table.

mod encoder;
mod layer_norm;
mod mha;
mod position;
mod quantize;

pub use crate::kernels::generic::attention_s8::AttentionMask;
pub use encoder::{
    EncoderQuantS8, EncoderS8Params, EncoderS8ParamsLen, TransformerEncoderS8,
    TransformerEncoderS8Config,
};
pub use layer_norm::{LayerNormS8, LayerNormS8Config};
pub use mha::{MhaS8Params, MultiHeadAttentionS8, MultiHeadAttentionS8Config};
pub use position::{PositionalAddS8, PositionalAddS8Config};
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
