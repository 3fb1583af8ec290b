//! int8 convolution layers, 1-D (`[len, in_c]`) and 2-D (NHWC), OHWI weights.

use super::{check_forward, LayerS8, WeightsS8};
use crate::error::Error;
use crate::kernels::generic::conv::{Conv1dShape, Conv2dShape};
use crate::kernels::{conv1d_s8, conv2d_s8, ActivationS8, Padding};
use crate::num::quant::{QuantParams, Requantizer};

/// Configuration of an int8 2-D convolution (TFLite `Conv2D`, int8), NHWC.
///
/// Parameters (borrowed by [`init`](Self::init)): weights OHWI `[out_c, kernel_h, kernel_w,
/// in_c]` (symmetric int8, from [`quantize_conv_weights`](super::quantize_conv_weights)), an
/// optional int32 bias `[out_c]`, and requantizers `[1]` or `[out_c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2dS8Config {
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (filters).
    pub out_c: usize,
    /// Filter height.
    pub kernel_h: usize,
    /// Filter width.
    pub kernel_w: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Vertical dilation (1 = dense filter).
    pub dilation_h: usize,
    /// Horizontal dilation (1 = dense filter).
    pub dilation_w: usize,
    /// Padding (TensorFlow `SAME` or `VALID`; padded taps read the input zero point).
    pub padding: Padding,
    /// Quantization of the input.
    pub input: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// Fused activation in the output's quantized domain.
    pub act: ActivationS8,
}

impl Conv2dS8Config {
    fn shape(&self, batch: usize) -> Conv2dShape {
        Conv2dShape {
            batch,
            in_h: self.in_h,
            in_w: self.in_w,
            in_c: self.in_c,
            out_c: self.out_c,
            kernel_h: self.kernel_h,
            kernel_w: self.kernel_w,
            stride_h: self.stride_h,
            stride_w: self.stride_w,
            dilation_h: self.dilation_h,
            dilation_w: self.dilation_w,
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

    /// Validates the configuration and the borrowed parameters and returns the layer.
    ///
    /// # Errors
    /// [`ShapeError::Parameter`](crate::ShapeError::Parameter) for a zero kernel size, stride or
    /// dilation or a `VALID` window larger than the input;
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) for a zero or overflowing
    /// dimension; [`ShapeError::Length`](crate::ShapeError::Length) naming `Weights`, `Bias` or
    /// `Requant` (length 1 or `out_c`); [`Error::Quant`] for invalid input or output quantization;
    /// [`Error::Config`] if `act.min > act.max`.
    pub fn init<'a>(
        self,
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        requant: &'a [Requantizer],
    ) -> Result<Conv2dS8<'a>, Error> {
        let shape = self.shape(1);
        let params = WeightsS8::new(
            weights,
            bias,
            requant,
            shape.weights_len()?,
            self.out_c,
            (self.input, self.output, self.act),
        )?;
        Ok(Conv2dS8 {
            config: self,
            params,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
        })
    }
}

/// An int8 2-D convolution, built by [`Conv2dS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct Conv2dS8<'a> {
    config: Conv2dS8Config,
    params: WeightsS8<'a>,
    input_len: usize,
    output_len: usize,
}

impl<'a> Conv2dS8<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &Conv2dS8Config {
        &self.config
    }

    /// The int8 weights, OHWI `[out_c, kernel_h, kernel_w, in_c]`.
    pub fn weights(&self) -> &'a [i8] {
        self.params.weights
    }

    /// The int32 bias, `[out_c]`, if any.
    pub fn bias(&self) -> Option<&'a [i32]> {
        self.params.bias
    }

    /// The requantizers, `[1]` or `[out_c]`.
    pub fn requant(&self) -> &'a [Requantizer] {
        self.params.requant
    }

    /// Input values per sample, `in_h * in_w * in_c`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `out_h * out_w * out_c`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Runs the convolution, as [`conv2d_s8`] (the target's fastest kernel, bit-exact with
    /// `generic`).
    ///
    /// # Shapes
    /// `input`: NHWC `[batch, in_h, in_w, in_c]`; `output`: NHWC `[batch, out_h, out_w, out_c]`
    /// with `(out_h, out_w)` from [`Conv2dS8Config::output_hw`].
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `batch` is 0 or a size
    /// overflows; [`ShapeError::Length`](crate::ShapeError::Length) (`Input` or `Output`) for a
    /// wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        let c = &self.config;
        check_forward(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        let q = self.params.args(c.input, c.output, c.act);
        let p = &self.params;
        conv2d_s8(&c.shape(batch), &q, input, p.weights, p.bias, output)?;
        Ok(())
    }
}

