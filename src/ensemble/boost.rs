//! The arithmetic of SAMME, multiclass AdaBoost (Zhu, Zou, Rosset, Hastie, "Multi-class
//! AdaBoost", 2009): a member's weighted error, its weight `α`, and the sample reweighting.

use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::num::math;

/// The smallest weighted error [`samme_alpha`] uses: a perfect member (error 0) gets the finite
/// weight `ln((1 − 1e-6) / 1e-6) + ln(K − 1) ≈ 13.8 + ln(K − 1)` instead of infinity.
pub const SAMME_MIN_ERROR: f32 = 1e-6;

/// SAMME member weight: `α = ln((1 − err) / err) + ln(K − 1)` for `K = classes`.
///
/// Edge cases:
/// - `err ≥ 1 − 1/K` (no better than guessing): returns `0`, meaning *discard the member*; its
///   vote would count nothing and [`samme_reweight`] with `α = 0` leaves the weights unchanged.
///   SAMME (and scikit-learn) stop boosting there.
/// - `err < SAMME_MIN_ERROR` (a perfect member): `err` is clamped to [`SAMME_MIN_ERROR`], giving
///   a large finite `α`; reweighting cannot change anything afterwards (no sample is
///   misclassified), so boosting stops after this member.
///
/// # Errors
/// [`Error::Config`] if `classes < 2` or `err` is NaN or outside `[0, 1]`.
pub fn samme_alpha(err: f32, classes: usize) -> Result<f32, Error> {
    if classes < 2 || !(0.0..=1.0).contains(&err) {
        return Err(Error::Config);
    }
    let k = classes as f32;
    if err >= 1.0 - 1.0 / k {
        return Ok(0.0);
    }
    let e = err.max(SAMME_MIN_ERROR);
    // Rounding just below the chance level could make the sum a tiny negative number.
    Ok((math::ln((1.0 - e) / e) + math::ln(k - 1.0)).max(0.0))
}

/// Weighted error of a member: `err = Σ_i w_i [pred_i ≠ y_i] / Σ_i w_i`.
///
/// # Shapes
/// `weights`, `predictions`, `labels`: `[samples]`.
///
/// # Errors
/// [`ShapeError::Dimension`] for no samples; [`ShapeError::Length`] naming `Output`
/// (`predictions`) or `Targets` (`labels`) when their length differs from `weights`;
/// [`Error::Config`] for a negative or non-finite weight or weights summing to 0.
pub fn weighted_error(weights: &[f32], predictions: &[u32], labels: &[u32]) -> Result<f32, Error> {
    let (_, missed) = check_and_split(weights, predictions, labels)?;
    let total: f32 = weights.iter().sum();
    Ok(missed / total)
}

/// SAMME reweighting: every misclassified sample's weight is multiplied by `e^α`, then the
/// weights are normalised to sum 1: `w_i ← w_i e^{α [pred_i ≠ y_i]} / Z`.
///
/// Computed from the sums of correct (`C`) and missed (`M`) weight without forming `e^α`
/// where it could overflow: for `α ≥ 0`, missed weights are scaled by `1 / (C e^{−α} + M)` and
/// correct ones by `e^{−α}` times that; for `α < 0` symmetrically. If no weight was missed (or
/// none correct) the weights are only normalised.
///
/// # Shapes
/// `weights`, `predictions`, `labels`: `[samples]`.
///
/// # Errors
/// As [`weighted_error`], plus [`Error::Config`] for a non-finite `alpha`. Nothing is written
/// on error.
pub fn samme_reweight(
    weights: &mut [f32],
    predictions: &[u32],
    labels: &[u32],
    alpha: f32,
) -> Result<(), Error> {
    if !alpha.is_finite() {
        return Err(Error::Config);
    }
    let (correct, missed) = check_and_split(weights, predictions, labels)?;
    let (scale_correct, scale_missed) = if missed == 0.0 {
        (1.0 / correct, 0.0)
    } else if correct == 0.0 {
        (0.0, 1.0 / missed)
    } else if alpha >= 0.0 {
        let down = math::exp(-alpha);
        let m = 1.0 / (correct * down + missed);
        (down * m, m)
    } else {
        let down = math::exp(alpha);
        let c = 1.0 / (correct + missed * down);
        (c, down * c)
    };
    for ((w, p), y) in weights.iter_mut().zip(predictions).zip(labels) {
        *w *= if p == y { scale_correct } else { scale_missed };
    }
    Ok(())
}

/// Validates the SAMME inputs; returns the total weight of correct and of missed samples.
fn check_and_split(
    weights: &[f32],
    predictions: &[u32],
    labels: &[u32],
) -> Result<(f32, f32), Error> {
    if weights.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Output, weights.len(), predictions.len())?;
    check_len(Buffer::Targets, weights.len(), labels.len())?;
    let (mut correct, mut missed) = (0.0f32, 0.0f32);
    for ((&w, p), y) in weights.iter().zip(predictions).zip(labels) {
        if !(w.is_finite() && w >= 0.0) {
            return Err(Error::Config);
        }
        if p == y {
            correct += w;
        } else {
            missed += w;
        }
    }
    let total = correct + missed;
    if !(total.is_finite() && total > 0.0) {
        return Err(Error::Config);
    }
    Ok((correct, missed))
}
