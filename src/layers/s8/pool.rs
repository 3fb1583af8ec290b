//! int8 pooling layers: max and average over 2-D and 1-D windows, and global average pooling.
//!
//! A maximum or mean of values on one scale is on that scale, so these layers keep the input's
//! quantization and need no requantizer; their optional clamp is in that quantized domain.

use super::{check_act, check_forward, LayerS8};
use crate::error::{Error, ShapeError};
use crate::kernels::generic::pool::{
    avg_pool1d_s8, avg_pool2d_s8, global_avg_pool_s8, max_pool1d_s8, max_pool2d_s8, Pool1dShape,
    Pool2dShape, MAX_AVG_COUNT_S8,
};
use crate::kernels::{ActivationS8, Padding};

/// Which reduction a pooling layer computes over each window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PoolKindS8 {
    /// The largest value of the window.
    Max,
    /// The mean of the window's unpadded values, rounded half away from zero (TFLite).
    Avg,
}

/// Rejects average windows whose int8 sum could overflow the kernel's `i32` accumulator.
fn check_window(kind: PoolKindS8, window: usize) -> Result<(), ShapeError> {
    if kind == PoolKindS8::Avg && window > MAX_AVG_COUNT_S8 {
        Err(ShapeError::Parameter)
    } else {
        Ok(())
    }
}

/// Configuration of an int8 2-D pooling layer over NHWC maps `[in_h, in_w, channels]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2dS8Config {
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
    /// Padding (`Same` pads, but padded positions take no part in a max or a mean).
    pub padding: Padding,
    /// Max or average.
    pub kind: PoolKindS8,
    /// Clamp of the output, in the input's quantized domain; [`ActivationS8::NONE`] for none.
    pub act: ActivationS8,
}

impl Pool2dS8Config {
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
    /// As [`init`](Self::init) for the geometry.
    pub fn output_hw(&self) -> Result<(usize, usize), Error> {
        Ok(self.shape(1).output_hw()?)
    }

    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for a zero or overflowing dimension; [`ShapeError::Parameter`]
    /// for a zero window or stride, a `VALID` window larger than the input, or an average window
    /// of more than [`MAX_AVG_COUNT_S8`] values; [`Error::Config`] if `act.min > act.max`.
    pub fn init(self) -> Result<Pool2dS8, Error> {
        let shape = self.shape(1);
        let input_len = shape.input_len()?;
        let output_len = shape.output_len()?;
        let window = self
            .window_h
            .checked_mul(self.window_w)
            .ok_or(ShapeError::Parameter)?;
        check_window(self.kind, window)?;
        check_act(self.act)?;
        Ok(Pool2dS8 {
            config: self,
            input_len,
            output_len,
        })
    }
}

/// An int8 2-D pooling layer, built by [`Pool2dS8Config::init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dS8 {
    config: Pool2dS8Config,
    input_len: usize,
    output_len: usize,
}

impl Pool2dS8 {
    /// The validated configuration.
    pub fn config(&self) -> &Pool2dS8Config {
        &self.config
    }

    /// Input values per sample, `in_h * in_w * channels`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `out_h * out_w * channels`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Runs the pooling, as [`max_pool2d_s8`] or [`avg_pool2d_s8`]. Output and input share
    /// their quantization.
    ///
    /// # Shapes
    /// `input`: NHWC `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w,
    /// channels]` with `(out_h, out_w)` from [`Pool2dS8Config::output_hw`].
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input` or `Output`) for a wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        check_forward(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        let c = &self.config;
        let shape = c.shape(batch);
        match c.kind {
            PoolKindS8::Max => max_pool2d_s8(&shape, c.act, input, output)?,
            PoolKindS8::Avg => avg_pool2d_s8(&shape, c.act, input, output)?,
        }
        Ok(())
    }
}

impl LayerS8 for Pool2dS8 {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        Pool2dS8::forward(self, batch, input, output)
    }
}

/// Configuration of an int8 1-D pooling layer over sequences `[len, channels]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool1dS8Config {
    /// Input length.
    pub len: usize,
    /// Channels (pooled independently).
    pub channels: usize,
    /// Window length.
    pub window: usize,
    /// Stride.
    pub stride: usize,
    /// Padding (`Same` pads, but padded positions take no part in a max or a mean).
    pub padding: Padding,
    /// Max or average.
    pub kind: PoolKindS8,
    /// Clamp of the output, in the input's quantized domain; [`ActivationS8::NONE`] for none.
    pub act: ActivationS8,
}

impl Pool1dS8Config {
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
    /// As [`init`](Self::init) for the geometry.
    pub fn out_len(&self) -> Result<usize, Error> {
        Ok(self.shape(1).output_len_axis()?)
    }

    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// As [`Pool2dS8Config::init`].
    pub fn init(self) -> Result<Pool1dS8, Error> {
        let shape = self.shape(1);
        let input_len = shape.input_len()?;
        let output_len = shape.output_len()?;
        check_window(self.kind, self.window)?;
        check_act(self.act)?;
        Ok(Pool1dS8 {
            config: self,
            input_len,
            output_len,
        })
    }
}

/// An int8 1-D pooling layer, built by [`Pool1dS8Config::init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1dS8 {
    config: Pool1dS8Config,
    input_len: usize,
    output_len: usize,
}

