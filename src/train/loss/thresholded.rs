//! Thresholded cross-entropy: samples already on their side of a margin give no loss and no
//! gradient, so training spends its updates on the ones still wrong or unsure.

use super::{bce_from_logit, check_flat, check_labels, check_rows, check_soft_targets};
use crate::error::Error;
use crate::num::math;

/// Settings of the thresholded losses.
///
/// With `smooth_k = None` the sample weight is the hard
/// `λ(y, ŷ) = 1 − θ(y − m)·θ(ŷ − m) − θ(1 − m − y)·θ(1 − m − ŷ)` (θ the unit step, `θ(0) = 0`),
/// so a sample with `y > m` and `ŷ > m`, or `y < 1 − m` and `ŷ < 1 − m`, has `λ = 0`; every other
/// sample has `λ = 1`. With `smooth_k = Some(K)` every θ(x) is replaced by `σ(K·x)`, giving a
/// weight in `[0, 1]` that approaches the hard one as `K` grows.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThresholdedConfig {
    /// The margin `m`, in `[0.5, 1]`. `m = 1` never skips anything (the hard variant is then
    /// plain cross-entropy); `m = 0.5` skips every sample already on the right side of 0.5.
    /// Below 0.5 the two skip regions would cover wrongly classified samples, so it is rejected.
    pub margin: f32,
    /// `None` for the hard step; `Some(K)`, `K` finite and `> 0`, for the smooth step `σ(K·x)`.
    pub smooth_k: Option<f32>,
}

impl Default for ThresholdedConfig {
    /// `margin = 0.6`, hard step.
    fn default() -> Self {
        Self {
            margin: 0.6,
            smooth_k: None,
        }
    }
}

impl ThresholdedConfig {
    /// [`Error::Config`] unless `0.5 ≤ margin ≤ 1` and `smooth_k` is `None` or finite and `> 0`.
    pub fn validate(&self) -> Result<(), Error> {
        let k_ok = match self.smooth_k {
            None => true,
            Some(k) => k.is_finite() && k > 0.0,
        };
        if (0.5..=1.0).contains(&self.margin) && k_ok {
            Ok(())
        } else {
            Err(Error::Config)
        }
    }

    /// The sample weight `λ(y, ŷ)` for target `y` and predicted probability `ŷ` (see the type's
    /// docs). In `[0, 1]` for `m ≥ 0.5` (the two subtracted products cannot sum above 1 because
    /// their first factors' arguments sum to `K(1 − 2m) ≤ 0`). NaN `ŷ` gives NaN.
    pub fn weight(&self, y: f32, y_hat: f32) -> f32 {
        let m = self.margin;
        match self.smooth_k {
            None => {
                let mut w = 1.0;
                if y > m && y_hat > m {
                    w -= 1.0;
                }
                if y < 1.0 - m && y_hat < 1.0 - m {
                    w -= 1.0;
                }
                if y_hat.is_nan() {
                    f32::NAN
                } else {
                    w
                }
            }
            Some(k) => {
                let step = |x: f32| math::sigmoid(k * x);
                let w =
                    1.0 - step(y - m) * step(y_hat - m) - step(1.0 - m - y) * step(1.0 - m - y_hat);
                // Rounding may leave a tiny negative value where the exact weight is 0.
                if w < 0.0 {
                    0.0
                } else {
                    w
                }
            }
        }
    }
}

/// Result of a thresholded loss.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ThresholdedLoss {
    /// The weighted loss, summed over all samples and divided by the full batch size (skipped
    /// samples count in the denominator).
    pub loss: f32,
    /// Samples whose weight `λ` is exactly 0: no loss, gradient row exactly 0. With the hard step
    /// these are the samples past the margin; with the smooth step only those where `σ` saturates.
    pub skipped: usize,
}

