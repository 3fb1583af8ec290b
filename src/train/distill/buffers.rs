//! The caller buffers of a joint step, their sizes and the checks run before anything is
//! written.

use super::joint::JointConfig;
use super::{check_classes, check_labels, check_min, check_stack};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::{Layer, Sequential};
use crate::train::optim::Optimizer;

/// The buffers of a joint step, borrowed from the caller (sized by [`joint_buffer_lens`]).
/// Only `grads` and `opt_state` must have their exact length; the others may be longer (so
/// buffers sized for the largest batch serve every smaller one).
pub struct JointBuffers<'b> {
    /// Activation caches of bottom, teacher head and student head, one after the other: at
    /// least the sum of their [`cache_len`](Sequential::cache_len)`(batch)`.
    pub cache: &'b mut [f32],
    /// Logit gradients (teacher, student, hint): at least `3 · batch · classes`.
    pub logit_grads: &'b mut [f32],
    /// Gradients with respect to `h` from each head: at least `2 · batch · hidden`
    /// (`hidden = bottom.output_len()`).
    pub hidden_grads: &'b mut [f32],
    /// Parameter gradients, bottom's then teacher head's then student head's (each in its
    /// [`Sequential::backward`] layout): exactly the sum of the three `param_len()`.
    pub grads: &'b mut [f32],
    /// Scratch: at least the largest of the three [`scratch_len`](Sequential::scratch_len)`(batch)`.
    pub scratch: &'b mut [f32],
    /// Optimizer state for all parameters, laid out like `grads`: exactly
    /// `opt.state_len(grads.len())`. Zero it before the first step.
    pub opt_state: &'b mut [f32],
}

/// The lengths of the [`JointBuffers`] for batches of up to `batch` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JointBufferLens {
    /// Length of `cache`.
    pub cache: usize,
    /// Length of `logit_grads`.
    pub logit_grads: usize,
    /// Length of `hidden_grads`.
    pub hidden_grads: usize,
    /// Length of `grads`.
    pub grads: usize,
    /// Length of `scratch`.
    pub scratch: usize,
    /// Length of `opt_state`.
    pub opt_state: usize,
}

impl JointBufferLens {
    /// Total number of f32 values; `4 *` this is the training RAM in bytes beyond the
    /// parameters.
    pub fn total(&self) -> usize {
        [
            self.cache,
            self.logit_grads,
            self.hidden_grads,
            self.grads,
            self.scratch,
            self.opt_state,
        ]
        .iter()
        .fold(0usize, |a, &b| a.saturating_add(b))
    }
}

/// The buffer lengths a joint step on batches of up to `batch` samples needs with optimizer
/// `opt` (the class count is the student head's output width).
pub fn joint_buffer_lens<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize, O>(
    bottom: &Sequential<L1, N1>,
    teacher_head: &Sequential<L2, N2>,
    student_head: &Sequential<L3, N3>,
    batch: usize,
    opt: &O,
) -> JointBufferLens
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
    O: Optimizer + ?Sized,
{
    let lens = lens_without_state(bottom, teacher_head, student_head, batch);
    JointBufferLens {
        opt_state: opt.state_len(lens.grads),
        ..lens
    }
}

/// [`joint_buffer_lens`] with `opt_state: 0`.
pub(super) fn lens_without_state<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize>(
    bottom: &Sequential<L1, N1>,
    teacher_head: &Sequential<L2, N2>,
    student_head: &Sequential<L3, N3>,
    batch: usize,
) -> JointBufferLens
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
{
    let grads = bottom
        .param_len()
        .saturating_add(teacher_head.param_len())
        .saturating_add(student_head.param_len());
    JointBufferLens {
        cache: bottom
            .cache_len(batch)
            .saturating_add(teacher_head.cache_len(batch))
            .saturating_add(student_head.cache_len(batch)),
        logit_grads: batch
            .saturating_mul(student_head.output_len())
            .saturating_mul(3),
        hidden_grads: batch.saturating_mul(bottom.output_len()).saturating_mul(2),
        grads,
        scratch: bottom
            .scratch_len(batch)
            .max(teacher_head.scratch_len(batch))
            .max(student_head.scratch_len(batch)),
        opt_state: 0,
    }
}

/// Every check of [`joint_grads`] (nothing written): returns `(batch, classes, lens)`.
pub(super) fn check_joint<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize>(
    bottom: &Sequential<L1, N1>,
    teacher_head: &Sequential<L2, N2>,
    student_head: &Sequential<L3, N3>,
    input: &[f32],
    labels: &[u32],
    bufs: &JointBuffers<'_>,
    config: &JointConfig,
) -> Result<(usize, usize, JointBufferLens), Error>
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
{
    config.validate()?;
    check_stack(bottom, teacher_head)?;
    check_stack(bottom, student_head)?;
    let classes = check_classes(teacher_head.output_len(), student_head.output_len())?;
    let batch = labels.len();
    if batch == 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(
        Buffer::Input,
        batch.saturating_mul(bottom.input_len()),
        input.len(),
    )?;
    let lens = lens_without_state(bottom, teacher_head, student_head, batch);
    check_min(Buffer::Cache, lens.cache, bufs.cache.len())?;
    check_min(Buffer::GradOutput, lens.logit_grads, bufs.logit_grads.len())?;
    check_min(
        Buffer::GradInput,
        lens.hidden_grads,
        bufs.hidden_grads.len(),
    )?;
    check_len(Buffer::GradParams, lens.grads, bufs.grads.len())?;
    check_min(Buffer::Scratch, lens.scratch, bufs.scratch.len())?;
    check_labels(classes, labels)?;
    Ok((batch, classes, lens))
}
