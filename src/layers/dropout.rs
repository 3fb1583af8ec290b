//! Inverted dropout: in training each value is kept with probability `1 - rate` and scaled by
//! `1 / (1 - rate)`, or set to zero; in inference the layer is the identity.
//!
//! Scaling the kept values during training (rather than scaling everything at inference) keeps
//! the expected output equal to the input, so the deployed model needs no correction. The mask
//! drawn by `forward_train` is stored in the cache as per-element multipliers (0 or
//! `1 / (1 - rate)`); backward multiplies the output gradient by exactly that mask.

use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::layers::{check_backward, check_io, Layer};
use crate::rng::{bernoulli, RngCore};

/// A dropout layer over `len` values per sample. No parameters; the cache holds the mask,
/// `batch * len` values.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DropoutConfig {
    /// Values per sample.
    pub len: usize,
    /// Probability of dropping each value in training, in `[0, 1)`.
    pub rate: f32,
}

impl DropoutConfig {
    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `len` is 0; [`Error::Config`] if `rate` is NaN or outside
    /// `[0, 1)`.
    pub fn init(self) -> Result<Dropout, Error> {
        if self.len == 0 {
            return Err(ShapeError::Dimension.into());
        }
        // Written so that NaN fails: every comparison with NaN is false.
        if !(self.rate >= 0.0 && self.rate < 1.0) {
            return Err(Error::Config);
        }
        let keep = 1.0 - self.rate;
        Ok(Dropout {
            config: self,
            keep,
            scale: 1.0 / keep,
        })
    }
}

/// A dropout layer; see [`DropoutConfig`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    config: DropoutConfig,
    /// Probability of keeping a value, `1 - rate`.
    keep: f32,
    /// Multiplier of the kept values, `1 / (1 - rate)`.
    scale: f32,
}

impl Dropout {
    /// The configuration.
    pub fn config(&self) -> &DropoutConfig {
        &self.config
    }

    /// The multiplier applied to kept values in training, `1 / (1 - rate)`.
    pub fn scale(&self) -> f32 {
        self.scale
    }
}

impl Layer for Dropout {
    fn input_len(&self) -> usize {
        self.config.len
    }

    fn output_len(&self) -> usize {
        self.config.len
    }

    /// The mask: one multiplier per value. Saturates on overflow (such a batch is rejected by
    /// every call anyway).
    fn cache_len(&self, batch: usize) -> usize {
        batch.saturating_mul(self.config.len)
    }

    /// Inference: copies `input` to `output` bit for bit.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, len]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`) for a wrong buffer length. Nothing is written
    /// on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        let len = self.config.len;
        check_io(batch, len, len, input.len(), output.len())?;
        output.copy_from_slice(input);
        Ok(())
    }

    /// Training: draws for each value whether it is kept (probability `1 - rate`, one
    /// [`bernoulli`] draw per value in order), stores the multiplier (`1 / (1 - rate)` or 0) in
    /// `cache` and writes `input * multiplier`. With `rate == 0` nothing is drawn, the mask is
    /// all ones and the output is the input. A dropped NaN or infinity gives NaN (`x * 0`).
    ///
    /// # Shapes
    /// `input`, `output`, `cache`: `[batch, len]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`, `Cache`) for a wrong buffer length. Nothing is
    /// written and nothing drawn on error.
    fn forward_train<R: RngCore + ?Sized>(
        &mut self,
        batch: usize,
        input: &[f32],
        output: &mut [f32],
        cache: &mut [f32],
        rng: &mut R,
    ) -> Result<(), Error> {
        let len = self.config.len;
        let (n, _) = check_io(batch, len, len, input.len(), output.len())?;
        check_len(Buffer::Cache, n, cache.len())?;
        if self.config.rate == 0.0 {
            cache.fill(1.0);
            output.copy_from_slice(input);
            return Ok(());
        }
        for ((o, m), &x) in output.iter_mut().zip(cache.iter_mut()).zip(input) {
            *m = if bernoulli(rng, self.keep) {
                self.scale
            } else {
                0.0
            };
            *o = x * *m;
        }
        Ok(())
    }

    /// Writes `grad_input = grad_output ⊙ mask` with the mask `forward_train` left in `cache`
    /// (no new draw): zero where a value was dropped, `grad_output / (1 - rate)` where it was
    /// kept.
    ///
    /// # Shapes
    /// `input`, `output`, `cache`, `grad_output`, `grad_input`: `[batch, len]`; `grad_params`:
    /// empty if given.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0; [`ShapeError::Length`] naming the first buffer
    /// of wrong length. Nothing is written on error.
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
        if let Some(gi) = grad_input {
            for ((d, &g), &m) in gi.iter_mut().zip(grad_output).zip(cache) {
                *d = g * m;
            }
        }
        Ok(())
    }
}
