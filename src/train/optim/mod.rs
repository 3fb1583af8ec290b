//! Optimizers: what a training step does with the gradients.
//!
//! [`Sequential::train_batch`](crate::layers::Sequential::train_batch) and
//! [`Sequential::apply`](crate::layers::Sequential::apply) drive any [`Optimizer`]: once per step
//! [`Optimizer::begin_step`] sees the whole flat gradient (for clipping by global norm, the step
//! counter, the learning-rate schedule), then [`Optimizer::update`] runs for each trainable
//! layer with its parameters, its gradients and its part of the caller-provided state.
//! A closure `|params, grads| …` is an optimizer without state.
//!
//! # What is here
//!
//! | item | state per parameter | update |
//! |---|---|---|
//! | [`Sgd`] | 0, or 1 with momentum | SGD, heavy-ball or Nesterov momentum (PyTorch's) |
//! | [`Adam`] | 2 | Adam with bias correction, coupled L2 (PyTorch's `Adam`) |
//! | [`AdamW`] | 2 | Adam with decoupled weight decay (PyTorch's `AdamW`) |
//! | [`Clipped`] | as the inner one | clips the global gradient norm ([`clip_grad_norm`]) first |
//! | [`Scheduled`] | as the inner one | sets the learning rate from a [`LrSchedule`] every step |
//!
//! Regularisation ([`regularize`]): every optimizer here has an `l1` and an L2 coefficient added
//! to the gradient (`g + l1 · sign(p) + l2 · p`, the gradient of [`penalty`]); [`AdamW`] decays
//! its weights directly instead of the L2 term. A custom optimizer adds the same terms with
//! [`add_penalty_grad`].
//!
//! Wrappers compose: `Scheduled::new(Clipped::new(Adam::new(1e-3), 1.0), schedule)` clips,
//! then steps Adam at the scheduled rate. The state length is always the inner optimizer's.

mod adam;
mod clip;
pub mod regularize;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use clip::{clip_grad_norm, Clipped};
pub use regularize::{add_penalty_grad, penalty};
pub use schedule::{LrSchedule, Schedule, Scheduled, Warmup};
pub use sgd::Sgd;

/// An optimizer with caller-owned state.
///
/// # Contract
/// The state of a model with `n` trainable parameters is `n * state_per_param()` values, split
/// between the layers in the order of their parameters, so every parameter owns the same
/// `state_per_param()` consecutive-by-layer slots. Zero the state before the first step (that is
/// the initial state of every optimizer here).
pub trait Optimizer {
    /// State values per parameter (0 for plain SGD, 1 for momentum, 2 for Adam).
    fn state_per_param(&self) -> usize {
        0
    }

    /// Length of the state for `params` parameters.
    fn state_len(&self, params: usize) -> usize {
        params.saturating_mul(self.state_per_param())
    }

    /// Called once per step, before any [`update`](Self::update), with the gradients of every
    /// trainable parameter (it may change them, for example to clip their global norm).
    fn begin_step(&mut self, grads: &mut [f32]) {
        let _ = grads;
    }

    /// Updates one layer's parameters from its gradients, with its `state` of
    /// `state_len(params.len())` values.
    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]);
}

/// A closure `|params, grads|` is a stateless optimizer.
impl<F: FnMut(&mut [f32], &[f32])> Optimizer for F {
    fn update(&mut self, params: &mut [f32], grads: &[f32], _state: &mut [f32]) {
        self(params, grads)
    }
}

/// An optimizer whose learning rate can be read and set between steps (what [`Scheduled`]
/// drives).
pub trait LearningRate {
    /// The current learning rate.
    fn lr(&self) -> f32;
    /// Sets the learning rate used from the next update on.
    fn set_lr(&mut self, lr: f32);
}

/// Plain stochastic gradient descent: `p ← p − lr · g`. Needs no state. Pairs of unequal
/// length are updated up to the shorter one.
pub fn sgd(params: &mut [f32], grads: &[f32], lr: f32) {
    for (p, g) in params.iter_mut().zip(grads) {
        *p -= lr * g;
    }
}

/// `base^exp` by repeated squaring (exact for the small exponents of bias correction and step
/// decay up to f32 rounding; no libm call, identical on host and device).
pub(crate) fn powi(base: f32, mut exp: u32) -> f32 {
    let (mut acc, mut b) = (1.0f32, base);
    while exp > 0 {
        if exp & 1 == 1 {
            acc *= b;
        }
        b *= b;
        exp >>= 1;
    }
    acc
}

/// `Ok` if `x` is finite and `x >= 0`, else [`Error::Config`](crate::Error::Config).
pub(crate) fn check_non_negative(x: f32) -> Result<(), crate::Error> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(crate::Error::Config)
    }
}
