//! Binary cross-entropy on logits.

use super::{bce_from_logit, check_flat, check_soft_targets};
use crate::error::Error;
use crate::num::math;

/// Binary cross-entropy on logits (sigmoid fused in), one independent binary problem per
/// element, in the numerically stable form
///
/// `L = mean_i [max(z_i, 0) − z_i·y_i + ln(1 + e^{−|z_i|})]`  (`= −y ln σ(z) − (1 − y) ln(1 − σ(z))`),
///
/// gradient `(σ(z_i) − y_i) / n`. Targets may be soft (any value in `[0, 1]`). For a multi-label
/// output `[batch, k]` the mean is over all `batch·k` elements (as in PyTorch's
/// `BCEWithLogitsLoss`); multiply loss and gradient by `k` for a per-sample sum.
///
/// Logits of any finite size give finite results: at `z = ±1000` the loss is `1000·(1 − y)` resp.
/// `1000·y` and the gradient `(1 − y)/n` resp. `−y/n`.
///
/// # Shapes
/// `logits`, `targets` and `grad` all have length `n > 0`.
///
/// # Errors
/// [`ShapeError`](crate::ShapeError) for `n == 0` or mismatched lengths; [`Error::Config`] for a
/// target outside `[0, 1]` or NaN. Nothing is written on error.
pub fn binary_cross_entropy_with_logits(
    logits: &[f32],
    targets: &[f32],
    grad: &mut [f32],
) -> Result<f32, Error> {
    check_flat(logits.len(), targets.len(), grad.len())?;
    check_soft_targets(targets)?;
    let inv_n = 1.0 / logits.len() as f32;
    let mut total = 0.0f32;
    for ((&z, &y), g) in logits.iter().zip(targets).zip(grad.iter_mut()) {
        total += bce_from_logit(z, y);
        *g = (math::sigmoid(z) - y) * inv_n;
    }
    Ok(total * inv_n)
}
