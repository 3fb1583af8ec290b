//! Learning-rate schedules, and [`Scheduled`], which applies one to an optimizer every step.
//!
//! Steps count from 0: `lr_at(0)` is the rate of the first optimizer step.

use super::{powi, LearningRate, Optimizer};

/// A learning rate as a function of the step number.
pub trait LrSchedule {
    /// The learning rate of step `step` (0 for the first step).
    fn lr_at(&self, step: u32) -> f32;
}

/// The basic schedules.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Schedule {
    /// `lr` at every step.
    Constant {
        /// The learning rate.
        lr: f32,
    },
    /// Step decay: `lr · gamma^⌊step / every⌋` (`every = 0`: constant `lr`).
    StepDecay {
        /// The initial learning rate.
        lr: f32,
        /// Factor applied every `every` steps (e.g. 0.1).
        gamma: f32,
        /// Steps between decays.
        every: u32,
    },
    /// Cosine annealing from `lr` to `min_lr` over `steps` steps, then `min_lr`:
    /// `min_lr + (lr − min_lr) · (1 + cos(π · step / steps)) / 2` for `step < steps`
    /// (`steps = 0`: `min_lr` throughout). PyTorch's `CosineAnnealingLR` without restarts.
    Cosine {
        /// The initial learning rate.
        lr: f32,
        /// The floor reached at `step = steps`.
        min_lr: f32,
        /// Length of the annealing.
        steps: u32,
    },
}

impl LrSchedule for Schedule {
    fn lr_at(&self, step: u32) -> f32 {
        match *self {
            Schedule::Constant { lr } => lr,
            Schedule::StepDecay { lr, gamma, every } => match step.checked_div(every) {
                Some(k) => lr * powi(gamma, k),
                None => lr,
            },
            Schedule::Cosine { lr, min_lr, steps } => {
                if step >= steps {
                    return min_lr;
                }
                let phase = core::f32::consts::PI * step as f32 / steps as f32;
                min_lr + (lr - min_lr) * 0.5 * (1.0 + crate::num::math::cos(phase))
            }
        }
    }
}

/// Linear warm-up for `steps` steps, then the schedule `then` (whose step 0 follows the
/// warm-up): `lr_at(s) = then.lr_at(0) · (s + 1) / steps` for `s < steps`, else
/// `then.lr_at(s − steps)`. The first step thus runs at `1 / steps` of the target rate and the
/// last warm-up step at the full rate. `steps = 0`: no warm-up.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Warmup<S> {
    /// Warm-up length in steps.
    pub steps: u32,
    /// The schedule after the warm-up.
    pub then: S,
}

impl<S: LrSchedule> LrSchedule for Warmup<S> {
    fn lr_at(&self, step: u32) -> f32 {
        if step < self.steps {
            self.then.lr_at(0) * (step as f32 + 1.0) / self.steps as f32
        } else {
            self.then.lr_at(step - self.steps)
        }
    }
}

/// An optimizer driven by a schedule: each [`begin_step`](Optimizer::begin_step) sets the
/// inner optimizer's learning rate to `schedule.lr_at(step)` and then counts the step. The
/// state is the inner optimizer's.
///
/// Outside [`Sequential::apply`](crate::layers::Sequential::apply), set the rate by hand with
/// [`LearningRate::set_lr`] and [`LrSchedule::lr_at`] instead.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Scheduled<O, S> {
    /// The optimizer whose rate is set.
    pub inner: O,
    /// The schedule.
    pub schedule: S,
    step: u32,
}

impl<O, S> Scheduled<O, S> {
    /// `inner` at the rates of `schedule`, starting at step 0.
    pub fn new(inner: O, schedule: S) -> Self {
        Scheduled {
            inner,
            schedule,
            step: 0,
        }
    }

    /// Steps begun so far (the next step's number).
    pub fn step(&self) -> u32 {
        self.step
    }
}

impl<O: Optimizer + LearningRate, S: LrSchedule> Optimizer for Scheduled<O, S> {
    fn state_per_param(&self) -> usize {
        self.inner.state_per_param()
    }

    fn state_len(&self, params: usize) -> usize {
        self.inner.state_len(params)
    }

    fn begin_step(&mut self, grads: &mut [f32]) {
        self.inner.set_lr(self.schedule.lr_at(self.step));
        self.step = self.step.saturating_add(1);
        self.inner.begin_step(grads);
    }

    fn update(&mut self, params: &mut [f32], grads: &[f32], state: &mut [f32]) {
        self.inner.update(params, grads, state);
    }
}

impl<O: LearningRate, S> LearningRate for Scheduled<O, S> {
    fn lr(&self) -> f32 {
        self.inner.lr()
    }
    /// Sets the inner rate until the next step's schedule value replaces it.
    fn set_lr(&mut self, lr: f32) {
        self.inner.set_lr(lr);
    }
}
