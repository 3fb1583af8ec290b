//! Joint teacher–student training with shared bottom layers (Rocket Launching).

use super::buffers::{check_joint, JointBuffers};
use super::{split_prefix, KdConfig};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::{Layer, Sequential};
use crate::rng::RngCore;
use crate::train::loss::{distillation, logit_matching, softmax_cross_entropy};
use crate::train::optim::Optimizer;

/// Settings of a joint step.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JointConfig {
    /// Weight `γ ≥ 0` of the hint `‖stopgrad(z_t) − z_s‖² / batch` (0.03 in the official code).
    pub gamma: f32,
    /// Hinton distillation on the student: replaces its cross-entropy by
    /// `α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y)`, teacher constant.
    pub kd: Option<KdConfig>,
}

impl Default for JointConfig {
    /// `γ = 0.03`, no distillation term: the official Rocket Launching setting.
    fn default() -> Self {
        JointConfig {
            gamma: 0.03,
            kd: None,
        }
    }
}

impl JointConfig {
    /// Checks `gamma` finite and `≥ 0`, and the distillation settings if any.
    ///
    /// # Errors
    /// [`Error::Config`] otherwise (NaN included).
    pub fn validate(&self) -> Result<(), Error> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::Config);
        }
        self.kd.as_ref().map_or(Ok(()), KdConfig::validate)
    }
}

/// The loss of a joint step and its parts, each a batch mean (and, from [`joint_epoch`], an
/// epoch mean weighted by batch size).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JointLoss {
    /// `teacher_ce + S + gamma · matching`, where the student term `S` is `student_ce` without
    /// distillation and `alpha · kd + (1 − alpha) · student_ce` with it: the value the
    /// gradients belong to.
    pub total: f32,
    /// `CE(z_t, y)`.
    pub teacher_ce: f32,
    /// `CE(z_s, y)` (reported with and without distillation).
    pub student_ce: f32,
    /// `(1/batch) Σ (z_s − z_t)²`, before `gamma`.
    pub matching: f32,
    /// `T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))`, before `alpha`; 0 without distillation.
    pub kd: f32,
}

/// Forward (training mode) and backward of one joint mini-batch: ADDS the gradients of
/// [`JointLoss::total`] (see the [module docs](super) for the loss and the gradient block)
/// into `bufs.grads` (zero it first unless accumulating) and returns the loss. Parameters are
/// not changed; `bufs.opt_state` is not used. Dropout layers draw from `rng`; batch norm layers
/// update their running statistics.
///
/// # Shapes
/// - `input`: `[batch, bottom.input_len()]`, with `batch = labels.len()`
/// - `labels`: `[batch]`, each in `0..classes` (`classes = student_head.output_len()`)
/// - `bufs`: see [`JointBuffers`]
///
/// # Errors
/// Checked before anything is written: [`Error::Config`] from [`JointConfig::validate`];
/// [`Error::Chain`] (`layer = N1`) if a head's input width is not the bottom's output width;
/// [`ShapeError::Length`] with `Input2` if the two heads' output widths differ (per-sample
/// widths: expected the student's, actual the teacher's); [`ShapeError::Dimension`] for an
/// empty batch; [`ShapeError::Length`] naming `Input`, `Cache`, `GradOutput` (`logit_grads`),
/// `GradInput` (`hidden_grads`), `GradParams` or `Scratch`; [`Error::Index`] for a label out of
/// range. Later, only a layer's own error. NaN in the input or parameters gives NaN losses
/// and gradients, never an error.
#[allow(clippy::too_many_arguments)]
pub fn joint_grads<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize, R>(
    bottom: &mut Sequential<L1, N1>,
    teacher_head: &mut Sequential<L2, N2>,
    student_head: &mut Sequential<L3, N3>,
    input: &[f32],
    labels: &[u32],
    bufs: &mut JointBuffers<'_>,
    rng: &mut R,
    config: &JointConfig,
) -> Result<JointLoss, Error>
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
    R: RngCore + ?Sized,
{
    let (batch, classes, lens) = check_joint(
        bottom,
        teacher_head,
        student_head,
        input,
        labels,
        bufs,
        config,
    )?;
    let (n_b, n_t) = (bottom.param_len(), teacher_head.param_len());
    let (b_cache, rest) = split_prefix(Buffer::Cache, bufs.cache, bottom.cache_len(batch))?;
    let (t_cache, s_cache) = split_prefix(Buffer::Cache, rest, teacher_head.cache_len(batch))?;
    let n_logits = lens.logit_grads / 3;
    let (g_t, rest) = split_prefix(Buffer::GradOutput, bufs.logit_grads, n_logits)?;
    let (g_s, rest) = split_prefix(Buffer::GradOutput, rest, n_logits)?;
    let (g_m, _) = split_prefix(Buffer::GradOutput, rest, n_logits)?;
    let n_hidden = lens.hidden_grads / 2;
    let (gh_t, rest) = split_prefix(Buffer::GradInput, bufs.hidden_grads, n_hidden)?;
    let (gh_s, _) = split_prefix(Buffer::GradInput, rest, n_hidden)?;
    let (grads_b, rest) = split_prefix(Buffer::GradParams, bufs.grads, n_b)?;
    let (grads_t, grads_s) = split_prefix(Buffer::GradParams, rest, n_t)?;
    let scratch = &mut *bufs.scratch;

    let hidden = bottom.forward_train(batch, input, b_cache, rng)?;
    let loss = {
        let z_t = teacher_head.forward_train(batch, hidden, t_cache, rng)?;
        let z_s = student_head.forward_train(batch, hidden, s_cache, rng)?;
        let teacher_ce = softmax_cross_entropy(classes, z_t, labels, g_t)?;
        // z_t enters the student's terms as a constant: only g_s is written.
        let (student_term, student_ce, kd) = match config.kd {
            Some(KdConfig { temperature, alpha }) => {
                let d = distillation(classes, z_s, z_t, labels, temperature, alpha, g_s)?;
                (d.loss, d.hard, d.soft)
            }
            None => {
                let ce = softmax_cross_entropy(classes, z_s, labels, g_s)?;
                (ce, ce, 0.0)
            }
        };
        let matching = logit_matching(classes, z_s, z_t, g_m)?;
        for (g, &m) in g_s.iter_mut().zip(g_m.iter()) {
            *g += config.gamma * m;
        }
        JointLoss {
            total: 0.0,
            teacher_ce,
            student_ce,
            matching,
            kd,
        }
        .with_total(student_term, config.gamma)
    };
    // The teacher head sees only its own cross-entropy gradient: the gradient block.
    teacher_head.backward_with_input_grad(batch, hidden, t_cache, g_t, grads_t, scratch, gh_t)?;
    student_head.backward_with_input_grad(batch, hidden, s_cache, g_s, grads_s, scratch, gh_s)?;
    // Both heads read h: its gradient is the sum of theirs.
    for (a, &b) in gh_t.iter_mut().zip(gh_s.iter()) {
        *a += b;
    }
    bottom.backward(batch, input, b_cache, gh_t, grads_b, scratch)?;
    Ok(loss)
}

