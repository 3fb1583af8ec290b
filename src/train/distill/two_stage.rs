//! Classic two-stage knowledge distillation: a frozen teacher's logits train a separate
//! student.

use super::joint::check_epoch;
use super::{check_classes, check_labels, check_min, KdConfig};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::{Layer, Sequential, TrainBufferLens, TrainBuffers};
use crate::rng::RngCore;
use crate::train::loss::{distillation, DistillationLoss};
use crate::train::optim::Optimizer;

/// The buffers of a distillation step: the student's training buffers (their `scratch` also
/// serves the teacher's inference) and the teacher's logits.
pub struct DistillBuffers<'b> {
    /// The student's buffers, as for [`Sequential::train_batch`]; `scratch` at least the larger
    /// of the two models' [`scratch_len`](Sequential::scratch_len)`(batch)`.
    pub train: TrainBuffers<'b>,
    /// The teacher's logits: at least `batch · classes`.
    pub teacher_logits: &'b mut [f32],
}

/// The lengths of the [`DistillBuffers`] for batches of up to `batch` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DistillBufferLens {
    /// The student's training buffers (`scratch` covers the teacher's inference too); the
    /// optimizer state is `opt.state_len(train.grads)` on top.
    pub train: TrainBufferLens,
    /// Length of `teacher_logits`.
    pub teacher_logits: usize,
}

/// The buffer lengths a distillation step on batches of up to `batch` samples needs.
pub fn distill_buffer_lens<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    teacher: &Sequential<L1, N1>,
    student: &Sequential<L2, N2>,
    batch: usize,
) -> DistillBufferLens {
    let mut train = student.train_buffer_lens(batch);
    train.scratch = train.scratch.max(teacher.scratch_len(batch));
    DistillBufferLens {
        train,
        teacher_logits: batch.saturating_mul(teacher.output_len()),
    }
}

/// One distillation step on a mini-batch: the teacher's inference logits `v` (the teacher is
/// only read), then one [`Sequential::train_batch`] of the student with the
/// [`distillation`] loss `α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE(y, z)`, teacher
/// constant. Returns the loss and its parts (before the update).
///
/// # Shapes
/// - `input`: `[batch, student.input_len()]` (the teacher's input width must be the same),
///   `batch = labels.len()`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `bufs`: sized by [`distill_buffer_lens`]
///
/// # Errors
/// Checked before anything is written: [`Error::Config`] from [`KdConfig::validate`];
/// [`ShapeError::Length`] with `Input2` if the teacher's output width differs from the
/// student's (per-sample widths); [`ShapeError::Dimension`] for an empty batch;
/// [`ShapeError::Length`] naming `Input` (for either model), `Output` (`teacher_logits`),
/// `Cache`, `GradOutput`, `GradParams`, `Scratch` or `OptimizerState`; [`Error::Index`] for a
/// label out of range. Later, only a layer's own error. The student's parameters are only
/// updated when everything before succeeded.
#[allow(clippy::too_many_arguments)]
pub fn distill_step<L1, const N1: usize, L2, const N2: usize, R, O>(
    teacher: &Sequential<L1, N1>,
    student: &mut Sequential<L2, N2>,
    input: &[f32],
    labels: &[u32],
    kd: &KdConfig,
    bufs: &mut DistillBuffers<'_>,
    rng: &mut R,
    opt: &mut O,
) -> Result<DistillationLoss, Error>
where
    L1: Layer,
    L2: Layer,
    R: RngCore + ?Sized,
    O: Optimizer + ?Sized,
{
    kd.validate()?;
    let classes = check_classes(teacher.output_len(), student.output_len())?;
    let batch = labels.len();
    if batch == 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(
        Buffer::Input,
        batch.saturating_mul(student.input_len()),
        input.len(),
    )?;
    check_len(
        Buffer::Input,
        batch.saturating_mul(teacher.input_len()),
        input.len(),
    )?;
    let lens = distill_buffer_lens(teacher, student, batch);
    check_min(
        Buffer::Output,
        lens.teacher_logits,
        bufs.teacher_logits.len(),
    )?;
    let t = &mut bufs.train;
    check_min(Buffer::Cache, lens.train.cache, t.cache.len())?;
    check_min(
        Buffer::GradOutput,
        lens.train.grad_output,
        t.grad_output.len(),
    )?;
    check_len(Buffer::GradParams, lens.train.grads, t.grads.len())?;
    check_min(Buffer::Scratch, lens.train.scratch, t.scratch.len())?;
    check_len(
        Buffer::OptimizerState,
        opt.state_len(lens.train.grads),
        t.opt_state.len(),
    )?;
    check_labels(classes, labels)?;

    let logits = bufs
        .teacher_logits
        .get_mut(..lens.teacher_logits)
        .ok_or(ShapeError::Dimension)?;
    teacher.forward(batch, input, logits, bufs.train.scratch)?;
    let logits: &[f32] = logits;
    let (temperature, alpha) = (kd.temperature, kd.alpha);
    let mut parts = None;
    student.train_batch(
        batch,
        input,
        &mut bufs.train,
        rng,
        |z, g| {
            let d = distillation(classes, z, logits, labels, temperature, alpha, g)?;
            parts = Some(d);
            Ok(d.loss)
        },
        opt,
    )?;
    // train_batch returned Ok, so the loss closure ran and set the parts.
    parts.ok_or(Error::Config)
}

/// One pass of [`distill_step`] over a data set in mini-batches of `batch_size` (the last one
/// may be smaller), in the order given (shuffle beforehand). Returns the loss and its parts
/// averaged over the epoch, each batch weighted by its size.
///
/// # Shapes
/// - `inputs`: `[samples, student.input_len()]`
/// - `labels`: `[samples]`
/// - `bufs`: sized by [`distill_buffer_lens`]`(teacher, student, batch_size)`
///
/// # Errors
/// [`ShapeError::Dimension`] if `batch_size` is 0 or there are no samples;
/// [`ShapeError::Length`] with `Input` if `inputs` is not `labels.len()` samples; otherwise as
/// [`distill_step`]. A failing batch stops the epoch; the batches before it have been applied.
#[allow(clippy::too_many_arguments)]
pub fn distill_epoch<L1, const N1: usize, L2, const N2: usize, R, O>(
    teacher: &Sequential<L1, N1>,
    student: &mut Sequential<L2, N2>,
    inputs: &[f32],
    labels: &[u32],
    batch_size: usize,
    kd: &KdConfig,
    bufs: &mut DistillBuffers<'_>,
    rng: &mut R,
    opt: &mut O,
) -> Result<DistillationLoss, Error>
where
    L1: Layer,
    L2: Layer,
    R: RngCore + ?Sized,
    O: Optimizer + ?Sized,
{
    let per_sample = student.input_len();
    let samples = check_epoch(per_sample, inputs.len(), labels.len(), batch_size)?;
    let (mut loss, mut soft, mut hard) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in inputs
        .chunks(batch_size.saturating_mul(per_sample))
        .zip(labels.chunks(batch_size))
    {
        let d = distill_step(teacher, student, x, y, kd, bufs, rng, opt)?;
        let w = y.len() as f32;
        loss += d.loss * w;
        soft += d.soft * w;
        hard += d.hard * w;
    }
    let inv = 1.0 / samples as f32;
    Ok(DistillationLoss {
        loss: loss * inv,
        soft: soft * inv,
        hard: hard * inv,
    })
}