impl LayerS8 for Conv2dS8<'_> {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        Conv2dS8::forward(self, batch, input, output)
    }
}

/// Configuration of an int8 1-D convolution over sequences `[len, in_c]`.
///
/// Parameters (borrowed by [`init`](Self::init)): weights `[out_c, kernel, in_c]` (symmetric
/// int8, from [`quantize_conv_weights`](super::quantize_conv_weights)), an optional int32 bias
/// `[out_c]`, and requantizers `[1]` or `[out_c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv1dS8Config {
    /// Input sequence length.
    pub len: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (filters).
    pub out_c: usize,
    /// Filter length.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation (1 = dense filter).
    pub dilation: usize,
    /// Padding (TensorFlow `SAME` or `VALID`).
    pub padding: Padding,
    /// Quantization of the input.
    pub input: QuantParams,
    /// Quantization of the output.
    pub output: QuantParams,
    /// Fused activation in the output's quantized domain.
    pub act: ActivationS8,
}

impl Conv1dS8Config {
    fn shape(&self, batch: usize) -> Conv1dShape {
        Conv1dShape {
            batch,
            len: self.len,
            in_c: self.in_c,
            out_c: self.out_c,
            kernel: self.kernel,
            stride: self.stride,
            dilation: self.dilation,
            padding: self.padding,
        }
    }

    /// Output sequence length.
    ///
    /// # Errors
    /// As [`init`](Self::init) for the geometry.
    pub fn out_len(&self) -> Result<usize, Error> {
        Ok(self.shape(1).out_len()?)
    }

    /// Validates the configuration and the borrowed parameters and returns the layer.
    ///
    /// # Errors
    /// As [`Conv2dS8Config::init`].
    pub fn init<'a>(
        self,
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        requant: &'a [Requantizer],
    ) -> Result<Conv1dS8<'a>, Error> {
        let shape = self.shape(1);
        let params = WeightsS8::new(
            weights,
            bias,
            requant,
            shape.weights_len()?,
            self.out_c,
            (self.input, self.output, self.act),
        )?;
        Ok(Conv1dS8 {
            config: self,
            params,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
        })
    }
}

/// An int8 1-D convolution, built by [`Conv1dS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct Conv1dS8<'a> {
    config: Conv1dS8Config,
    params: WeightsS8<'a>,
    input_len: usize,
    output_len: usize,
}

impl<'a> Conv1dS8<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &Conv1dS8Config {
        &self.config
    }

    /// The int8 weights, `[out_c, kernel, in_c]`.
    pub fn weights(&self) -> &'a [i8] {
        self.params.weights
    }

    /// The int32 bias, `[out_c]`, if any.
    pub fn bias(&self) -> Option<&'a [i32]> {
        self.params.bias
    }

    /// The requantizers, `[1]` or `[out_c]`.
    pub fn requant(&self) -> &'a [Requantizer] {
        self.params.requant
    }

    /// Input values per sample, `len * in_c`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `out_len * out_c`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Runs the convolution, as [`conv1d_s8`] (the target's fastest kernel, bit-exact with
    /// `generic`).
    ///
    /// # Shapes
    /// `input`: `[batch, len, in_c]`; `output`: `[batch, out_len, out_c]` with `out_len` from
    /// [`Conv1dS8Config::out_len`].
    ///
    /// # Errors
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) if `batch` is 0 or a size
    /// overflows; [`ShapeError::Length`](crate::ShapeError::Length) (`Input` or `Output`) for a
    /// wrong buffer length. Nothing is written on error.
    pub fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        let c = &self.config;
        check_forward(
            batch,
            self.input_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        let q = self.params.args(c.input, c.output, c.act);
        let p = &self.params;
        conv1d_s8(&c.shape(batch), &q, input, p.weights, p.bias, output)?;
        Ok(())
    }
}

impl LayerS8 for Conv1dS8<'_> {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        Conv1dS8::forward(self, batch, input, output)
    }
}
