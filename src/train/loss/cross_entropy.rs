//! Softmax cross-entropy, plain and with label smoothing.

use super::{check_labels, check_rows};
use crate::error::Error;
use crate::num::math;

/// Softmax cross-entropy over logits, fused and numerically stable (the maximum logit is
/// subtracted before exponentiating): `L = mean_b [ln Σ_j e^{z_bj} − z_{b,y_b}]`, with gradient
/// `(softmax(z_b) − onehot(y_b)) / batch`.
///
/// Same result, bit for bit, as [`softmax_cross_entropy_smoothed`] with `smoothing = 0`.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad`: `[batch, classes]`
///
/// # Errors
/// [`ShapeError`](crate::ShapeError) for mismatched lengths or `classes == 0` or an empty
/// batch; [`Error::Index`] for a label outside `0..classes` (nothing written).
pub fn softmax_cross_entropy(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    cross_entropy(classes, 0.0, logits, labels, grad)
}

/// Softmax cross-entropy against label-smoothed targets `t = (1 − ε)·onehot(y) + ε/K`
/// (`K = classes`, `ε = smoothing`):
///
/// `L = mean_b Σ_j −t_bj ln softmax(z_b)_j = mean_b [ln Σ_j e^{z_bj} − (1 − ε) z_{b,y_b} − (ε/K) Σ_j z_bj]`,
///
/// gradient `(softmax(z_b) − t_b) / batch`. Evaluated with the maximum logit taken out of the
/// sum, so any finite logits give a finite loss.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad`: `[batch, classes]`
///
/// # Errors
/// [`Error::Config`] unless `0 ≤ smoothing < 1`; [`ShapeError`](crate::ShapeError) for
/// mismatched lengths, `classes == 0` or an empty batch; [`Error::Index`] for a label outside
/// `0..classes`. Nothing is written on error.
pub fn softmax_cross_entropy_smoothed(
    classes: usize,
    smoothing: f32,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    if !(0.0..1.0).contains(&smoothing) {
        return Err(Error::Config);
    }
    cross_entropy(classes, smoothing, logits, labels, grad)
}

/// The shared body; `smoothing` is already validated.
fn cross_entropy(
    classes: usize,
    smoothing: f32,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    let batch = labels.len();
    check_rows(classes, batch, logits.len(), grad.len())?;
    check_labels(classes, labels)?;
    let inv_batch = 1.0 / batch as f32;
    let uniform = smoothing / classes as f32;
    let mut total = 0.0f32;
    for ((z, g), &y) in logits
        .chunks_exact(classes)
        .zip(grad.chunks_exact_mut(classes))
        .zip(labels)
    {
        let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0f32;
        for (g, &v) in g.iter_mut().zip(z) {
            *g = math::exp(v - max);
            sum += *g;
        }
        let inv_sum = 1.0 / sum;
        for g in g.iter_mut() {
            *g *= inv_sum * inv_batch;
        }
        let y = y as usize;
        let (Some(&z_y), Some(g_y)) = (z.get(y), g.get_mut(y)) else {
            continue; // unreachable: labels were checked against `classes`
        };
        // ln Σ e^{z_j} − z_y, with the maximum taken out of the sum.
        total += math::ln(sum) + max - z_y;
        if smoothing == 0.0 {
            *g_y -= inv_batch;
        } else {
            // The smoothed target moves ε of the mass from the label to all classes evenly;
            // the logits enter relative to the maximum so huge logits do not cancel badly.
            *g_y -= (1.0 - smoothing) * inv_batch;
            total += smoothing * (z_y - max);
            let mut spread = 0.0f32;
            for (g, &v) in g.iter_mut().zip(z) {
                *g -= uniform * inv_batch;
                spread += v - max;
            }
            total -= uniform * spread;
        }
    }
    Ok(total * inv_batch)
}
