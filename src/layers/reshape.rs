//! Reshape and flatten: a copy of `len` values per sample.
//!
//! Every tensor is row-major, so reshaping `[h, w, c]` into `[h * w * c]` (flatten) or any other
//! shape of the same size changes only how the next layer reads the values, not the values or
//! their order. The layer exists so a [`Sequential`](crate::layers) model can state the change of
//! view; its forward and backward copy.

use crate::error::{Error, ShapeError};
use crate::layers::{check_backward, check_io, Layer};

/// A reshape of `len` values per sample (same count in and out). No parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ReshapeConfig {
    /// Values per sample.
    pub len: usize,
}

/// Flatten is a reshape to one dimension: the same layer.
pub type FlattenConfig = ReshapeConfig;

impl ReshapeConfig {
    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `len` is 0.
    pub fn init(self) -> Result<Reshape, Error> {
        if self.len == 0 {
            return Err(ShapeError::Dimension.into());
        }
        Ok(Reshape { config: self })
    }
}

/// A reshape (or flatten) layer; see [`ReshapeConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reshape {
    config: ReshapeConfig,
}

/// Flatten is a reshape to one dimension: the same layer.
pub type Flatten = Reshape;

impl Reshape {
    /// The configuration.
    pub fn config(&self) -> &ReshapeConfig {
        &self.config
    }
}

impl Layer for Reshape {
    fn input_len(&self) -> usize {
        self.config.len
    }

    fn output_len(&self) -> usize {
        self.config.len
    }

    /// Copies `input` to `output` bit for bit.
    ///
    /// # Shapes
    /// `input`, `output`: `[batch, len]` (any per-sample shape of `len` values).
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

    /// Copies `grad_output` to `grad_input`.
    ///
    /// # Shapes
    /// `input`, `output`, `grad_output`, `grad_input`: `[batch, len]`; `cache`: empty;
    /// `grad_params`: empty if given.
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
            gi.copy_from_slice(grad_output);
        }
        Ok(())
    }
}
