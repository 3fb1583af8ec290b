//! Gradient clipping by global norm.

use super::{LearningRate, Optimizer};
use crate::error::Error;
use crate::num::math;

/// Scales `grads` so their Euclidean norm is at most `max_norm`, keeping their direction, and
/// returns the norm *before* clipping.
///
/// `‖g‖ = √Σ gᵢ²`; if `‖g‖ > max_norm` every `gᵢ` is multiplied by `max_norm / ‖g‖`, otherwise
/// nothing changes. The norm is computed scaled by the largest `|gᵢ|`, so it neither overflows
/// for large gradients nor underflows for tiny ones.
///
/// # NaN and infinities
/// A NaN or infinite gradient makes the norm NaN or infinite: it is returned and the gradients
/// are left unchanged (scaling cannot give a meaningful direction; the caller sees the value and
/// decides, e.g. skip the step). A NaN or negative `max_norm` changes nothing either;
/// `max_norm = 0` zeroes finite gradients; `max_norm = inf` never clips.
///
/// # Shapes
/// - `grads`: `[n]`, all the gradients the norm is over (every trainable parameter for the
///   global norm)
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f32) -> f32 {
    let mut amax = 0.0f32;
    for &g in grads.iter() {
        let a = f32::from_bits(g.to_bits() & 0x7fff_ffff); // |g|
        if a.is_nan() {
            return f32::NAN;
        }
        if a > amax {
            amax = a;
        }
    }
    if amax == 0.0 {
        return 0.0;
    }
    if amax.is_infinite() {
        return f32::INFINITY;
    }
    let inv = 1.0 / amax;
    let mut sum = 0.0f32;
    for &g in grads.iter() {
        let s = g * inv;
        sum += s * s;
    }
    let norm = amax * math::sqrt(sum);
    if norm > max_norm && max_norm >= 0.0 {
        let scale = max_norm / norm;
        for g in grads.iter_mut() {
            *g *= scale;
        }
    }
    norm
}

/// An optimizer whose step first clips the global gradient norm to `max_norm`
/// ([`clip_grad_norm`] over all the gradients in [`begin_step`](Optimizer::begin_step)), then
/// runs the inner optimizer. The state is the inner optimizer's.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Clipped<O> {
    /// The optimizer that gets the clipped gradients.
    pub inner: O,
    max_norm: f32,
    last_norm: f32,
}

impl<O> Clipped<O> {
    /// Clips to `max_norm` before each step of `inner`.
    ///
    /// # Errors
    /// [`Error::Config`] if `max_norm` is NaN or negative (`inf` is allowed: never clips).
    pub fn new(inner: O, max_norm: f32) -> Result<Self, Error> {
        if max_norm >= 0.0 {
            Ok(Clipped {
                inner,
                max_norm,
                last_norm: 0.0,
            })
        } else {
            Err(Error::Config)
        }
    }

    /// The clipping threshold.
    pub fn max_norm(&self) -> f32 {
        self.max_norm
    }

    /// The gradient norm before clipping of the last step (0 before the first; NaN or inf for a
    /// non-finite gradient, see [`clip_grad_norm`]).
    pub fn last_norm(&self) -> f32 {
        self.last_norm
    }
}

impl<O: Optimizer> Optimizer for Clipped<O> {
    fn state_per_param(&self) -> usize {
        self.inner.state_per_param()
    }

    fn state_len(&self, params: usize) -> usize {
        self.inner.state_len(params)
    }

    fn begin_step(&mut self, grads: &mut [f32]) {
        self.last_norm = clip_grad_norm(grads, self.max_norm);
        self.inner.begin_step(grads);
    }

    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        self.inner.update(params, grads, state);
    }
}

impl<O: LearningRate> LearningRate for Clipped<O> {
    fn lr(&self) -> f32 {
        self.inner.lr()
    }
    fn set_lr(&mut self, lr: f32) {
        self.inner.set_lr(lr);
    }
}
