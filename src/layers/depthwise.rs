//! The f32 depthwise 2-D convolution layer.

use crate::error::{product, Error, ShapeError};
use crate::kernels::generic::depthwise::{depthwise_conv2d_f32, DepthwiseConv2dShape};
use crate::kernels::generic::grad::depthwise::depthwise_conv2d_backward_f32;
use crate::kernels::{ActivationF32, Padding};
use crate::layers::weighted::{layer_params, WeightsBias};
use crate::layers::{check_backward, check_io, Layer, Params};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// A depthwise 2-D convolution layer without activation (activations are layers of their own),
/// as the [`depthwise_conv2d_f32`] kernel: each input channel `ic` is convolved on its own with
/// `multiplier` filters, giving output channels `ic * multiplier + m`; stride, dilation and
/// TensorFlow `SAME`/`VALID` padding per axis.
///
/// Per sample the input is `[in_h, in_w, in_c]` and the output
/// `[out_h, out_w, in_c * multiplier]` (NHWC), `(out_h, out_w)` from
/// [`DepthwiseConv2d::output_hw`]. Parameters, in order: the weights
/// `[kernel_h, kernel_w, in_c * multiplier]`, then, if `bias`, the bias `[in_c * multiplier]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2dConfig {
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
    /// Padding (TensorFlow `SAME` or `VALID`).
    pub padding: Padding,
    /// Whether the layer adds a bias per output channel.
    pub bias: bool,
}

/// Sizes derived once from a valid [`DepthwiseConv2dConfig`].
#[derive(Clone, Copy, Debug)]
struct DepthwiseSizes {
    out_h: usize,
    out_w: usize,
    input_len: usize,
    output_len: usize,
    weights_len: usize,
    param_len: usize,
}

impl DepthwiseConv2dConfig {
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

    /// Validates the geometry (through the kernel's shape, so layer and kernel agree) and
    /// computes the per-sample sizes with overflow checks.
    fn sizes(&self) -> Result<DepthwiseSizes, ShapeError> {
        let shape = self.shape(1);
        let (out_h, out_w) = shape.output_hw()?;
        let weights_len = shape.weights_len()?;
        let out_c = shape.out_c()?;
        let bias = if self.bias { out_c } else { 0 };
        // The fan-out multiplies the kernel area by the multiplier.
        product(&[self.kernel_h, self.kernel_w, self.multiplier])?;
        Ok(DepthwiseSizes {
            out_h,
            out_w,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
            weights_len,
            param_len: weights_len.checked_add(bias).ok_or(ShapeError::Dimension)?,
        })
    }

    /// Number of parameters: `kernel_h * kernel_w * in_c * multiplier`, plus
    /// `in_c * multiplier` with a bias.
    ///
    /// # Errors
    /// [`ShapeError::Parameter`] for a zero multiplier, kernel size, stride or dilation, or a
    /// `VALID` window
    /// larger than the input; [`ShapeError::Dimension`] for a zero dimension or an overflowing
    /// size.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(self.sizes()?.param_len)
    }

    /// Validates the configuration and the parameter length and returns the layer.
    ///
    /// # Errors
    /// As [`param_len`](Self::param_len), and [`ShapeError::Length`] with [`Buffer::Params`](crate::Buffer::Params) if
    /// `params` does not hold `param_len` values.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<DepthwiseConv2d<'a>, Error> {
        let sizes = self.sizes()?;
        let bias_len = sizes.param_len - sizes.weights_len;
        let params = WeightsBias::new(params.into(), sizes.weights_len, bias_len)?;
        Ok(DepthwiseConv2d {
            config: self,
            sizes,
            params,
        })
    }
}

/// The f32 depthwise 2-D convolution layer built by [`DepthwiseConv2dConfig::init`].
#[derive(Debug)]
pub struct DepthwiseConv2d<'a> {
    config: DepthwiseConv2dConfig,
    sizes: DepthwiseSizes,
    params: WeightsBias<'a>,
}

impl DepthwiseConv2d<'_> {
    /// The configuration.
    pub fn config(&self) -> &DepthwiseConv2dConfig {
        &self.config
    }

    /// Output height and width.
    pub fn output_hw(&self) -> (usize, usize) {
        (self.sizes.out_h, self.sizes.out_w)
    }

    /// The weights, `[kernel_h, kernel_w, in_c * multiplier]`.
    pub fn weights(&self) -> &[f32] {
        self.params.weights()
    }

    /// The bias, `[in_c * multiplier]`, or `None` without bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.params.bias()
    }

    /// Fan-in and fan-out of the weights: `(kernel_h * kernel_w, kernel_h * kernel_w *
    /// multiplier)`. Each output sums one channel's window; each input feeds `multiplier`
    /// filters at every tap.
    pub fn fans(&self) -> Fans {
        // Cannot overflow: `init` computed both products with checked arithmetic.
        let area = self.config.kernel_h * self.config.kernel_w;
        Fans {
            fan_in: area,
            fan_out: area * self.config.multiplier,
        }
    }
}

impl Layer for DepthwiseConv2d<'_> {
    fn input_len(&self) -> usize {
        self.sizes.input_len
    }

    fn output_len(&self) -> usize {
        self.sizes.output_len
    }

    layer_params!(params);

    /// The convolution of [`depthwise_conv2d_f32`] without activation. NaN in, NaN out.
    ///
    /// # Shapes
    /// - `input`: `[batch, in_h, in_w, in_c]`
    /// - `output`: `[batch, out_h, out_w, in_c * multiplier]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0` or an overflowing size; [`ShapeError::Length`]
    /// for a wrong input or output length. Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len(),
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        depthwise_conv2d_f32(
            &self.config.shape(batch),
            input,
            self.weights(),
            self.bias(),
            ActivationF32::NONE,
            output,
        )?;
        Ok(())
    }

    /// Overwrites `grad_input` with the input gradient and adds the weight and bias gradients
    /// into `grad_params` ([`depthwise_conv2d_backward_f32`]). Reads `input`; `output` is only
    /// length-checked and `cache` must be empty.
    ///
    /// # Shapes
    /// - `input`, `grad_input`: `[batch, in_h, in_w, in_c]`
    /// - `output`, `grad_output`: `[batch, out_h, out_w, in_c * multiplier]`
    /// - `cache`: `[]`
    /// - `grad_params`: the parameter layout of [`DepthwiseConv2dConfig`]
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0`; [`ShapeError::Length`] naming the first wrong
    /// buffer; [`Error::Frozen`] if `grad_params` is given and the parameters are frozen. Nothing
    /// is written on error.
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
        // In range: `check_backward` checked `grad_params` against `param_len`.
        let (grad_weights, grad_bias) = self.params.split_grads(grad_params);
        depthwise_conv2d_backward_f32(
            &self.config.shape(batch),
            input,
            self.weights(),
            grad_output,
            grad_input,
            grad_weights,
            grad_bias,
        )?;
        Ok(())
    }

    /// Weights from `init` with [`fans`](DepthwiseConv2d::fans), bias zero.
    ///
    /// # Errors
    /// [`Error::Frozen`] for frozen parameters; [`Error::Config`] as [`Init::fill`]. Nothing is
    /// written on error.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let fans = self.fans();
        self.params.init(init, fans, rng)
    }
}
