//! Ensembles of classifiers: combining members' class probabilities (best member, vote, mean,
//! weighted mean, weighted vote), choosing and weighting members on validation data, and the
//! arithmetic of multiclass AdaBoost (SAMME). No allocation: members are borrowed as
//! `&dyn` [`Classifier`], every buffer belongs to the caller.
//!
//! Members may have different structures (a 3-layer and a 5-layer [`Sequential`], a model whose
//! last layer is a softmax wrapped in [`ProbabilityOutput`], even another [`Ensemble`]); they must
//! agree on [`Classifier::classes`] and [`Classifier::input_len`].
//!
//! Training happens outside this module, in a host (or device) loop over
//! [`Sequential::train_epoch`]; the resampling comes from [`crate::data::sample`]
//! (`bootstrap`, `weighted_bootstrap`). The two recipes:
//!
//! # Bagging
//!
//! ```text
//! for m in 0..M:
//!     data::sample::bootstrap(rng, n, &mut idx)             // n indices drawn with replacement
//!     data::sample::gather_rows / gather_labels(idx) into (x_m, y_m)
//!     init model m (its own parameter buffer), train it with
//!         model_m.train_epoch(x_m, y_m, batch, bufs, rng, softmax_cross_entropy loss, opt)
//!         for some epochs
//! ensemble = Ensemble::new(&[&model_0, …], Combine::Vote or Combine::Mean)
//! ```
//!
//! Optionally weight the members by validation accuracy: [`accuracy`] of each member on held-out
//! data, then [`best_member`] for [`Combine::Best`] or [`accuracy_weights`] for
//! [`Combine::WeightedMean`].
//!
//! # Boosting (SAMME, by resampling)
//!
//! Neural members are trained on a weighted resample instead of with per-sample loss weights:
//!
//! ```text
//! w = [1/n; n]                                              // sample weights, sum 1
//! for m in 0..M:
//!     data::sample::weighted_bootstrap(rng, &w, &mut idx)   // P(i) = w_i
//!     train model m on the rows idx (train_epoch as above)
//!     predict(&model_m, inputs, batch, &mut pred, probs, scratch)   // on the training set
//!     err = weighted_error(&w, &pred, &labels)
//!     alpha[m] = samme_alpha(err, K)
//!     if alpha[m] == 0: drop model m and stop (no better than chance)
//!     samme_reweight(&mut w, &pred, &labels, alpha[m])
//!     if err <= SAMME_MIN_ERROR: stop (the member is perfect; the weights cannot change)
//! ensemble = Ensemble::new(&members, Combine::WeightedVote(&alpha))
//! ```
//!
//! `host-tests/tests/toolkit_digits.rs` runs both recipes on the digits data.
//!
//! The ensemble's decision is then SAMME's `argmax_k Σ_m α_m [h_m(x) = k]` (Zhu, Zou, Rosset,
//! Hastie, "Multi-class AdaBoost", 2009).

mod boost;
mod combine;
mod select;

pub use boost::{samme_alpha, samme_reweight, weighted_error, SAMME_MIN_ERROR};
pub use combine::{Combine, Ensemble};
pub use select::{accuracy, accuracy_weights, best_member, predict, WeightRule};

use crate::error::{Buffer, Error, ShapeError};
use crate::kernels::generic::softmax::softmax_f32;
use crate::layers::{Layer, Sequential};

/// A model that gives class probabilities: the common interface of ensemble members. Object
/// safe, so members of different types combine as `&dyn Classifier`.
///
/// Contract: `scratch_len` never decreases with `batch` (a scratch buffer sized for the largest
/// batch serves every smaller one), and `predict_proba` checks every length before running.
pub trait Classifier {
    /// Number of classes: the width of a probability row.
    fn classes(&self) -> usize;

    /// Input values per sample.
    fn input_len(&self) -> usize;

    /// Minimum scratch length of [`predict_proba`](Self::predict_proba) for `batch` samples.
    fn scratch_len(&self, batch: usize) -> usize;

    /// Class probabilities of a batch (each row non-negative, summing to 1 up to rounding).
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `probs`: `[batch, classes()]`
    /// - `scratch`: at least `scratch_len(batch)`
    ///
    /// # Errors
    /// [`ShapeError::Length`] for a wrong buffer length, [`ShapeError::Dimension`] for
    /// `batch == 0`, or the model's own error.
    fn predict_proba(
        &self,
        batch: usize,
        input: &[f32],
        probs: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error>;
}

/// A [`Sequential`] model is a classifier whose output is **logits**: `predict_proba` runs
/// [`Sequential::forward`] and applies a softmax per row (a row with NaN or +inf gives NaN
/// probabilities). For a model that already ends in a softmax layer use [`ProbabilityOutput`].
///
/// Scratch layout: `[batch * classes]` logits, then the model's own
/// [`Sequential::scratch_len`]`(batch)`.
impl<L: Layer, const N: usize> Classifier for Sequential<L, N> {
    fn classes(&self) -> usize {
        self.output_len()
    }

    fn input_len(&self) -> usize {
        Sequential::input_len(self)
    }

    fn scratch_len(&self, batch: usize) -> usize {
        batch
            .saturating_mul(self.output_len())
            .saturating_add(Sequential::scratch_len(self, batch))
    }

    fn predict_proba(
        &self,
        batch: usize,
        input: &[f32],
        probs: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        let classes = self.output_len();
        let n_out = check_proba_io(self, batch, input.len(), probs.len(), scratch.len())?;
        if classes == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let (logits, rest) = scratch.split_at_mut(n_out);
        self.forward(batch, input, logits, rest)?;
        softmax_f32(classes, logits, probs)?;
        Ok(())
    }
}

/// A model whose output already is class probabilities (it ends in a softmax layer): its output
/// is copied, not passed through another softmax. The outputs are not checked to be
/// probabilities.
///
/// Scratch: the model's own [`Sequential::scratch_len`]`(batch)`.
pub struct ProbabilityOutput<'m, L, const N: usize>(pub &'m Sequential<L, N>);

impl<L: Layer, const N: usize> Classifier for ProbabilityOutput<'_, L, N> {
    fn classes(&self) -> usize {
        self.0.output_len()
    }

    fn input_len(&self) -> usize {
        self.0.input_len()
    }

    fn scratch_len(&self, batch: usize) -> usize {
        self.0.scratch_len(batch)
    }

    fn predict_proba(
        &self,
        batch: usize,
        input: &[f32],
        probs: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        check_proba_io(self, batch, input.len(), probs.len(), scratch.len())?;
        self.0.forward(batch, input, probs, scratch)
    }
}

/// Checks the lengths of a `predict_proba` call on `c`: `batch > 0`, exact input and
/// probability lengths, scratch at least `scratch_len(batch)`. Returns `batch * classes`.
pub(crate) fn check_proba_io<C: Classifier + ?Sized>(
    c: &C,
    batch: usize,
    input: usize,
    probs: usize,
    scratch: usize,
) -> Result<usize, Error> {
    let (_, n_out) = crate::layers::check_io(batch, c.input_len(), c.classes(), input, probs)?;
    let needed = c.scratch_len(batch);
    if scratch < needed {
        return Err(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: needed,
            actual: scratch,
        }
        .into());
    }
    Ok(n_out)
}
