//! Stochastic gradient descent.

use super::Optimizer;

/// Stochastic gradient descent with a fixed learning rate: `p ← p − lr · g`. No state.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
}

impl Sgd {
    /// SGD with learning rate `lr`.
    pub fn new(lr: f32) -> Self {
        Sgd { lr }
    }
}

impl Optimizer for Sgd {
    fn update(&mut self, params: &mut [f32], grads: &[f32], _state: &mut [f32]) {
        super::sgd(params, grads, self.lr);
    }
}
