//! Folding an inference-mode batch norm into the layer before it, for deployment.
//!
//! In inference a batch norm is a per-channel affine map `y = s · (z - mean) + beta` with
//! `s = gamma / sqrt(var + eps)`. When `z` comes from a dense layer or a convolution,
//! `z = W x + b`, the two compose into one layer with `W' = s · W` (each output channel's row
//! scaled) and `b' = s · (b - mean) + beta`, so the deployed model skips the batch norm entirely
//! (and int8 quantization sees the final weights).
//!
//! The functions work on raw slices, so they apply to any layer storing its weights in these
//! layouts. A layer without a bias must be given a zero bias buffer of `channels` values (and then
//! deployed with that bias): the folded layer needs one. Folding uses the running statistics; a
//! negative running variance gives NaN weights.

use super::batch_norm::BatchNorm;
use crate::error::{check_len, Buffer, Error, ShapeError};

/// Folds `bn` into a dense layer with weights `[out, in]` (one row per output) and `bias`
/// `[out]`, where `out` is the batch norm's `channels`.
///
/// # Shapes
/// - `weights`: `[channels, in]`, `in >= 1`
/// - `bias`: `[channels]`
///
/// # Errors
/// [`ShapeError::Length`] with [`Buffer::Weights`] if `weights` is empty or not a multiple of
/// `channels` long (`expected` is then the nearest smaller non-zero multiple, or `channels`), or
/// with [`Buffer::Bias`] if `bias` is not `channels` long. Nothing is written on error.
pub fn fold_into_dense(bn: &BatchNorm, weights: &mut [f32], bias: &mut [f32]) -> Result<(), Error> {
    fold_rows(bn, weights, bias)
}

/// Folds `bn` into a 2-D (or 1-D) convolution with OHWI weights `[out_c, kh, kw, in_c]` and
/// `bias` `[out_c]`, where `out_c` is the batch norm's `channels`: each output channel's filter
/// is scaled as a whole.
///
/// # Shapes
/// - `weights`: `[channels, kh, kw, in_c]` (any number `>= 1` of values per channel)
/// - `bias`: `[channels]`
///
/// # Errors
/// As [`fold_into_dense`].
pub fn fold_into_conv(bn: &BatchNorm, weights: &mut [f32], bias: &mut [f32]) -> Result<(), Error> {
    fold_rows(bn, weights, bias)
}

/// Folds `bn` into a depthwise convolution with weights `[kh, kw, C]` (the output channel is the
/// **last** index, `C = in_c · multiplier`) and `bias` `[C]`, where `C` is the batch norm's
/// `channels`.
///
/// # Shapes
/// - `weights`: `[kh, kw, channels]`
/// - `bias`: `[channels]`
///
/// # Errors
/// As [`fold_into_dense`].
pub fn fold_into_depthwise(
    bn: &BatchNorm,
    weights: &mut [f32],
    bias: &mut [f32],
) -> Result<(), Error> {
    check_fold_buffers(bn, weights.len(), bias.len())?;
    let channels = bn.config().channels;
    for tap in weights.chunks_exact_mut(channels) {
        for (w, (g, _, _, r)) in tap.iter_mut().zip(bn.inference_affine()) {
            *w *= g * r;
        }
    }
    fold_bias(bn, bias);
    Ok(())
}

/// Checks that `weights` is a non-empty multiple of `channels` and `bias` is `channels` long.
fn check_fold_buffers(bn: &BatchNorm, weights: usize, bias: usize) -> Result<(), ShapeError> {
    let channels = bn.config().channels;
    if weights == 0 || !weights.is_multiple_of(channels) {
        let below = weights - weights % channels;
        return Err(ShapeError::Length {
            buffer: Buffer::Weights,
            expected: if below == 0 { channels } else { below },
            actual: weights,
        });
    }
    check_len(Buffer::Bias, channels, bias)
}

/// Scales each of the `channels` equal rows of `weights` by its channel's `s`, then folds the
/// bias.
fn fold_rows(bn: &BatchNorm, weights: &mut [f32], bias: &mut [f32]) -> Result<(), Error> {
    check_fold_buffers(bn, weights.len(), bias.len())?;
    let row_len = weights.len() / bn.config().channels;
    for (row, (g, _, _, r)) in weights.chunks_exact_mut(row_len).zip(bn.inference_affine()) {
        let s = g * r;
        row.iter_mut().for_each(|w| *w *= s);
    }
    fold_bias(bn, bias);
    Ok(())
}

/// `b' = s · (b - mean) + beta` per channel (`bias` already checked to be `channels` long).
fn fold_bias(bn: &BatchNorm, bias: &mut [f32]) {
    for (b, (g, beta, m, r)) in bias.iter_mut().zip(bn.inference_affine()) {
        *b = g * r * (*b - m) + beta;
    }
}
