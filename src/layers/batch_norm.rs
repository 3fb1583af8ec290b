//! Batch normalisation over the channels of NHWC activations (or dense features), in training
//! mode (batch statistics, running statistics updated) and inference mode (running statistics).

use super::weighted::layer_params;
use super::{check_backward, check_io, Layer, Params};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::grad::norm::batch_norm_backward_f32;
use crate::num::math;
use crate::rng::RngCore;
use crate::train::init::Init;

/// Configuration of a [`BatchNorm`] layer.
///
/// One sample is `[positions, channels]` (channels last): `positions` is 1 after a dense layer and
/// `H·W` after a convolution. Each channel is normalised with statistics over the whole batch and
/// all positions, as PyTorch's `BatchNorm1d`/`BatchNorm2d`.
///
/// # Buffers
/// - parameters (`2 * channels`): `gamma` (scale) then `beta` (shift)
/// - running statistics (`2 * channels`): running mean then running (unbiased) variance; frozen
///   for deployment, trainable to train
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BatchNormConfig {
    /// Spatial positions per sample (1 after a dense layer, `H·W` after a convolution).
    pub positions: usize,
    /// Channels (features) normalised independently.
    pub channels: usize,
    /// Added to the variance before the square root; finite and `> 0`.
    pub eps: f32,
    /// Weight of the batch statistic in the running-statistics update, in `[0, 1]`:
    /// `running = (1 - momentum) · running + momentum · batch`.
    pub momentum: f32,
}

impl BatchNormConfig {
    /// A configuration with PyTorch's defaults: `eps = 1e-5`, `momentum = 0.1`.
    pub fn new(positions: usize, channels: usize) -> Self {
        BatchNormConfig {
            positions,
            channels,
            eps: 1e-5,
            momentum: 0.1,
        }
    }

    /// Number of parameters, `2 * channels` (also the number of running statistics).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(product(&[2, self.channels])?)
    }

    /// Validates the configuration and borrows the parameters and running statistics.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `positions` or `channels` is zero or a size overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`] or [`Buffer::Stats`] if a buffer is not
    /// `2 * channels` long; [`Error::Config`] if `eps` is not finite and positive or `momentum` is
    /// not in `[0, 1]`. The values of the buffers are not checked: a negative running variance
    /// gives NaN outputs.
    pub fn init<'a>(
        self,
        params: impl Into<Params<'a>>,
        stats: impl Into<Params<'a>>,
    ) -> Result<BatchNorm<'a>, Error> {
        if self.positions == 0 || self.channels == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let len = product(&[self.positions, self.channels])?;
        let param_len = self.param_len()?;
        let (params, stats) = (params.into(), stats.into());
        check_len(Buffer::Params, param_len, params.len())?;
        check_len(Buffer::Stats, param_len, stats.len())?;
        let eps_ok = self.eps.is_finite() && self.eps > 0.0;
        if !eps_ok || !(0.0..=1.0).contains(&self.momentum) {
            return Err(Error::Config);
        }
        Ok(BatchNorm {
            config: self,
            len,
            params,
            stats,
        })
    }
}

/// A batch-normalisation layer: `y = gamma · (x - mean) / sqrt(var + eps) + beta` per channel.
///
/// - [`Layer::forward`] (inference) uses the running statistics.
/// - [`Layer::forward_train`] uses the batch's mean and biased variance over `batch · positions`
///   values per channel, and updates the running statistics (PyTorch's convention): the mean with
///   the batch mean, the variance with the **unbiased** batch variance (`n / (n - 1)` times the
///   biased one). With `n = 1` no unbiased variance exists: the running variance is then left
///   unchanged (PyTorch refuses such a batch); the running mean is still updated. Its cache
///   (`2 * channels` values) holds the batch mean of each channel, then `1 / sqrt(var + eps)`.
/// - [`Layer::backward`] is the training-mode gradient (through the batch statistics).
///
/// NaN inputs give NaN outputs, and in training mode NaN running statistics.
#[derive(Debug)]
pub struct BatchNorm<'a> {
    config: BatchNormConfig,
    /// `positions * channels`, validated not to overflow.
    len: usize,
    params: Params<'a>,
    stats: Params<'a>,
}

impl<'a> BatchNorm<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &BatchNormConfig {
        &self.config
    }

    /// The scales, `[channels]`.
    pub fn gamma(&self) -> &[f32] {
        self.params.as_slice().split_at(self.config.channels).0
    }

    /// The shifts, `[channels]`.
    pub fn beta(&self) -> &[f32] {
        self.params.as_slice().split_at(self.config.channels).1
    }

    /// The running statistics: mean then variance, `[2, channels]`.
    pub fn stats(&self) -> &[f32] {
        self.stats.as_slice()
    }

    /// The running mean, `[channels]`.
    pub fn running_mean(&self) -> &[f32] {
        self.stats.as_slice().split_at(self.config.channels).0
    }

    /// The running variance, `[channels]`.
    pub fn running_var(&self) -> &[f32] {
        self.stats.as_slice().split_at(self.config.channels).1
    }

    /// The running statistics for writing (mean then variance), or `None` if they are frozen.
    pub fn stats_mut(&mut self) -> Option<&mut [f32]> {
        self.stats.as_mut_slice()
    }

    /// Resets the running statistics to mean 0 and variance 1 (PyTorch's initial values).
    ///
    /// # Errors
    /// [`Error::Frozen`] if the statistics are frozen.
    pub fn reset_stats(&mut self) -> Result<(), Error> {
        let channels = self.config.channels;
        let stats = self.stats.as_mut_slice().ok_or(Error::Frozen)?;
        let (mean, var) = stats.split_at_mut(channels);
        mean.fill(0.0);
        var.fill(1.0);
        Ok(())
    }

    /// Per-channel `(gamma, beta, mean, 1 / sqrt(var + eps))` from the parameters and the
    /// running statistics: what inference and folding apply.
    pub(crate) fn inference_affine(&self) -> impl Iterator<Item = (f32, f32, f32, f32)> + '_ {
        let eps = self.config.eps;
        self.gamma()
            .iter()
            .zip(self.beta())
            .zip(self.running_mean().iter().zip(self.running_var()))
            .map(move |((&g, &b), (&m, &v))| (g, b, m, 1.0 / math::sqrt(v + eps)))
    }
}

