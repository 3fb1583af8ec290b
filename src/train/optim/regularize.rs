//! L1 and L2 penalties on the parameters, as a loss value and as gradient terms.
//!
//! # Convention
//! `penalty(p) = l1 · Σ|pᵢ| + l2 / 2 · Σ pᵢ²`, whose (sub)gradient is `l1 · sign(pᵢ) + l2 · pᵢ`
//! with `sign(0) = 0`. So an L2 coefficient `l2` here is PyTorch's `weight_decay`: the gradient
//! term is `l2 · p` and the loss term is `½ · l2 · ‖p‖²`.
//!
//! The optimizers of this module take `l1` and the L2 coefficient as fields and add these terms to
//! the gradient in their update (they see each parameter there, `begin_step` does not). A custom
//! optimizer calls [`add_penalty_grad`] on its gradients itself.
//!
//! NaN: a NaN parameter gives a NaN term (and a NaN penalty).

/// The gradient of the penalty for one parameter: `l1 · sign(p) + l2 · p`, with `sign(0) = 0`
/// (the subgradient of `|p|` at 0 that keeps a zero weight at zero).
#[inline]
pub fn penalty_grad(p: f32, l1: f32, l2: f32) -> f32 {
    let sign = if p > 0.0 {
        1.0
    } else if p < 0.0 {
        -1.0
    } else if p.is_nan() {
        f32::NAN
    } else {
        0.0
    };
    // Skip the zero terms so an unregularised optimizer does exactly `g` (no `+ 0.0 · p`
    // rounding, and an infinite `p` does not turn into NaN).
    let mut t = 0.0;
    if l1 != 0.0 {
        t += l1 * sign;
    }
    if l2 != 0.0 {
        t += l2 * p;
    }
    t
}

/// Adds the penalty gradient `l1 · sign(p) + l2 · p` to `grads` (pairs up to the shorter slice).
///
/// # Shapes
/// - `params`, `grads`: `[n]`
pub fn add_penalty_grad(params: &[f32], grads: &mut [f32], l1: f32, l2: f32) {
    for (g, &p) in grads.iter_mut().zip(params) {
        *g += penalty_grad(p, l1, l2);
    }
}

/// The penalty value `l1 · Σ|pᵢ| + l2 / 2 · Σ pᵢ²` (add it to the data loss to report the
/// regularised loss).
///
/// # Shapes
/// - `params`: `[n]` (all trainable parameters, or any subset to regularise)
pub fn penalty(params: &[f32], l1: f32, l2: f32) -> f32 {
    let (mut abs, mut sq) = (0.0f32, 0.0f32);
    for &p in params {
        // |p| without `f32::abs` (not in `core` on older toolchains).
        abs += f32::from_bits(p.to_bits() & 0x7fff_ffff);
        sq += p * p;
    }
    l1 * abs + 0.5 * l2 * sq
}
