//! Hinge losses (binary and Weston–Watkins multiclass).

use super::{check_flat, check_labels, check_rows};
use crate::error::Error;

/// Binary hinge loss on raw scores `s`, with labels `l ∈ {0, 1}` mapped to `y = 2l − 1 ∈ {−1, +1}`
/// (the same 0/1 targets the cross-entropy losses take):
///
/// `L = mean_i max(0, 1 − y_i·s_i)`, gradient `−y_i / n` where `1 − y_i·s_i > 0`, else 0.
///
/// Subgradient at the kink: a sample exactly on the margin (`y·s = 1`) counts as satisfied and
/// gets gradient 0.
///
/// # Shapes
/// `scores`, `labels` and `grad` all have length `n > 0`.
///
/// # Errors
/// [`ShapeError`](crate::ShapeError) for `n == 0` or mismatched lengths; [`Error::Index`]
/// `{ position, len: 2 }` for a label that is not exactly `0.0` or `1.0`. Nothing is written on
/// error.
///
/// A NaN score gives a NaN loss and a NaN gradient entry.
pub fn hinge(scores: &[f32], labels: &[f32], grad: &mut [f32]) -> Result<f32, Error> {
    check_flat(scores.len(), labels.len(), grad.len())?;
    if let Some(position) = labels.iter().position(|&l| l != 0.0 && l != 1.0) {
        return Err(Error::Index { position, len: 2 });
    }
    let inv_n = 1.0 / scores.len() as f32;
    let mut total = 0.0f32;
    for ((&s, &l), g) in scores.iter().zip(labels).zip(grad.iter_mut()) {
        let y = 2.0 * l - 1.0;
        let slack = 1.0 - y * s;
        if slack > 0.0 {
            total += slack;
            *g = -y * inv_n;
        } else if slack.is_nan() {
            // `slack > 0` is false for NaN: pass it on explicitly instead of hiding it.
            total += slack;
            *g = slack;
        } else {
            *g = 0.0;
        }
    }
    Ok(total * inv_n)
}

/// Multiclass hinge loss in the Weston–Watkins form (the "multiclass SVM" loss: every wrong
/// class must trail the true class by a margin of 1):
///
/// `L = mean_b Σ_{j ≠ y_b} max(0, 1 + s_bj − s_{b,y_b})`.
///
/// Gradient: each active term (`1 + s_j − s_y > 0`) adds `1/batch` to `s_j` and `−1/batch` to
/// `s_y`. Subgradient at the kink: a term exactly at 0 is inactive (contributes no gradient).
///
/// # Shapes
/// - `scores`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad`: `[batch, classes]`
///
/// # Errors
/// [`ShapeError`](crate::ShapeError) for mismatched lengths, `classes == 0` or an empty batch;
/// [`Error::Index`] for a label outside `0..classes`. Nothing is written on error.
///
/// NaN in a row gives a NaN loss and NaN in that row's gradient.
pub fn multiclass_hinge(
    classes: usize,
    scores: &[f32],
    labels: &[u32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    let batch = labels.len();
    check_rows(classes, batch, scores.len(), grad.len())?;
    check_labels(classes, labels)?;
    let inv_batch = 1.0 / batch as f32;
    let mut total = 0.0f32;
    for ((s, g), &y) in scores
        .chunks_exact(classes)
        .zip(grad.chunks_exact_mut(classes))
        .zip(labels)
    {
        let y = y as usize;
        let Some(&s_y) = s.get(y) else {
            continue; // unreachable: labels were checked against `classes`
        };
        // 0, or NaN when the row holds a NaN (comparisons would silently drop it).
        let nan = if s.iter().any(|v| v.is_nan()) {
            f32::NAN
        } else {
            0.0
        };
        let mut active = 0.0f32;
        for (j, (g, &s_j)) in g.iter_mut().zip(s).enumerate() {
            let term = 1.0 + s_j - s_y;
            *g = nan;
            if j != y && term > 0.0 {
                total += term;
                *g += inv_batch;
                active += 1.0;
            }
        }
        total += nan;
        if let Some(g_y) = g.get_mut(y) {
            *g_y -= active * inv_batch;
        }
    }
    Ok(total * inv_batch)
}
