//! Running a classifier over a data set, and choosing or weighting members from their
//! validation accuracy.

use super::{boost::samme_alpha, Classifier};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::train::loss::argmax;

/// How [`accuracy_weights`] turns validation accuracies `a_m` into weights (normalised to sum 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WeightRule {
    /// `w_m ∝ a_m`: a gentle preference for the better members.
    Proportional,
    /// `w_m ∝ max(0, ln(a_m / (1 − a_m)) + ln(K − 1))`, the SAMME weight of a member with error
    /// `1 − a_m` ([`samme_alpha`]): members no better than chance (`a_m ≤ 1/K`) get 0, a perfect
    /// member gets the finite weight of error [`SAMME_MIN_ERROR`](super::SAMME_MIN_ERROR).
    LogOdds {
        /// Number of classes `K` (at least 2).
        classes: usize,
    },
}

/// Predicted class (argmax of the probabilities, lowest index on ties) of every sample, run in
/// batches of `batch_size` (the last may be smaller).
///
/// # Shapes
/// - `inputs`: `[samples, input_len()]`, `samples = predictions.len()`
/// - `predictions`: `[samples]`
/// - `probs`: at least `b * classes()` with `b = min(batch_size, samples)`
/// - `scratch`: at least `clf.scratch_len(b)`
///
/// # Errors
/// [`ShapeError::Dimension`] for no samples or `batch_size == 0`; [`ShapeError::Length`] naming
/// `Input`, `Output` (for `probs`) or `Scratch` (checked before anything is written); a
/// classifier's error (then earlier batches' predictions are written).
pub fn predict<C: Classifier + ?Sized>(
    clf: &C,
    inputs: &[f32],
    batch_size: usize,
    predictions: &mut [u32],
    probs: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    let samples = predictions.len();
    let mut out = predictions.iter_mut();
    for_each_prediction(clf, inputs, samples, batch_size, probs, scratch, |_, k| {
        if let Some(p) = out.next() {
            *p = k as u32;
        }
    })
}

/// Fraction of samples whose predicted class (as [`predict`]) equals the label.
///
/// # Shapes
/// As [`predict`], with `labels: [samples]` in place of `predictions`.
///
/// # Errors
/// As [`predict`], plus [`Error::Index`] for a label outside `0..classes()` (checked first).
pub fn accuracy<C: Classifier + ?Sized>(
    clf: &C,
    inputs: &[f32],
    labels: &[u32],
    batch_size: usize,
    probs: &mut [f32],
    scratch: &mut [f32],
) -> Result<f32, Error> {
    let classes = clf.classes();
    if let Some(position) = labels.iter().position(|&y| y as usize >= classes) {
        return Err(Error::Index {
            position,
            len: classes,
        });
    }
    let mut correct = 0usize;
    for_each_prediction(
        clf,
        inputs,
        labels.len(),
        batch_size,
        probs,
        scratch,
        |i, k| {
            if labels.get(i).is_some_and(|&y| y as usize == k) {
                correct += 1;
            }
        },
    )?;
    Ok(correct as f32 / labels.len() as f32)
}

/// Index of the member with the highest accuracy (the lowest index on ties).
///
/// # Errors
/// [`ShapeError::Dimension`] for an empty slice; [`Error::Config`] if an accuracy is NaN.
pub fn best_member(accuracies: &[f32]) -> Result<usize, Error> {
    if accuracies.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    if accuracies.iter().any(|a| a.is_nan()) {
        return Err(Error::Config);
    }
    Ok(argmax(accuracies))
}

/// Member weights from validation accuracies by `rule`, normalised to sum 1, for
/// [`Combine::WeightedMean`](super::Combine::WeightedMean) or
/// [`Combine::WeightedVote`](super::Combine::WeightedVote).
///
/// # Shapes
/// `accuracies` and `weights`: `[members]`.
///
/// # Errors
/// [`ShapeError::Dimension`] for no members; [`ShapeError::Length`] (`Weights`) if the lengths
/// differ; [`Error::Config`] for an accuracy outside `[0, 1]` (or NaN), `classes < 2`, or all
/// weights 0 (every member at or below chance, or every accuracy 0). Nothing written on error.
pub fn accuracy_weights(
    accuracies: &[f32],
    rule: WeightRule,
    weights: &mut [f32],
) -> Result<(), Error> {
    if accuracies.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Weights, accuracies.len(), weights.len())?;
    if accuracies.iter().any(|a| !(0.0..=1.0).contains(a)) {
        return Err(Error::Config);
    }
    let raw = |a: f32| -> Result<f32, Error> {
        match rule {
            WeightRule::Proportional => Ok(a),
            WeightRule::LogOdds { classes } => samme_alpha(1.0 - a, classes),
        }
    };
    let mut total = 0.0f32;
    for &a in accuracies {
        total += raw(a)?;
    }
    if !(total.is_finite() && total > 0.0) {
        return Err(Error::Config);
    }
    for (w, &a) in weights.iter_mut().zip(accuracies) {
        *w = raw(a)? / total;
    }
    Ok(())
}

/// Runs `clf` over `samples` samples in batches and calls `f(sample, predicted_class)`.
fn for_each_prediction<C: Classifier + ?Sized>(
    clf: &C,
    inputs: &[f32],
    samples: usize,
    batch_size: usize,
    probs: &mut [f32],
    scratch: &mut [f32],
    mut f: impl FnMut(usize, usize),
) -> Result<(), Error> {
    if samples == 0 || batch_size == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let (per_sample, classes) = (clf.input_len(), clf.classes());
    let n_in = samples
        .checked_mul(per_sample)
        .ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, n_in, inputs.len())?;
    let b = batch_size.min(samples);
    let n_probs = b.checked_mul(classes).ok_or(ShapeError::Dimension)?;
    at_least(Buffer::Output, n_probs, probs.len())?;
    at_least(Buffer::Scratch, clf.scratch_len(b), scratch.len())?;
    if per_sample == 0 || classes == 0 {
        return Err(ShapeError::Dimension.into());
    }
    let mut sample = 0;
    for x in inputs.chunks(b * per_sample) {
        let batch = x.len() / per_sample;
        let p = &mut probs[..batch * classes];
        clf.predict_proba(batch, x, p, scratch)?;
        for row in p.chunks_exact(classes) {
            f(sample, argmax(row));
            sample += 1;
        }
    }
    Ok(())
}

/// `Ok` if a buffer of length `actual` holds at least `needed` values.
fn at_least(buffer: Buffer, needed: usize, actual: usize) -> Result<(), ShapeError> {
    if actual < needed {
        Err(ShapeError::Length {
            buffer,
            expected: needed,
            actual,
        })
    } else {
        Ok(())
    }
}