/// Thresholded binary cross-entropy on logits, `ŷ = σ(z)`, one sample per element:
///
/// `L = (1/n) Σ_i λ(y_i, ŷ_i)·BCE(z_i, y_i)`, with `BCE = max(z, 0) − z·y + ln(1 + e^{−|z|})`
/// and λ from [`ThresholdedConfig`]; gradient `λ(y_i, ŷ_i)·(ŷ_i − y_i) / n`.
///
/// The weight λ is treated as a constant (stop-gradient): the gradient does not include
/// `dλ/dz`. For the hard step this is exact away from the margin; for the smooth step it is the
/// usual practice (the weight decides how much a sample counts, not which way it moves).
/// Targets may be soft (`[0, 1]`); with hard 0/1 labels and `margin = 1` this is exactly
/// [`binary_cross_entropy_with_logits`](super::binary_cross_entropy_with_logits).
///
/// # Shapes
/// `logits`, `targets` and `grad` all have length `n > 0`.
///
/// # Errors
/// [`Error::Config`] for a config outside its domain ([`ThresholdedConfig::validate`]) or a
/// target outside `[0, 1]`; [`ShapeError`](crate::ShapeError) for `n == 0` or mismatched
/// lengths. Nothing is written on error. A NaN logit gives NaN loss and gradient entry.
pub fn thresholded_binary_cross_entropy(
    config: &ThresholdedConfig,
    logits: &[f32],
    targets: &[f32],
    grad: &mut [f32],
) -> Result<ThresholdedLoss, Error> {
    config.validate()?;
    check_flat(logits.len(), targets.len(), grad.len())?;
    check_soft_targets(targets)?;
    let inv_n = 1.0 / logits.len() as f32;
    let mut total = 0.0f32;
    let mut skipped = 0;
    for ((&z, &y), g) in logits.iter().zip(targets).zip(grad.iter_mut()) {
        let y_hat = math::sigmoid(z);
        let w = config.weight(y, y_hat);
        if w == 0.0 {
            skipped += 1;
            *g = 0.0;
            continue;
        }
        total += w * bce_from_logit(z, y);
        *g = w * (y_hat - y) * inv_n;
    }
    Ok(ThresholdedLoss {
        loss: total * inv_n,
        skipped,
    })
}

/// Thresholded softmax cross-entropy: each sample is weighted by `λ = weight(1, p_y)` from
/// [`ThresholdedConfig::weight`], `p_y = softmax(z)_y` its true-class probability:
///
/// `L = (1/batch) Σ_b λ_b·[ln Σ_j e^{z_bj} − z_{b,y_b}]`, gradient `λ_b (softmax(z_b) − onehot(y_b)) / batch`.
///
/// With the hard step `λ = 1 − θ(p_y − m)`: a sample with `p_y > m` is skipped, every other one
/// gets plain cross-entropy (`margin = 1` gives exactly
/// [`softmax_cross_entropy`](super::softmax_cross_entropy)). With the smooth step
/// `λ = 1 − σ(K(1 − m))σ(K(p_y − m)) − σ(−Km)σ(K(1 − m − p_y))`, the binary formula at `y = 1`,
/// so two classes behave as the binary loss on the logit difference. λ is a constant weight
/// (stop-gradient), as in the binary form.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad`: `[batch, classes]`
///
/// # Errors
/// [`Error::Config`] for a config outside its domain; [`ShapeError`](crate::ShapeError) for
/// mismatched lengths, `classes == 0` or an empty batch; [`Error::Index`] for a label outside
/// `0..classes`. Nothing is written on error. NaN in a row gives NaN loss and NaN in that row's
/// gradient.
pub fn thresholded_softmax_cross_entropy(
    config: &ThresholdedConfig,
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<ThresholdedLoss, Error> {
    config.validate()?;
    let batch = labels.len();
    check_rows(classes, batch, logits.len(), grad.len())?;
    check_labels(classes, labels)?;
    let inv_batch = 1.0 / batch as f32;
    let mut total = 0.0f32;
    let mut skipped = 0;
    for ((z, g), &y) in logits
        .chunks_exact(classes)
        .zip(grad.chunks_exact_mut(classes))
        .zip(labels)
    {
        let y = y as usize;
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0f32;
        for (g, &v) in g.iter_mut().zip(z) {
            *g = math::exp(v - max);
            sum += *g;
        }
        let inv_sum = 1.0 / sum;
        let (Some(&z_y), Some(&e_y)) = (z.get(y), g.get(y)) else {
            continue; // unreachable: labels were checked against `classes`
        };
        let w = config.weight(1.0, e_y * inv_sum);
        if w == 0.0 {
            skipped += 1;
            g.fill(0.0);
            continue;
        }
        let scale = w * inv_sum * inv_batch;
        for g in g.iter_mut() {
            *g *= scale;
        }
        if let Some(g_y) = g.get_mut(y) {
            *g_y -= w * inv_batch;
        }
        total += w * (math::ln(sum) + max - z_y);
    }
    Ok(ThresholdedLoss {
        loss: total * inv_batch,
        skipped,
    })
}
