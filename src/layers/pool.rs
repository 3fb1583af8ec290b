//! Pooling layers: 2-D and 1-D max/average pooling and global average pooling (f32, no
//! parameters, no cache).
//!
//! Forward runs the pooling kernels of [`kernels::generic::pool`](crate::kernels::generic::pool)
//! (TFLite semantics: `Same` padding pads, but padded positions take no part in a maximum and are
//! not counted in an average). Backward runs the matching
//! [`grad::pool`](crate::kernels::generic::grad::pool) kernels, which recompute each window from
//! the input: max pooling sends a window's gradient to the element the forward maximum picked
//! (with ties, the first in row-major window order), average pooling spreads it evenly over the
//! window's unpadded elements.

use crate::error::{Error, ShapeError};
use crate::kernels::generic::grad::pool::{avg_pool2d_backward_f32, max_pool2d_backward_f32};
use crate::kernels::generic::pool::{avg_pool2d_f32, max_pool2d_f32, Pool1dShape, Pool2dShape};
use crate::kernels::{ActivationF32, Padding};
use crate::layers::{check_backward, check_io, Layer};

mod global;

pub use global::{GlobalAvgPool, GlobalAvgPoolConfig};

/// Which reduction a pooling window computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PoolKind {
    /// The largest value of the window (a NaN in the window gives NaN).
    Max,
    /// The mean of the window's unpadded values.
    Avg,
}

/// A 2-D pooling layer: input `[in_h, in_w, channels]` (NHWC per sample), output
/// `[out_h, out_w, channels]` with `(out_h, out_w)` from [`Pool2dConfig::output_hw`]. No
/// parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2dConfig {
    /// Max or average.
    pub kind: PoolKind,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Channels (pooled independently).
    pub channels: usize,
    /// Window height.
    pub window_h: usize,
    /// Window width.
    pub window_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Padding (`Same` pads, but padded positions are excluded from max and mean).
    pub padding: Padding,
}

impl Pool2dConfig {
    /// The kernel shape for `batch` samples.
    fn shape(&self, batch: usize) -> Pool2dShape {
        Pool2dShape {
            batch,
            in_h: self.in_h,
            in_w: self.in_w,
            channels: self.channels,
            window_h: self.window_h,
            window_w: self.window_w,
            stride_h: self.stride_h,
            stride_w: self.stride_w,
            padding: self.padding,
        }
    }

    /// Output height and width.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the per-sample size overflows;
    /// [`ShapeError::Parameter`] if a window or stride is zero or, with `Valid` padding, the
    /// window is larger than the input.
    pub fn output_hw(&self) -> Result<(usize, usize), ShapeError> {
        self.shape(1).output_hw()
    }

    /// Validates the shape and returns the layer.
    ///
    /// # Errors
    /// As [`Pool2dConfig::output_hw`].
    pub fn init(self) -> Result<Pool2d, Error> {
        let shape = self.shape(1);
        let (out_h, out_w) = shape.output_hw()?;
        Ok(Pool2d {
            config: self,
            out_h,
            out_w,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
        })
    }
}

/// A 2-D max or average pooling layer; see [`Pool2dConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d {
    config: Pool2dConfig,
    out_h: usize,
    out_w: usize,
    input_len: usize,
    output_len: usize,
}

impl Pool2d {
    /// The configuration.
    pub fn config(&self) -> &Pool2dConfig {
        &self.config
    }

    /// Output height and width.
    pub fn output_hw(&self) -> (usize, usize) {
        (self.out_h, self.out_w)
    }
}

/// Forward of a pooling of `kind` over the (validated) 2-D shape.
fn pool_forward(
    kind: PoolKind,
    shape: &Pool2dShape,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), Error> {
    match kind {
        PoolKind::Max => max_pool2d_f32(shape, ActivationF32::NONE, input, output)?,
        PoolKind::Avg => avg_pool2d_f32(shape, ActivationF32::NONE, input, output)?,
    }
    Ok(())
}

