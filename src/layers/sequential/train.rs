//! Mini-batch training of a [`Sequential`] model with caller-provided buffers.

use super::Sequential;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::Layer;
use crate::rng::RngCore;
use crate::train::optim::Optimizer;

/// The buffers one training step needs, borrowed from the caller (on a device: `static`s sized
/// with [`Sequential::train_buffer_lens`]).
pub struct TrainBuffers<'b> {
    /// Activation cache: at least `cache_len(batch)`.
    pub cache: &'b mut [f32],
    /// Loss gradient with respect to the model output: at least `batch * output_len()`.
    pub grad_output: &'b mut [f32],
    /// Parameter gradients: exactly `param_len()`.
    pub grads: &'b mut [f32],
    /// Scratch: at least `scratch_len(batch)`.
    pub scratch: &'b mut [f32],
    /// Optimizer state: exactly `opt.state_len(param_len())` (empty for a stateless optimizer).
    /// Zero it before the first step.
    pub opt_state: &'b mut [f32],
}

/// The lengths of the [`TrainBuffers`] for a given batch size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TrainBufferLens {
    /// Length of `cache`.
    pub cache: usize,
    /// Length of `grad_output`.
    pub grad_output: usize,
    /// Length of `grads`.
    pub grads: usize,
    /// Length of `scratch`.
    pub scratch: usize,
}

impl TrainBufferLens {
    /// Total number of f32 values; `4 *` this is the training RAM in bytes beyond the parameters.
    pub fn total(&self) -> usize {
        self.cache + self.grad_output + self.grads + self.scratch
    }
}

impl<L: Layer, const N: usize> Sequential<L, N> {
    /// The buffer lengths a training step on batches of up to `batch` samples needs.
    pub fn train_buffer_lens(&self, batch: usize) -> TrainBufferLens {
        TrainBufferLens {
            cache: self.cache_len(batch),
            grad_output: batch.saturating_mul(self.output_len()),
            grads: self.param_len(),
            scratch: self.scratch_len(batch),
        }
    }

    /// Applies one optimizer step: [`Optimizer::begin_step`] with all the gradients, then
    /// [`Optimizer::update`] for each trainable layer with its parameters, gradients and state.
    ///
    /// # Shapes
    /// - `grads`: `[param_len()]`, as filled by [`backward`](Self::backward)
    /// - `state`: `[opt.state_len(param_len())]`
    ///
    /// # Errors
    /// [`ShapeError::Length`] naming `grads` (`GradParams`) or `state` (`OptimizerState`) if a length
    /// is wrong; nothing is updated then.
    pub fn apply<O: Optimizer + ?Sized>(
        &mut self,
        grads: &mut [f32],
        opt: &mut O,
        state: &mut [f32],
    ) -> Result<(), Error> {
        let n = self.param_len();
        check_len(Buffer::GradParams, n, grads.len())?;
        check_len(Buffer::OptimizerState, opt.state_len(n), state.len())?;
        opt.begin_step(grads);
        let per_param = opt.state_per_param();
        let (mut g_rest, mut s_rest): (&[f32], &mut [f32]) = (grads, state);
        for layer in self.layers.iter_mut().filter(|l| l.is_trainable()) {
            let len = layer.param_len();
            let (g, g_tail) = g_rest.split_at(len);
            let (s, s_tail) = core::mem::take(&mut s_rest).split_at_mut(len * per_param);
            if let Some(p) = layer.params_mut() {
                opt.update(p, g, s);
            }
            g_rest = g_tail;
            s_rest = s_tail;
        }
        Ok(())
    }

