//! Mini-batch training of a [`Sequential`] model with caller-provided buffers.

use super::Sequential;
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::Layer;
use crate::rng::RngCore;

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

    /// One training step on a mini-batch: zero the gradients, forward in training mode, compute
    /// the loss and its gradient with `loss(output, grad_output)`, backward, then call
    /// `update(params, grads)` for each trainable layer (an optimizer step, see
    /// [`update_params`](Self::update_params)). Returns the loss.
    ///
    /// # Shapes
    /// - `input`: `[batch, input_len()]`
    /// - `loss` receives the output `[batch, output_len()]` and must fill the gradient of the same
    ///   shape.
    ///
    /// # Errors
    /// [`ShapeError::Length`] for a buffer that is too short (or `grads` not `param_len()` long),
    /// or the first error of a layer or of `loss`. The parameters are only updated when every
    /// step before succeeded.
    pub fn train_batch<R, F, U>(
        &mut self,
        batch: usize,
        input: &[f32],
        bufs: &mut TrainBuffers<'_>,
        rng: &mut R,
        loss: F,
        update: U,
    ) -> Result<f32, Error>
    where
        R: RngCore + ?Sized,
        F: FnOnce(&[f32], &mut [f32]) -> Result<f32, Error>,
        U: FnMut(&mut [f32], &[f32]),
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
        self.update_params(bufs.grads, update)?;
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
    pub fn train_epoch<T, R, F, U>(
        &mut self,
        inputs: &[f32],
        targets: &[T],
        batch_size: usize,
        bufs: &mut TrainBuffers<'_>,
        rng: &mut R,
        mut loss: F,
        mut update: U,
    ) -> Result<f32, Error>
    where
        R: RngCore + ?Sized,
        F: FnMut(&[f32], &[T], &mut [f32]) -> Result<f32, Error>,
        U: FnMut(&mut [f32], &[f32]),
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
            let value = self.train_batch(
                batch,
                x,
                bufs,
                rng,
                |out, grad| loss(out, t, grad),
                &mut update,
            )?;
            total += value * batch as f32;
        }
        Ok(total / samples as f32)
    }
}