/// Backward of a pooling of `kind` over the (validated) 2-D shape.
fn pool_backward(
    kind: PoolKind,
    shape: &Pool2dShape,
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), Error> {
    match kind {
        PoolKind::Max => max_pool2d_backward_f32(shape, input, grad_output, grad_input)?,
        PoolKind::Avg => avg_pool2d_backward_f32(shape, grad_output, grad_input)?,
    }
    Ok(())
}

impl Layer for Pool2d {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    /// Pools every window of every channel.
    ///
    /// # Shapes
    /// `input`: `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w, channels]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`) for a wrong buffer length. Nothing is written
    /// on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        pool_forward(self.config.kind, &self.config.shape(batch), input, output)
    }

    /// Writes the input gradient (max: to each window's picked element; average: evenly over
    /// each window's unpadded elements; overlapping windows add up).
    ///
    /// # Shapes
    /// `input`, `grad_input`: `[batch, in_h, in_w, channels]`; `output`, `grad_output`:
    /// `[batch, out_h, out_w, channels]`; `cache`: empty; `grad_params`: empty if given.
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
        match grad_input {
            Some(gi) => pool_backward(
                self.config.kind,
                &self.config.shape(batch),
                input,
                grad_output,
                gi,
            ),
            None => Ok(()),
        }
    }
}

/// A 1-D pooling layer over time: input `[len, channels]`, output `[out_len, channels]` with
/// `out_len` from [`Pool1dConfig::output_len_axis`]. No parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool1dConfig {
    /// Max or average.
    pub kind: PoolKind,
    /// Input length (time steps).
    pub len: usize,
    /// Channels (pooled independently).
    pub channels: usize,
    /// Window length.
    pub window: usize,
    /// Stride.
    pub stride: usize,
    /// Padding (`Same` pads, but padded positions are excluded from max and mean).
    pub padding: Padding,
}

impl Pool1dConfig {
    /// The kernel shape for `batch` samples.
    fn shape(&self, batch: usize) -> Pool1dShape {
        Pool1dShape {
            batch,
            len: self.len,
            channels: self.channels,
            window: self.window,
            stride: self.stride,
            padding: self.padding,
        }
    }

    /// Output length along the pooled axis.
    ///
    /// # Errors
    /// As [`Pool2dConfig::output_hw`].
    pub fn output_len_axis(&self) -> Result<usize, ShapeError> {
        self.shape(1).output_len_axis()
    }

    /// Validates the shape and returns the layer.
    ///
    /// # Errors
    /// As [`Pool2dConfig::output_hw`].
    pub fn init(self) -> Result<Pool1d, Error> {
        let shape = self.shape(1);
        Ok(Pool1d {
            config: self,
            out_len: shape.output_len_axis()?,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
        })
    }
}

/// A 1-D max or average pooling layer; see [`Pool1dConfig`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1d {
    config: Pool1dConfig,
    out_len: usize,
    input_len: usize,
    output_len: usize,
}

impl Pool1d {
    /// The configuration.
    pub fn config(&self) -> &Pool1dConfig {
        &self.config
    }

    /// Output length along the pooled axis.
    pub fn output_len_axis(&self) -> usize {
        self.out_len
    }
}

impl Layer for Pool1d {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    /// Pools every window of every channel.
    ///
    /// # Shapes
    /// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or the batch size overflows;
    /// [`ShapeError::Length`] (`Input`, `Output`) for a wrong buffer length. Nothing is written
    /// on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        pool_forward(
            self.config.kind,
            &self.config.shape(batch).as_2d(),
            input,
            output,
        )
    }

    /// Writes the input gradient, as [`Pool2d`]'s backward.
    ///
    /// # Shapes
    /// `input`, `grad_input`: `[batch, len, channels]`; `output`, `grad_output`:
    /// `[batch, out_len, channels]`; `cache`: empty; `grad_params`: empty if given.
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
        match grad_input {
            Some(gi) => pool_backward(
                self.config.kind,
                &self.config.shape(batch).as_2d(),
                input,
                grad_output,
                gi,
            ),
            None => Ok(()),
        }
    }
}
