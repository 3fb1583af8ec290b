//! Adam and AdamW.

use super::regularize::penalty_grad;
use super::{check_non_negative, powi, LearningRate, Optimizer};
use crate::error::Error;
use crate::num::math;

/// Adam (Kingma & Ba), PyTorch's `Adam` with `amsgrad = false`; L2 weight decay is *coupled*
/// (added to the gradient, so it is rescaled by the adaptive step).
///
/// # Update
/// [`begin_step`](Optimizer::begin_step) increments the step counter `t` (1 on the first step).
/// Then for each parameter `p` with gradient `g` and moments `m`, `v` (both starting at 0):
///
/// ```text
/// g ← g + weight_decay · p + l1 · sign(p)
/// m ← β1 · m + (1 − β1) · g
/// v ← β2 · v + (1 − β2) · g²
/// m̂ = m / (1 − β1^t),  v̂ = v / (1 − β2^t)
/// p ← p − lr · m̂ / (√v̂ + eps)
/// ```
///
/// # State
/// Two values per parameter, interleaved: `[m₀, v₀, m₁, v₁, …]`; zero them before the first step.
/// Restarting training from zero state needs [`reset`](Self::reset) too (the step counter).
///
/// # NaN
/// Nothing is validated at update time ([`validate`](Self::validate) checks the fields): a NaN
/// gradient makes the parameter and its moments NaN. An `update` without a `begin_step` before
/// it (outside [`Sequential::apply`](crate::layers::Sequential::apply)) runs as step 1 rather
/// than divide by `1 − β^0 = 0`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Adam {
    /// Learning rate (default `1e-3`).
    pub lr: f32,
    /// Decay of the first moment (default `0.9`).
    pub beta1: f32,
    /// Decay of the second moment (default `0.999`).
    pub beta2: f32,
    /// Added to `√v̂` (default `1e-8`).
    pub eps: f32,
    /// Coupled L2 coefficient: `weight_decay · p` is added to the gradient (default 0).
    pub weight_decay: f32,
    /// L1 coefficient: `l1 · sign(p)` is added to the gradient (default 0).
    pub l1: f32,
    /// Steps begun so far (`t`).
    t: u32,
}

impl Adam {
    /// Adam with learning rate `lr` and the defaults `β1 = 0.9`, `β2 = 0.999`, `eps = 1e-8`, no
    /// weight decay.
    pub fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            l1: 0.0,
            t: 0,
        }
    }

    /// With moment decays `β1`, `β2`.
    pub fn with_betas(self, beta1: f32, beta2: f32) -> Self {
        Adam {
            beta1,
            beta2,
            ..self
        }
    }

    /// With `eps`.
    pub fn with_eps(self, eps: f32) -> Self {
        Adam { eps, ..self }
    }

    /// With coupled L2 weight decay (`g += weight_decay · p`).
    pub fn with_weight_decay(self, weight_decay: f32) -> Self {
        Adam {
            weight_decay,
            ..self
        }
    }

    /// With an L1 penalty (`g += l1 · sign(p)`).
    pub fn with_l1(self, l1: f32) -> Self {
        Adam { l1, ..self }
    }

    /// Steps begun so far (the `t` of the bias correction after `begin_step`).
    pub fn step(&self) -> u32 {
        self.t
    }

    /// Sets the step counter back to 0 (zero the state too to restart).
    pub fn reset(&mut self) {
        self.t = 0;
    }

    /// Checks the fields: `lr`, `eps`, `weight_decay`, `l1` finite and non-negative,
    /// `β1`, `β2` in `[0, 1)`.
    ///
    /// # Errors
    /// [`Error::Config`] otherwise.
    pub fn validate(&self) -> Result<(), Error> {
        for x in [self.lr, self.eps, self.weight_decay, self.l1] {
            check_non_negative(x)?;
        }
        for b in [self.beta1, self.beta2] {
            check_non_negative(b)?;
            if b >= 1.0 {
                return Err(Error::Config);
            }
        }
        Ok(())
    }

    /// The Adam step on `params` with gradient terms `l1`, `l2` (what both Adam and AdamW do
    /// after their own weight decay).
    fn adam_update(&self, params: &mut [f32], grads: &[f32], state: &mut [f32], l2: f32) {
        let t = self.t.max(1);
        let bc1 = 1.0 - powi(self.beta1, t);
        let bc2 = 1.0 - powi(self.beta2, t);
        // PyTorch's form: step size lr / bc1, denominator √v / √bc2 + eps.
        let step_size = self.lr / bc1;
        let sqrt_bc2 = math::sqrt(bc2);
        let (b1, b2) = (self.beta1, self.beta2);
        for ((p, &g), mv) in params.iter_mut().zip(grads).zip(state.chunks_exact_mut(2)) {
            let g = g + penalty_grad(*p, self.l1, l2);
            if let [m, v] = mv {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                let denom = math::sqrt(*v) / sqrt_bc2 + self.eps;
                *p -= step_size * *m / denom;
            }
        }
    }
}