impl JointLoss {
    /// Fills `total` from the parts and the student term.
    fn with_total(mut self, student_term: f32, gamma: f32) -> Self {
        self.total = self.teacher_ce + student_term + gamma * self.matching;
        self
    }
}

/// One optimizer step on the three parameter sets together, as one model with parameters
/// `[bottom | teacher_head | student_head]`: [`Optimizer::begin_step`] once with every gradient
/// (so global-norm clipping sees all three sets and Adam's step count advances once per joint
/// step), then [`Optimizer::update`] for each trainable layer with its parameters, gradients
/// and state, in that order.
///
/// # Shapes
/// - `grads`: `[P]`, `P` the sum of the three `param_len()`, laid out as [`JointBuffers::grads`]
/// - `state`: `[opt.state_len(P)]`, laid out the same way (`state_per_param()` values per
///   parameter)
///
/// # Errors
/// [`ShapeError::Length`] naming `GradParams` or `OptimizerState`; nothing is updated then.
pub fn apply_joint<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize, O>(
    bottom: &mut Sequential<L1, N1>,
    teacher_head: &mut Sequential<L2, N2>,
    student_head: &mut Sequential<L3, N3>,
    grads: &mut [f32],
    opt: &mut O,
    state: &mut [f32],
) -> Result<(), Error>
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
    O: Optimizer + ?Sized,
{
    let (n_b, n_t, n_s) = (
        bottom.param_len(),
        teacher_head.param_len(),
        student_head.param_len(),
    );
    let n = n_b.saturating_add(n_t).saturating_add(n_s);
    check_len(Buffer::GradParams, n, grads.len())?;
    check_len(Buffer::OptimizerState, opt.state_len(n), state.len())?;
    opt.begin_step(grads);
    let per = opt.state_per_param();
    let (g_b, rest) = grads.split_at(n_b);
    let (g_t, g_s) = rest.split_at(n_t);
    let (s_b, rest) = split_prefix(Buffer::OptimizerState, state, n_b.saturating_mul(per))?;
    let (s_t, s_s) = split_prefix(Buffer::OptimizerState, rest, n_t.saturating_mul(per))?;
    update_model(bottom, g_b, opt, s_b)?;
    update_model(teacher_head, g_t, opt, s_t)?;
    update_model(student_head, g_s, opt, s_s)
}

/// [`Optimizer::update`] for each trainable layer of `model` (no `begin_step`).
fn update_model<L: Layer, const N: usize, O: Optimizer + ?Sized>(
    model: &mut Sequential<L, N>,
    grads: &[f32],
    opt: &mut O,
    state: &mut [f32],
) -> Result<(), Error> {
    let per = opt.state_per_param();
    let mut rest = state;
    model.update_params(grads, |p, g| {
        let n = p.len().saturating_mul(per);
        if let Some((s, tail)) = core::mem::take(&mut rest).split_at_mut_checked(n) {
            opt.update(p, g, s);
            rest = tail;
        }
    })
}

