//! Stochastic gradient descent with optional momentum, Nesterov momentum and L1/L2 penalties.

use super::regularize::penalty_grad;
use super::{check_non_negative, LearningRate, Optimizer};
use crate::error::Error;

/// Stochastic gradient descent, PyTorch's `SGD` with `dampening = 0`.
///
/// # Update
/// For each parameter `p` with gradient `g`:
///
/// ```text
/// g ← g + weight_decay · p + l1 · sign(p)        (coupled L2 and L1, sign(0) = 0)
/// momentum = 0:  p ← p − lr · g
/// momentum = μ:  v ← μ · v + g                   (v starts at 0, so the first v is g)
///                p ← p − lr · v                  (heavy ball)
///                p ← p − lr · (g + μ · v)        (Nesterov, with the new v)
/// ```
///
/// # State
/// One value (the velocity `v`) per parameter when `momentum != 0`, none otherwise; zero it
/// before the first step.
///
/// # NaN
/// Nothing is validated at update time ([`validate`](Self::validate) checks the fields): a NaN
/// gradient or coefficient makes the parameter (and its velocity) NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
    /// Momentum factor `μ` (0: none).
    pub momentum: f32,
    /// Nesterov momentum (only with `momentum != 0`).
    pub nesterov: bool,
    /// Coupled L2 coefficient: `weight_decay · p` is added to the gradient.
    pub weight_decay: f32,
    /// L1 coefficient: `l1 · sign(p)` is added to the gradient.
    pub l1: f32,
}

impl Sgd {
    /// Plain SGD with learning rate `lr` (no momentum, no regularisation).
    pub fn new(lr: f32) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            l1: 0.0,
        }
    }

    /// With heavy-ball momentum `μ`.
    pub fn with_momentum(self, momentum: f32) -> Self {
        Sgd { momentum, ..self }
    }

    /// With Nesterov momentum (set the factor with [`with_momentum`](Self::with_momentum)).
    pub fn nesterov(self) -> Self {
        Sgd {
            nesterov: true,
            ..self
        }
    }

    /// With coupled L2 weight decay (`g += weight_decay · p`).
    pub fn with_weight_decay(self, weight_decay: f32) -> Self {
        Sgd {
            weight_decay,
            ..self
        }
    }

    /// With an L1 penalty (`g += l1 · sign(p)`).
    pub fn with_l1(self, l1: f32) -> Self {
        Sgd { l1, ..self }
    }

    /// Checks the fields: every coefficient finite and non-negative, `momentum < 1`.
    ///
    /// # Errors
    /// [`Error::Config`] otherwise.
    pub fn validate(&self) -> Result<(), Error> {
        check_non_negative(self.lr)?;
        check_non_negative(self.momentum)?;
        check_non_negative(self.weight_decay)?;
        check_non_negative(self.l1)?;
        if self.momentum < 1.0 {
            Ok(())
        } else {
            Err(Error::Config)
        }
    }
}

impl Optimizer for Sgd {
    fn state_per_param(&self) -> usize {
        usize::from(self.momentum != 0.0)
    }

    /// # Shapes
    /// `params`, `grads`: `[n]`; `state`: `[n]` with momentum, else empty. Pairs beyond the
    /// shortest slice are left alone (the model checks lengths before calling).
    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        let (lr, mu) = (self.lr, self.momentum);
        let reg = |p: f32, g: f32| g + penalty_grad(p, self.l1, self.weight_decay);
        if mu == 0.0 {
            for (p, &g) in params.iter_mut().zip(grads) {
                *p -= lr * reg(*p, g);
            }
            return;
        }
        for ((p, &g), v) in params.iter_mut().zip(grads).zip(state.iter_mut()) {
            let g = reg(*p, g);
            *v = mu * *v + g;
            let step = if self.nesterov { g + mu * *v } else { *v };
            *p -= lr * step;
        }
    }
}

impl LearningRate for Sgd {
    fn lr(&self) -> f32 {
        self.lr
    }
    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }
}