impl Default for Adam {
    /// [`Adam::new`]`(1e-3)`.
    fn default() -> Self {
        Adam::new(1e-3)
    }
}

impl Optimizer for Adam {
    fn state_per_param(&self) -> usize {
        2
    }

    fn begin_step(&mut self, _grads: &mut [f32]) {
        self.t = self.t.saturating_add(1);
    }

    /// # Shapes
    /// `params`, `grads`: `[n]`; `state`: `[2n]` (`[m₀, v₀, m₁, v₁, …]`). Pairs beyond the
    /// shortest are left alone (the model checks lengths before calling).
    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        self.adam_update(params, grads, state, self.weight_decay);
    }
}

impl LearningRate for Adam {
    fn lr(&self) -> f32 {
        self.lr
    }
    fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }
}

/// AdamW (Loshchilov & Hutter), PyTorch's `AdamW`: Adam with *decoupled* weight decay, applied
/// to the parameter before the Adam step and not rescaled by it:
///
/// ```text
/// p ← p − lr · weight_decay · p
/// then the Adam update of [`Adam`] with g ← g + l1 · sign(p) (no L2 term)
/// ```
///
/// State, step counter and NaN handling as [`Adam`]. PyTorch's default `weight_decay` is
/// `1e-2`; [`AdamW::new`] takes it explicitly.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AdamW {
    /// The Adam part; its `weight_decay` field is the decoupled decay here.
    pub adam: Adam,
}

impl AdamW {
    /// AdamW with learning rate `lr`, decoupled decay `weight_decay` and Adam's defaults
    /// `β1 = 0.9`, `β2 = 0.999`, `eps = 1e-8`.
    pub fn new(lr: f32, weight_decay: f32) -> Self {
        AdamW {
            adam: Adam::new(lr).with_weight_decay(weight_decay),
        }
    }

    /// With moment decays `β1`, `β2`.
    pub fn with_betas(self, beta1: f32, beta2: f32) -> Self {
        AdamW {
            adam: self.adam.with_betas(beta1, beta2),
        }
    }

    /// With `eps`.
    pub fn with_eps(self, eps: f32) -> Self {
        AdamW {
            adam: self.adam.with_eps(eps),
        }
    }

    /// With an L1 penalty (`g += l1 · sign(p)`, coupled).
    pub fn with_l1(self, l1: f32) -> Self {
        AdamW {
            adam: self.adam.with_l1(l1),
        }
    }

    /// Steps begun so far.
    pub fn step(&self) -> u32 {
        self.adam.step()
    }

    /// Sets the step counter back to 0.
    pub fn reset(&mut self) {
        self.adam.reset();
    }

    /// As [`Adam::validate`].
    ///
    /// # Errors
    /// [`Error::Config`] for a field out of its domain.
    pub fn validate(&self) -> Result<(), Error> {
        self.adam.validate()
    }
}

impl Optimizer for AdamW {
    fn state_per_param(&self) -> usize {
        2
    }

    fn begin_step(&mut self, grads: &mut [f32]) {
        self.adam.begin_step(grads);
    }

    /// # Shapes
    /// As [`Adam`]'s.
    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        let decay = 1.0 - self.adam.lr * self.adam.weight_decay;
        if decay != 1.0 {
            let n = grads.len().min(state.len() / 2);
            for p in params.iter_mut().take(n) {
                *p *= decay;
            }
        }
        self.adam.adam_update(params, grads, state, 0.0);
    }
}

impl LearningRate for AdamW {
    fn lr(&self) -> f32 {
        self.adam.lr
    }
    fn set_lr(&mut self, lr: f32) {
        self.adam.lr = lr;
    }
}
