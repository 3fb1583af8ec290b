//! Global average pooling: the mean of each channel over all positions.

use crate::error::{Error, ShapeError};
use crate::kernels::generic::grad::pool::global_avg_pool_backward_f32;
use crate::kernels::generic::pool::global_avg_pool_f32;
use crate::layers::{check_backward, check_io, Layer};

/// Global average pooling: input `[positions, channels]` (an NHWC map with
/// `positions = h * w`, or a sequence), output `[channels]`, the mean of each channel. No
/// parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GlobalAvgPoolConfig {
    /// Spatial positions averaged over.
    pub positions: usize,
    /// Channels.
    pub channels: usize,
}

impl GlobalAvgPoolConfig {
    /// Validates the shape and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or `positions * channels` overflows.
    pub fn init(self) -> Result<GlobalAvgPool, Error> {
        if self.positions == 0 || self.channels == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let input_len = self
            .positions
            .checked_mul(self.channels)
            .ok_or(ShapeError::Dimension)?;
        Ok(GlobalAvgPool {
            config: self,
            input_len,
        })
    }
}

/// A global average pooling layer; see [`GlobalAvgPoolConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalAvgPool {
    config: GlobalAvgPoolConfig,
    input_len: usize,
}

impl GlobalAvgPool {
    /// The configuration.
    pub fn config(&self) -> &GlobalAvgPoolConfig {
        &self.config
    }
}

impl Layer for GlobalAvgPool {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.config.channels
    }

    /// The mean over positions of each channel.
    ///
    /// # Shapes
    /// `input`: `[batch, positions, channels]`; `output`: `[batch, channels]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`) for a wrong buffer length. Nothing is written
    /// on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len,
            self.config.channels,
            input.len(),
            output.len(),
        )?;
        let c = &self.config;
        global_avg_pool_f32(batch, c.positions, c.channels, input, output)?;
        Ok(())
    }

    /// Writes the input gradient: each position of a channel gets the channel's output gradient
    /// divided by `positions`.
    ///
    /// # Shapes
    /// `input`, `grad_input`: `[batch, positions, channels]`; `output`, `grad_output`:
    /// `[batch, channels]`; `cache`: empty; `grad_params`: empty if given.
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
            let c = &self.config;
            global_avg_pool_backward_f32(batch, c.positions, c.channels, grad_output, gi)?;
        }
        Ok(())
    }
}
