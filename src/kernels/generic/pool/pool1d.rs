//! 1-D pooling over `[batch, len, channels]`: the 2-D kernels with a height of 1.

use super::{avg_pool2d_f32, avg_pool2d_s8, max_pool2d_f32, max_pool2d_s8, Pool2dShape};
use crate::error::ShapeError;
use crate::kernels::{ActivationF32, ActivationS8, Padding};

/// Shape of a 1-D pooling: input `[batch, len, channels]`, output `[batch, out_len, channels]`
/// with `out_len` from [`Pool1dShape::output_len_axis`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool1dShape {
    /// Batch size.
    pub batch: usize,
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

impl Pool1dShape {
    /// The same pooling as a 2-D one of height 1: `[batch, 1, len, channels]` is the same memory
    /// as `[batch, len, channels]`.
    pub fn as_2d(&self) -> Pool2dShape {
        Pool2dShape {
            batch: self.batch,
            in_h: 1,
            in_w: self.len,
            channels: self.channels,
            window_h: 1,
            window_w: self.window,
            stride_h: 1,
            stride_w: self.stride,
            padding: self.padding,
        }
    }

    /// Output length along the pooled axis.
    ///
    /// # Errors
    /// As [`Pool2dShape::output_hw`].
    pub fn output_len_axis(&self) -> Result<usize, ShapeError> {
        Ok(self.as_2d().output_hw()?.1)
    }

    /// Number of input elements, `batch * len * channels`.
    ///
    /// # Errors
    /// As [`Pool2dShape::output_hw`].
    pub fn input_len(&self) -> Result<usize, ShapeError> {
        self.as_2d().input_len()
    }

    /// Number of output elements, `batch * out_len * channels`.
    ///
    /// # Errors
    /// As [`Pool2dShape::output_hw`].
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        self.as_2d().output_len()
    }
}

/// f32 1-D max pooling, then `act`; see [`max_pool2d_f32`].
///
/// # Shapes
/// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]` with
/// `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`max_pool2d_f32`].
pub fn max_pool1d_f32(
    shape: &Pool1dShape,
    act: ActivationF32,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    max_pool2d_f32(&shape.as_2d(), act, input, output)
}

/// f32 1-D average pooling, then `act`; see [`avg_pool2d_f32`].
///
/// # Shapes
/// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]` with
/// `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`avg_pool2d_f32`].
pub fn avg_pool1d_f32(
    shape: &Pool1dShape,
    act: ActivationF32,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    avg_pool2d_f32(&shape.as_2d(), act, input, output)
}

/// int8 1-D max pooling, clamped to `act`; see [`max_pool2d_s8`].
///
/// # Shapes
/// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]` with
/// `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`max_pool2d_s8`].
pub fn max_pool1d_s8(
    shape: &Pool1dShape,
    act: ActivationS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    max_pool2d_s8(&shape.as_2d(), act, input, output)
}

/// int8 1-D average pooling, clamped to `act`; see [`avg_pool2d_s8`].
///
/// # Shapes
/// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]` with
/// `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`avg_pool2d_s8`].
pub fn avg_pool1d_s8(
    shape: &Pool1dShape,
    act: ActivationS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    avg_pool2d_s8(&shape.as_2d(), act, input, output)
}