    /// One training step on a mini-batch: zero the gradients, forward in training mode, compute
    /// the loss and its gradient with `loss(output, grad_output)`, backward, then one optimizer
    /// step ([`apply`](Self::apply) with `bufs.opt_state`). Returns the loss.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `loss` receives the output `[batch, output_len()]` and must fill the gradient of the same
    ///   shape.
    ///
    /// # Errors
    /// [`ShapeError::Length`] for a buffer that is too short (or `grads` or `opt_state` not of
    /// their exact length), or the first error of a layer or of `loss`. The parameters are only
    /// updated when every step before succeeded.
    pub fn train_batch<R, F, O>(
        &mut self,
        batch: usize,
        input: &[f32],
        bufs: &mut TrainBuffers<'_>,
        rng: &mut R,
        loss: F,
        opt: &mut O,
    ) -> Result<f32, Error>
    where
        R: RngCore + ?Sized,
        F: FnOnce(&[f32], &mut [f32]) -> Result<f32, Error>,
        O: Optimizer + ?Sized,
    {
        let n_out = batch.saturating_mul(self.output_len());
        let avail = bufs.grad_output.len();
        let grad_output = bufs
            .grad_output
            .get_mut(..n_out)
            .ok_or(ShapeError::Length {
                buffer: Buffer::GradOutput,
                expected: n_out,
                actual: avail,
            })?;
        check_len(Buffer::GradParams, self.param_len(), bufs.grads.len())?;
        check_len(
            Buffer::OptimizerState,
            opt.state_len(self.param_len()),
            bufs.opt_state.len(),
        )?;
        bufs.grads.fill(0.0);
        let output = self.forward_train(batch, input, bufs.cache, rng)?;
        let value = loss(output, grad_output)?;
        self.backward(
            batch,
            input,
            bufs.cache,
            grad_output,
            bufs.grads,
            bufs.scratch,
        )?;
        self.apply(bufs.grads, opt, bufs.opt_state)?;
        Ok(value)
    }

    /// One pass over a data set in mini-batches of `batch_size` (the last one may be smaller),
    /// in the order given: shuffle the samples beforehand for stochastic gradient descent.
    /// `loss(output, targets, grad_output)` gets each batch's output and its rows of `targets`.
    /// Returns the mean of the batch losses weighted by batch size (the epoch's mean loss when
    /// `loss` returns a per-batch mean).
    ///
    /// # Shapes
    /// - `inputs`: `[samples, input_len()]`
    /// - `targets`: `[samples, t]` for any `t` (class labels: `t = 1`)
    /// - `bufs`: sized by [`train_buffer_lens`](Self::train_buffer_lens)`(batch_size)`
    ///
    /// # Errors
    /// [`ShapeError::Length`] if `inputs` is not a whole number of samples or `targets` not a
    /// whole number of rows per sample (or empty); [`ShapeError::Dimension`] if `batch_size` is
    /// 0; otherwise as [`train_batch`](Self::train_batch). A failing batch stops the epoch; the
    /// batches before it have been applied.
    #[allow(clippy::too_many_arguments)]
    pub fn train_epoch<T, R, F, O>(
        &mut self,
        inputs: &[f32],
        targets: &[T],
        batch_size: usize,
        bufs: &mut TrainBuffers<'_>,
        rng: &mut R,
        mut loss: F,
        opt: &mut O,
    ) -> Result<f32, Error>
    where
        R: RngCore + ?Sized,
        F: FnMut(&[f32], &[T], &mut [f32]) -> Result<f32, Error>,
        O: Optimizer + ?Sized,
    {
        if batch_size == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let per_sample = self.input_len();
        let samples = inputs.len() / per_sample.max(1);
        check_len(Buffer::Input, samples * per_sample, inputs.len())?;
        if samples == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let per_target = targets.len() / samples;
        check_len(Buffer::Targets, samples * per_target, targets.len())?;
        if per_target == 0 {
            return Err(ShapeError::Length {
                buffer: Buffer::Targets,
                expected: samples,
                actual: targets.len(),
            }
            .into());
        }
        let mut total = 0.0f32;
        for (x, t) in inputs
            .chunks(batch_size * per_sample)
            .zip(targets.chunks(batch_size * per_target))
        {
            let batch = x.len() / per_sample;
            let value =
                self.train_batch(batch, x, bufs, rng, |out, grad| loss(out, t, grad), opt)?;
            total += value * batch as f32;
        }
        Ok(total / samples as f32)
    }
}
