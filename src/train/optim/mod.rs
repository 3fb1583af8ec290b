//! Optimizers: what a training step does with the gradients.
//!
//! [`Sequential::train_batch`](crate::layers::Sequential::train_batch) and
//! [`Sequential::apply`](crate::layers::Sequential::apply) drive any [`Optimizer`]: once per step
//! [`Optimizer::begin_step`] sees the whole flat gradient (for clipping by global norm, the step
//! counter, the learning-rate schedule), then [`Optimizer::update`] runs for each trainable
//! layer with its parameters, its gradients and its part of the caller-provided state.
//! A closure `|params, grads| …` is an optimizer without state.

mod sgd;

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

/// Plain stochastic gradient descent: `p ← p − lr · g`. Needs no state. Pairs of unequal
/// length are updated up to the shorter one.
pub fn sgd(params: &mut [f32], grads: &[f32], lr: f32) {
    for (p, g) in params.iter_mut().zip(grads) {
        *p -= lr * g;
    }
}