impl Pool1dS8 {
    /// The validated configuration.
    pub fn config(&self) -> &Pool1dS8Config {
        &self.config
    }

    /// Input values per sample, `len * channels`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `out_len * channels`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Runs the pooling, as [`max_pool1d_s8`] or [`avg_pool1d_s8`]. Output and input share
    /// their quantization.
    ///
    /// # Shapes
    /// `input`: `[batch, len, channels]`; `output`: `[batch, out_len, channels]` with `out_len`
    /// from [`Pool1dS8Config::out_len`].
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input` or `Output`) for a wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        check_forward(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        let c = &self.config;
        let shape = c.shape(batch);
        match c.kind {
            PoolKindS8::Max => max_pool1d_s8(&shape, c.act, input, output)?,
            PoolKindS8::Avg => avg_pool1d_s8(&shape, c.act, input, output)?,
        }
        Ok(())
    }
}

impl LayerS8 for Pool1dS8 {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        Pool1dS8::forward(self, batch, input, output)
    }
}

/// Configuration of an int8 global average pooling layer: `[spatial, channels]` → `[channels]`,
/// the mean of each channel over all positions (`spatial = h * w` for an NHWC map, `len` for a
/// sequence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GlobalAvgPoolS8Config {
    /// Positions per sample averaged over.
    pub spatial: usize,
    /// Channels.
    pub channels: usize,
    /// Clamp of the output, in the input's quantized domain; [`ActivationS8::NONE`] for none.
    pub act: ActivationS8,
}

impl GlobalAvgPoolS8Config {
    /// Validates the configuration and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for a zero or overflowing dimension; [`ShapeError::Parameter`]
    /// if `spatial > MAX_AVG_COUNT_S8`; [`Error::Config`] if `act.min > act.max`.
    pub fn init(self) -> Result<GlobalAvgPoolS8, Error> {
        if self.spatial == 0 || self.channels == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let input_len = self
            .spatial
            .checked_mul(self.channels)
            .ok_or(ShapeError::Dimension)?;
        check_window(PoolKindS8::Avg, self.spatial)?;
        check_act(self.act)?;
        Ok(GlobalAvgPoolS8 {
            config: self,
            input_len,
        })
    }
}

/// An int8 global average pooling layer, built by [`GlobalAvgPoolS8Config::init`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalAvgPoolS8 {
    config: GlobalAvgPoolS8Config,
    input_len: usize,
}

impl GlobalAvgPoolS8 {
    /// The validated configuration.
    pub fn config(&self) -> &GlobalAvgPoolS8Config {
        &self.config
    }

    /// Input values per sample, `spatial * channels`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `channels`.
    pub fn output_len(&self) -> usize {
        self.config.channels
    }

    /// Runs the pooling, as [`global_avg_pool_s8`]. Output and input share their quantization.
    ///
    /// # Shapes
    /// `input`: `[batch, spatial, channels]`; `output`: `[batch, channels]`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch` is 0 or a size overflows; [`ShapeError::Length`]
    /// (`Input` or `Output`) for a wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        check_forward(
            batch,
            self.input_len,
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        let c = &self.config;
        global_avg_pool_s8(batch, c.spatial, c.channels, c.act, input, output)?;
        Ok(())
    }
}

impl LayerS8 for GlobalAvgPoolS8 {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.config.channels
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        GlobalAvgPoolS8::forward(self, batch, input, output)
    }
}
