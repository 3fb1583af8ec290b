//! int8 depthwise 2-D convolution layer, NHWC.

use super::{check_forward, LayerS8, WeightsS8};
use crate::error::Error;
use crate::kernels::generic::depthwise::DepthwiseConv2dShape;
use crate::kernels::generic::depthwise_fast::depthwise_conv2d_s8;
use crate::kernels::{ActivationS8, Padding};
use crate::num::quant::{QuantParams, Requantizer};

/// Configuration of an int8 depthwise 2-D convolution (TFLite `DepthwiseConv2D`, int8), NHWC.
///
/// Output channel `ic * multiplier + m` is filter `m` of input channel `ic`. Parameters
/// (borrowed by [`init`](Self::init)): weights `[kernel_h, kernel_w, in_c * multiplier]`
/// (symmetric int8, channel last, from
/// [`quantize_depthwise_weights`](super::quantize_depthwise_weights)), an optional int32 bias
/// `[in_c * multiplier]`, and requantizers `[1]` or `[in_c * multiplier]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2dS8Config {
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Depth multiplier: output channels per input channel.
    pub multiplier: usize,
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

impl DepthwiseConv2dS8Config {
    fn shape(&self, batch: usize) -> DepthwiseConv2dShape {
        DepthwiseConv2dShape {
            batch,
            in_h: self.in_h,
            in_w: self.in_w,
            in_c: self.in_c,
            multiplier: self.multiplier,
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
    /// [`ShapeError::Parameter`](crate::ShapeError::Parameter) for a zero multiplier, kernel
    /// size, stride or dilation or a `VALID` window larger than the input;
    /// [`ShapeError::Dimension`](crate::ShapeError::Dimension) for a zero or overflowing
    /// dimension; [`ShapeError::Length`](crate::ShapeError::Length) naming `Weights`, `Bias` or
    /// `Requant` (length 1 or `in_c * multiplier`); [`Error::Quant`] for invalid input or output
    /// quantization; [`Error::Config`] if `act.min > act.max`.
    pub fn init<'a>(
        self,
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        requant: &'a [Requantizer],
    ) -> Result<DepthwiseConv2dS8<'a>, Error> {
        let shape = self.shape(1);
        let weights_len = shape.weights_len()?;
        let params = WeightsS8::new(
            weights,
            bias,
            requant,
            weights_len,
            shape.out_c()?,
            (self.input, self.output, self.act),
        )?;
        Ok(DepthwiseConv2dS8 {
            config: self,
            params,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
        })
    }
}

/// An int8 depthwise 2-D convolution, built by [`DepthwiseConv2dS8Config::init`].
#[derive(Clone, Copy, Debug)]
pub struct DepthwiseConv2dS8<'a> {
    config: DepthwiseConv2dS8Config,
    params: WeightsS8<'a>,
    input_len: usize,
    output_len: usize,
}

impl<'a> DepthwiseConv2dS8<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &DepthwiseConv2dS8Config {
        &self.config
    }

    /// The int8 weights, `[kernel_h, kernel_w, in_c * multiplier]`.
    pub fn weights(&self) -> &'a [i8] {
        self.params.weights
    }

    /// The int32 bias, `[in_c * multiplier]`, if any.
    pub fn bias(&self) -> Option<&'a [i32]> {
        self.params.bias
    }

    /// The requantizers, `[1]` or `[in_c * multiplier]`.
    pub fn requant(&self) -> &'a [Requantizer] {
        self.params.requant
    }

    /// Input values per sample, `in_h * in_w * in_c`.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// Output values per sample, `out_h * out_w * in_c * multiplier`.
    pub fn output_len(&self) -> usize {
        self.output_len
    }

    /// Runs the depthwise convolution with the fast kernel [`depthwise_conv2d_s8`] (bit-exact
    /// with the reference [`depthwise_conv2d_s8`](crate::kernels::generic::depthwise::depthwise_conv2d_s8)).
    ///
    /// # Shapes
    /// `input`: NHWC `[batch, in_h, in_w, in_c]`; `output`: NHWC
    /// `[batch, out_h, out_w, in_c * multiplier]` with `(out_h, out_w)` from
    /// [`DepthwiseConv2dS8Config::output_hw`].
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
        depthwise_conv2d_s8(&c.shape(batch), &q, input, p.weights, p.bias, output)?;
        Ok(())
    }
}

impl LayerS8 for DepthwiseConv2dS8<'_> {
    fn input_len(&self) -> usize {
        self.input_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        DepthwiseConv2dS8::forward(self, batch, input, output)
    }
}
