//! Teacher–student training: joint training with shared bottom layers ("Rocket Launching",
//! Zhou et al., AAAI 2018), classic two-stage knowledge distillation (Hinton et al. 2015), and
//! running the pieces as one model for deployment.
//!
//! # Joint training
//!
//! Three [`Sequential`] models: a shared `bottom`, a `teacher_head` and a `student_head`, both
//! heads reading the bottom's output `h`. One step ([`joint_step`]) minimises, per mini-batch of
//! `B` samples with labels `y`,
//!
//! `L = CE(z_t, y) + S(z_s) + γ·(1/B)·Σ_b Σ_j (z_s − stopgrad(z_t))²`
//!
//! with `z_t`, `z_s` the teacher's and student's logits and the student term
//! - `S = CE(z_s, y)` without distillation (`kd: None`),
//! - `S = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y)` with
//!   `kd: Some(KdConfig { temperature: T, alpha: α })` (the
//!   [`distillation`](crate::train::loss::distillation) loss, teacher constant).
//!
//! Gradient flow ("gradient block"): the teacher head receives only `dCE(z_t)/dz_t`; the hint
//! and the soft term treat `z_t` as a constant and only move the student head; the bottom
//! receives the sum of both heads' input gradients, so the hint reaches the shared layers
//! through the student. One optimizer steps all three parameter sets together (see
//! [`apply_joint`]).
//!
//! # Two-stage distillation
//!
//! [`distill_step`] trains a separate student on the logits of a frozen teacher (inference
//! only) with the [`distillation`](crate::train::loss::distillation) loss.
//!
//! # Deployment
//!
//! The deployable student is `bottom` followed by `student_head` ([`student_forward`]); the
//! teacher is `bottom` followed by `teacher_head` ([`teacher_forward`]). Their parameters, as one
//! model, are every layer's [`params`](crate::layers::Layer::params) in layer order: the
//! bottom's layers first, then the head's ([`write_stacked_params`]).

mod buffers;
mod deploy;
mod joint;
mod two_stage;

pub use buffers::{joint_buffer_lens, JointBufferLens, JointBuffers};
pub use deploy::{
    stacked_param_len, student_forward, student_scratch_len, teacher_forward, teacher_scratch_len,
    write_stacked_params,
};
pub use joint::{apply_joint, joint_epoch, joint_grads, joint_step, JointConfig, JointLoss};
pub use two_stage::{
    distill_buffer_lens, distill_epoch, distill_step, DistillBufferLens, DistillBuffers,
};

use crate::error::{Buffer, Error, ShapeError};
use crate::layers::{Layer, Sequential};

/// Hinton distillation settings: `L = α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE(y, z)`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KdConfig {
    /// Softmax temperature `T` (finite, `> 0`; 2.5–4 suits tiny students).
    pub temperature: f32,
    /// Weight `α ∈ [0, 1]` of the soft-target term.
    pub alpha: f32,
}

impl KdConfig {
    /// Checks `temperature` finite and `> 0` and `0 ≤ alpha ≤ 1`.
    ///
    /// # Errors
    /// [`Error::Config`] otherwise (NaN included).
    pub fn validate(&self) -> Result<(), Error> {
        let t_ok = self.temperature.is_finite() && self.temperature > 0.0;
        if t_ok && (0.0..=1.0).contains(&self.alpha) {
            Ok(())
        } else {
            Err(Error::Config)
        }
    }
}

/// Checks that `head` reads what `bottom` writes: [`Error::Chain`] with `layer` = `N1` (the
/// index of the head's first layer in the stacked model) otherwise.
fn check_stack<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    head: &Sequential<L2, N2>,
) -> Result<(), Error> {
    let (expected, actual) = (bottom.output_len(), head.input_len());
    if expected == actual {
        Ok(())
    } else {
        Err(Error::Chain {
            layer: N1,
            expected,
            actual,
        })
    }
}

/// Checks that student and teacher logits have the same width `classes` (returned):
/// [`ShapeError::Length`] with `Buffer::Input2` (the teacher logits, as the losses name them)
/// otherwise, lengths per sample.
fn check_classes(teacher_classes: usize, student_classes: usize) -> Result<usize, Error> {
    if teacher_classes == student_classes {
        Ok(student_classes)
    } else {
        Err(ShapeError::Length {
            buffer: Buffer::Input2,
            expected: student_classes,
            actual: teacher_classes,
        }
        .into())
    }
}

/// [`Error::Index`] for the first label outside `0..classes`.
fn check_labels(classes: usize, labels: &[u32]) -> Result<(), Error> {
    match labels.iter().position(|&y| y as usize >= classes) {
        Some(position) => Err(Error::Index {
            position,
            len: classes,
        }),
        None => Ok(()),
    }
}

/// The first `needed` values of `buf` and the rest, or [`ShapeError::Length`] naming `buffer`.
fn split_prefix(
    buffer: Buffer,
    buf: &mut [f32],
    needed: usize,
) -> Result<(&mut [f32], &mut [f32]), Error> {
    let actual = buf.len();
    buf.split_at_mut_checked(needed).ok_or(
        ShapeError::Length {
            buffer,
            expected: needed,
            actual,
        }
        .into(),
    )
}

/// [`ShapeError::Length`] unless `actual ≥ needed` (buffers that may be longer than required).
fn check_min(buffer: Buffer, needed: usize, actual: usize) -> Result<(), Error> {
    if actual >= needed {
        Ok(())
    } else {
        Err(ShapeError::Length {
            buffer,
            expected: needed,
            actual,
        }
        .into())
    }
}