/// One joint training step: zero `bufs.grads`, [`joint_grads`], then [`apply_joint`] with
/// `bufs.opt_state`. Returns the loss before the update.
///
/// # Shapes
/// As [`joint_grads`]; `bufs.opt_state`: `[opt.state_len(bufs.grads.len())]`.
///
/// # Errors
/// As [`joint_grads`], and [`ShapeError::Length`] naming `OptimizerState` (checked after the
/// others, before anything is written).
/// The parameters are only updated when every step before succeeded.
#[allow(clippy::too_many_arguments)]
pub fn joint_step<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize, R, O>(
    bottom: &mut Sequential<L1, N1>,
    teacher_head: &mut Sequential<L2, N2>,
    student_head: &mut Sequential<L3, N3>,
    input: &[f32],
    labels: &[u32],
    bufs: &mut JointBuffers<'_>,
    rng: &mut R,
    config: &JointConfig,
    opt: &mut O,
) -> Result<JointLoss, Error>
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
    R: RngCore + ?Sized,
    O: Optimizer + ?Sized,
{
    // Every error is found before the gradients are zeroed: nothing is written on error.
    let (_, _, lens) = check_joint(
        bottom,
        teacher_head,
        student_head,
        input,
        labels,
        bufs,
        config,
    )?;
    check_len(
        Buffer::OptimizerState,
        opt.state_len(lens.grads),
        bufs.opt_state.len(),
    )?;
    bufs.grads.fill(0.0);
    let loss = joint_grads(
        bottom,
        teacher_head,
        student_head,
        input,
        labels,
        bufs,
        rng,
        config,
    )?;
    apply_joint(
        bottom,
        teacher_head,
        student_head,
        bufs.grads,
        opt,
        bufs.opt_state,
    )?;
    Ok(loss)
}

/// One pass of [`joint_step`] over a data set in mini-batches of `batch_size` (the last one
/// may be smaller), in the order given (shuffle beforehand). Returns every part of the loss
/// averaged over the epoch, each batch weighted by its size.
///
/// # Shapes
/// - `inputs`: `[samples, bottom.input_len()]`
/// - `labels`: `[samples]`
/// - `bufs`: sized by [`joint_buffer_lens`](super::joint_buffer_lens)`(…, batch_size, opt)`
///
/// # Errors
/// [`ShapeError::Dimension`] if `batch_size` is 0 or there are no samples;
/// [`ShapeError::Length`] with `Input` if `inputs` is not `labels.len()` samples; otherwise as [`joint_step`]. A
/// failing batch stops the epoch; the batches before it have been applied.
#[allow(clippy::too_many_arguments)]
pub fn joint_epoch<L1, const N1: usize, L2, const N2: usize, L3, const N3: usize, R, O>(
    bottom: &mut Sequential<L1, N1>,
    teacher_head: &mut Sequential<L2, N2>,
    student_head: &mut Sequential<L3, N3>,
    inputs: &[f32],
    labels: &[u32],
    batch_size: usize,
    bufs: &mut JointBuffers<'_>,
    rng: &mut R,
    config: &JointConfig,
    opt: &mut O,
) -> Result<JointLoss, Error>
where
    L1: Layer,
    L2: Layer,
    L3: Layer,
    R: RngCore + ?Sized,
    O: Optimizer + ?Sized,
{
    let per_sample = bottom.input_len();
    let samples = check_epoch(per_sample, inputs.len(), labels.len(), batch_size)?;
    let mut sum = JointLoss::default();
    for (x, y) in inputs
        .chunks(batch_size.saturating_mul(per_sample))
        .zip(labels.chunks(batch_size))
    {
        let l = joint_step(
            bottom,
            teacher_head,
            student_head,
            x,
            y,
            bufs,
            rng,
            config,
            opt,
        )?;
        let w = y.len() as f32;
        sum.total += l.total * w;
        sum.teacher_ce += l.teacher_ce * w;
        sum.student_ce += l.student_ce * w;
        sum.matching += l.matching * w;
        sum.kd += l.kd * w;
    }
    let inv = 1.0 / samples as f32;
    Ok(JointLoss {
        total: sum.total * inv,
        teacher_ce: sum.teacher_ce * inv,
        student_ce: sum.student_ce * inv,
        matching: sum.matching * inv,
        kd: sum.kd * inv,
    })
}

/// Validates an epoch's data: returns the number of samples.
pub(super) fn check_epoch(
    per_sample: usize,
    inputs: usize,
    labels: usize,
    batch_size: usize,
) -> Result<usize, Error> {
    if batch_size == 0 || labels == 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Input, labels.saturating_mul(per_sample), inputs)?;
    Ok(labels)
}
