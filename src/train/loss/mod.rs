//! Losses: each returns the batch-mean loss and writes its gradient with respect to the model
//! output, ready for [`Sequential::backward`](crate::layers::Sequential::backward).

use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::num::math;

/// Softmax cross-entropy over logits, fused and numerically stable (the maximum logit is
/// subtracted before exponentiating): `L = mean_b [ln Σ_j e^{z_bj} − z_{b,y_b}]`, with gradient
/// `(softmax(z_b) − onehot(y_b)) / batch`.
///
/// # Shapes
/// - `logits`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad`: `[batch, classes]`
///
/// # Errors
/// [`ShapeError`] for mismatched lengths or `classes == 0`; [`Error::Index`] for a label outside
/// `0..classes` (nothing written).
pub fn softmax_cross_entropy(
    classes: usize,
    logits: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    if classes == 0 || labels.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    let batch = labels.len();
    check_len(Buffer::Input, batch * classes, logits.len())?;
    check_len(Buffer::Output, batch * classes, grad.len())?;
    if let Some(position) = labels.iter().position(|&y| y as usize >= classes) {
        return Err(Error::Index {
            position,
            len: classes,
        });
    }
    let inv_batch = 1.0 / batch as f32;
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
        // ln Σ e^{z_j} − z_y, with the maximum taken out of the sum.
        total += math::ln(sum) + max - z[y];
        g[y] -= inv_batch;
    }
    Ok(total * inv_batch)
}

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
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] || values[best].is_nan() && !v.is_nan() {
            best = i;
        }
    }
    best
}
