//! Layer normalisation: each vector of `dim` values is normalised over its own values.

use super::weighted::layer_params;
use super::{check_backward, check_io, Layer, Params};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::kernels::generic::grad::norm::layer_norm_backward_f32;
use crate::num::math;
use crate::rng::RngCore;
use crate::train::init::Init;

/// Configuration of a [`LayerNorm`] layer.
///
/// One sample is `[positions, dim]`; each of its `positions` rows is normalised over its `dim`
/// values (as PyTorch's `LayerNorm(dim)` applied to a sequence).
///
/// # Buffers
/// - parameters (`2 * dim`): `gamma` (scale) then `beta` (shift)
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerNormConfig {
    /// Rows per sample (sequence length; 1 for a plain feature vector).
    pub positions: usize,
    /// Length of each normalised row.
    pub dim: usize,
    /// Added to the variance before the square root; finite and `> 0`.
    pub eps: f32,
}

impl LayerNormConfig {
    /// A configuration with PyTorch's default `eps = 1e-5`.
    pub fn new(positions: usize, dim: usize) -> Self {
        LayerNormConfig {
            positions,
            dim,
            eps: 1e-5,
        }
    }

    /// Number of parameters, `2 * dim`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(product(&[2, self.dim])?)
    }

    /// Validates the configuration and borrows the parameters.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `positions` or `dim` is zero or a size overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`] if `params` is not `2 * dim` long;
    /// [`Error::Config`] if `eps` is not finite and positive.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<LayerNorm<'a>, Error> {
        if self.positions == 0 || self.dim == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let len = product(&[self.positions, self.dim])?;
        let params = params.into();
        check_len(Buffer::Params, self.param_len()?, params.len())?;
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return Err(Error::Config);
        }
        Ok(LayerNorm {
            config: self,
            len,
            params,
        })
    }
}

/// A layer-normalisation layer: per row, `y = gamma ⊙ (x - mean) / sqrt(var + eps) + beta`, with
/// the row's mean and biased variance. Training and inference compute the same output;
/// [`Layer::forward_train`] also saves each row's mean and `1 / sqrt(var + eps)` (interleaved,
/// `2 * batch * positions` values) for backward.
///
/// NaN in a row makes that whole row NaN.
#[derive(Debug)]
pub struct LayerNorm<'a> {
    config: LayerNormConfig,
    /// `positions * dim`, validated not to overflow.
    len: usize,
    params: Params<'a>,
}

impl LayerNorm<'_> {
    /// The validated configuration.
    pub fn config(&self) -> &LayerNormConfig {
        &self.config
    }

    /// The scales, `[dim]`.
    pub fn gamma(&self) -> &[f32] {
        self.params.as_slice().split_at(self.config.dim).0
    }

    /// The shifts, `[dim]`.
    pub fn beta(&self) -> &[f32] {
        self.params.as_slice().split_at(self.config.dim).1
    }

    /// Normalises every row of `input` into `output`, calling `save(mean, rstd)` per row.
    /// Lengths must already be checked (equal multiples of `dim`).
    fn normalise(&self, input: &[f32], output: &mut [f32], mut save: impl FnMut(f32, f32)) {
        let dim = self.config.dim;
        let n = dim as f32;
        let (gamma, beta) = self.params.as_slice().split_at(dim);
        let rows = input.chunks_exact(dim).zip(output.chunks_exact_mut(dim));
        for (x, y) in rows {
            let mean = x.iter().sum::<f32>() / n;
            // Two passes: no cancellation for rows with a large mean.
            let var = x.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let rstd = 1.0 / math::sqrt(var + self.config.eps);
            for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
                *y = g * ((x - mean) * rstd) + b;
            }
            save(mean, rstd);
        }
    }
}

impl Layer for LayerNorm<'_> {
    fn input_len(&self) -> usize {
        self.len
    }

    fn output_len(&self) -> usize {
        self.len
    }

    layer_params!(params);

    /// `2 * batch * positions`: each row's mean and `1 / sqrt(var + eps)`. Saturates on overflow
    /// (such a batch is then rejected by the length checks).
    fn cache_len(&self, batch: usize) -> usize {
        batch
            .saturating_mul(self.config.positions)
            .saturating_mul(2)
    }

    /// Normalises each row (no cache needed).
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, positions, dim]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0` or the size overflows; [`ShapeError::Length`]
    /// for a wrong input or output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.len, self.len, input.len(), output.len())?;
        self.normalise(input, output, |_, _| {});
        Ok(())
    }

    /// As [`forward`](Layer::forward), also saving each row's mean and `1 / sqrt(var + eps)`.
    ///
    /// # Shapes
    /// - `input`, `output`: `[batch, positions, dim]`
    /// - `cache`: `[batch, positions, 2]` (mean, rstd)
    ///
    /// # Errors
    /// As [`forward`](Layer::forward), and [`ShapeError::Length`] with [`Buffer::Cache`] for a
    /// wrong cache length. Nothing is written on error.
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
        let mut slots = cache.chunks_exact_mut(2);
        self.normalise(input, output, |mean, rstd| {
            if let Some([m, r]) = slots.next() {
                *m = mean;
                *r = rstd;
            }
        });
        Ok(())
    }

    /// Backward (see
    /// [`layer_norm_backward_f32`]).
    ///
    /// # Shapes
    /// - `input`, `output`, `grad_output`, `grad_input`: `[batch, positions, dim]`
    /// - `cache`: `[batch, positions, 2]` as filled by `forward_train`
    /// - `grad_params`: `[2, dim]`: `dgamma` then `dbeta` (accumulated)
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
        layer_norm_backward_f32(
            self.config.dim,
            input,
            cache,
            self.gamma(),
            grad_output,
            grad_input,
            grad_params,
        )?;
        Ok(())
    }

    /// Sets `gamma` to 1 and `beta` to 0 (`init` and `rng` are not used).
    ///
    /// # Errors
    /// [`Error::Frozen`] if the parameters are frozen.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let _ = (init, rng);
        let dim = self.config.dim;
        let params = self.params.as_mut_slice().ok_or(Error::Frozen)?;
        let (gamma, beta) = params.split_at_mut(dim);
        gamma.fill(1.0);
        beta.fill(0.0);
        Ok(())
    }
}