impl Layer for BatchNorm<'_> {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.len
    }

    layer_params!(params);

    /// `2 * channels` for any batch: the batch mean and `1 / sqrt(var + eps)` of each channel.
    fn cache_len(&self, batch: usize) -> usize {
        let _ = batch;
        self.stats.len()
    }

    /// Inference: `y = gamma · (x - running_mean) / sqrt(running_var + eps) + beta`.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, positions, channels]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0` or the size overflows; [`ShapeError::Length`]
    /// for a wrong input or output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        let channels = self.config.channels;
        for (c, (g, b, m, r)) in self.inference_affine().enumerate() {
            let xs = input.iter().skip(c).step_by(channels);
            let ys = output.iter_mut().skip(c).step_by(channels);
            for (y, &x) in ys.zip(xs) {
                *y = g * ((x - m) * r) + b;
            }
        }
        Ok(())
    }

    /// Training mode: normalises with the batch statistics, updates the running statistics and
    /// saves the batch mean and `1 / sqrt(var + eps)` of each channel in `cache`.
    ///
    /// # Shapes
    /// - `input`, `output`: `[batch, positions, channels]`
    /// - `cache`: `[2, channels]`
    ///
    /// # Errors
    /// As [`forward`](Layer::forward), [`ShapeError::Length`] with [`Buffer::Cache`] for a wrong
    /// cache length, and [`Error::Frozen`] if the running statistics are frozen. Nothing is
    /// written on error.
    fn forward_train<R: RngCore + ?Sized>(
        &mut self,
        batch: usize,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
        rng: &mut R,
    ) -> Result<(), Error> {
        let _ = rng;
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        check_len(Buffer::Cache, self.cache_len(batch), cache.len())?;
        let BatchNormConfig {
            channels,
            eps,
            momentum,
            ..
        } = self.config;
        let stats = self.stats.as_mut_slice().ok_or(Error::Frozen)?;
        // `rows` fits: `batch * len` was checked not to overflow.
        let rows = batch * self.config.positions;
        let n = rows as f32;
        let (mean, var) = cache.split_at_mut(channels);
        mean.fill(0.0);
        var.fill(0.0);
        for row in input.chunks_exact(channels) {
            mean.iter_mut().zip(row).for_each(|(m, &x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= n);
        // Two passes (mean, then squared deviations) rather than E[x²] - E[x]², which cancels
        // catastrophically for inputs with a large mean.
        for row in input.chunks_exact(channels) {
            for ((v, &m), &x) in var.iter_mut().zip(mean.iter()).zip(row) {
                *v += (x - m) * (x - m);
            }
        }
        let (running_mean, running_var) = stats.split_at_mut(channels);
        let unbiased = if rows > 1 { n / (n - 1.0) } else { 0.0 };
        let batch_stats = mean.iter().zip(var.iter_mut());
        let running = running_mean.iter_mut().zip(running_var.iter_mut());
        for ((&m, v), (rm, rv)) in batch_stats.zip(running) {
            *v /= n; // biased variance, used to normalise
            *rm = (1.0 - momentum) * *rm + momentum * m;
            if rows > 1 {
                *rv = (1.0 - momentum) * *rv + momentum * (*v * unbiased);
            }
            *v = 1.0 / math::sqrt(*v + eps); // the cache keeps inv_std
        }
        let gamma_beta = self.params.as_slice().split_at(channels);
        let per_channel = gamma_beta
            .0
            .iter()
            .zip(gamma_beta.1)
            .zip(mean.iter().zip(var.iter()));
        for (c, ((&g, &b), (&m, &r))) in per_channel.enumerate() {
            let xs = input.iter().skip(c).step_by(channels);
            let ys = output.iter_mut().skip(c).step_by(channels);
            for (y, &x) in ys.zip(xs) {
                *y = g * ((x - m) * r) + b;
            }
        }
        Ok(())
    }

    /// Training-mode backward (see
    /// [`batch_norm_backward_f32`]).
    ///
    /// # Shapes
    /// - `input`, `output`, `grad_output`, `grad_input`: `[batch, positions, channels]`
    /// - `cache`: `[2, channels]` as filled by `forward_train`
    /// - `grad_params`: `[2, channels]`: `dgamma` then `dbeta` (accumulated)
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length or `batch == 0`; [`Error::Frozen`] if
    /// `grad_params` is given for frozen parameters. Nothing is written on error.
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        batch_norm_backward_f32(
            self.config.channels,
            input,
            cache,
            self.gamma(),
            grad_output,
            grad_input,
            grad_params,
        )?;
        Ok(())
    }

    /// Sets `gamma` to 1 and `beta` to 0 (`init` and `rng` are not used); the running statistics
    /// are left alone (see [`BatchNorm::reset_stats`]).
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let _ = (init, rng);
        let channels = self.config.channels;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        let (gamma, beta) = params.split_at_mut(channels);
        gamma.fill(1.0);
        beta.fill(0.0);
        Ok(())
    }
}
