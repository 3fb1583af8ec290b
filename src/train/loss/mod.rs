//! Losses: each returns the batch-mean loss and writes its gradient with respect to the model
//! output (logits or scores), already divided by the batch size, ready for
//! [`Sequential::backward`](crate::layers::Sequential::backward).
//!
//! Conventions shared by every loss here:
//! - Row-major `[batch, classes]` buffers for the multiclass losses, with `labels: &[u32]` giving
//!   the batch size; flat `[n]` buffers for the binary (per-element) losses, where every element
//!   is one sample and the mean is over all `n` elements.
//! - Everything is validated before anything is written: on `Err` the gradient buffer is
//!   untouched. Lengths give [`ShapeError::Length`] (logits/scores/student: `Buffer::Input`,
//!   teacher: `Buffer::Input2`, targets: `Buffer::Targets`, gradient: `Buffer::Output`), a zero
//!   batch or class count gives [`ShapeError::Dimension`], a class label outside `0..classes`
//!   (or a binary label other than 0/1) gives [`Error::Index`], an out-of-domain constant
//!   (smoothing, margin, temperature, soft target outside `[0, 1]`) gives [`Error::Config`].
//! - NaN in the logits gives a NaN loss and NaN gradient entries (never an error, never a panic).
//! - No allocation: every loss works in one or two passes over the caller's buffers.

mod binary;
mod cross_entropy;
mod distillation;
mod hinge;
mod thresholded;

pub use binary::binary_cross_entropy_with_logits;
pub use cross_entropy::{softmax_cross_entropy, softmax_cross_entropy_smoothed};
pub use distillation::{distillation, logit_matching, DistillationLoss};
pub use hinge::{hinge, multiclass_hinge};
pub use thresholded::{
    thresholded_binary_cross_entropy, thresholded_softmax_cross_entropy, ThresholdedConfig,
    ThresholdedLoss,
};

use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::num::math;

/// Mean squared error over every element: `L = mean (y − t)²`, gradient `2 (y − t) / n`.
///
/// # Shapes
/// `output`, `target` and `grad` all have the same length `n > 0`.
///
/// # Errors
/// [`ShapeError`] for mismatched or zero lengths.
pub fn mean_squared_error(output: &[f32], target: &[f32], grad: &mut [f32]) -> Result<f32, Error> {
    if output.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Targets, output.len(), target.len())?;
    check_len(Buffer::Output, output.len(), grad.len())?;
    let inv_n = 1.0 / output.len() as f32;
    let mut total = 0.0f32;
    for ((&y, &t), g) in output.iter().zip(target).zip(grad.iter_mut()) {
        let d = y - t;
        total += d * d;
        *g = 2.0 * d * inv_n;
    }
    Ok(total * inv_n)
}

/// Index of the largest value (the first one on ties; NaN is never chosen unless every value
/// is NaN, then 0). Returns 0 for an empty slice.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    let mut best_value = f32::NAN;
    for (i, &v) in values.iter().enumerate() {
        if i == 0 || v > best_value || best_value.is_nan() && !v.is_nan() {
            best = i;
            best_value = v;
        }
    }
    best
}

/// Validates a `[batch, classes]` problem: `classes` and `batch` non-zero, the product fits in
/// `usize`, and the input and gradient buffers have that length. Returns `batch * classes`.
fn check_rows(classes: usize, batch: usize, input: usize, grad: usize) -> Result<usize, Error> {
    if classes == 0 || batch == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let n = product(&[batch, classes])?;
    check_len(Buffer::Input, n, input)?;
    check_len(Buffer::Output, n, grad)?;
    Ok(n)
}

/// [`Error::Index`] for the first label outside `0..classes`.
fn check_labels(classes: usize, labels: &[u32]) -> Result<(), Error> {
    match labels.iter().position(|&y| y as usize >= classes) {
        Some(position) => Err(Error::Index {
            position,
            len: classes,
        }),
        None => Ok(()),
    }
}

/// Validates a flat `[n]` binary problem: `n > 0`, targets and gradient of length `n`.
fn check_flat(input: usize, targets: usize, grad: usize) -> Result<(), Error> {
    if input == 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Targets, input, targets)?;
    check_len(Buffer::Output, input, grad)?;
    Ok(())
}

/// [`Error::Config`] unless every target lies in `[0, 1]` (NaN is rejected too).
fn check_soft_targets(targets: &[f32]) -> Result<(), Error> {
    if targets.iter().all(|t| (0.0..=1.0).contains(t)) {
        Ok(())
    } else {
        Err(Error::Config)
    }
}

/// `ln(1 + u)` for `u ≥ 0`, accurate also when `u` is far below the f32 epsilon (where
/// `ln(1.0 + u)` would round to 0): the rounding of `w = 1 + u` is undone by the factor
/// `u / (w − 1)` (Goldberg's trick).
fn ln_1p(u: f32) -> f32 {
    let w = 1.0 + u;
    if w == 1.0 {
        u
    } else {
        math::ln(w) * u / (w - 1.0)
    }
}

/// Binary cross-entropy of one logit `z` against a target `y ∈ [0, 1]`, in the form that cannot
/// overflow: `max(z, 0) − z·y + ln(1 + e^{−|z|})`.
fn bce_from_logit(z: f32, y: f32) -> f32 {
    z.max(0.0) - z * y + ln_1p(math::exp(-z.abs()))
}

/// The maximum of a row and `Σ_j e^{(z_j − max)·inv_t}`: the parts of a stable
/// `ln Σ_j e^{z_j·inv_t} = max·inv_t + ln(sum)`.
fn row_max_sum(z: &[f32], inv_t: f32) -> (f32, f32) {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let sum = z.iter().map(|&v| math::exp((v - max) * inv_t)).sum();
    (max, sum)
}
