//! The f32 convolution layers: [`Conv2d`] over NHWC images and [`Conv1d`] over sequences (a
//! [`Conv2d`] on images of height 1, see [`Conv1dShape::to_conv2d`]).
//!
//! [`Conv1dShape::to_conv2d`]: crate::kernels::generic::conv::Conv1dShape::to_conv2d

use crate::error::{product, Error, ShapeError};
use crate::kernels::generic::conv::{conv2d_f32, Conv2dShape};
use crate::kernels::generic::grad::conv::conv2d_backward_f32;
use crate::kernels::{ActivationF32, Padding};
use crate::layers::weighted::{layer_params, WeightsBias};
use crate::layers::{check_backward, check_io, Layer, Params};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// A 2-D convolution layer without activation (activations are layers of their own), as the
/// [`conv2d_f32`] kernel: stride, dilation and TensorFlow `SAME`/`VALID` padding per axis.
///
/// Per sample the input is `[in_h, in_w, in_c]` and the output `[out_h, out_w, out_c]` (NHWC),
/// `(out_h, out_w)` from [`Conv2d::output_hw`]. Parameters, in order: the weights, OHWI
/// `[out_c, kernel_h, kernel_w, in_c]`, then, if `bias`, the bias `[out_c]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2dConfig {
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (number of filters).
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
    /// Padding (TensorFlow `SAME` or `VALID`).
    pub padding: Padding,
    /// Whether the layer adds a bias per output channel.
    pub bias: bool,
}

/// Sizes derived once from a valid [`Conv2dConfig`].
#[derive(Clone, Copy, Debug)]
struct Conv2dSizes {
    out_h: usize,
    out_w: usize,
    input_len: usize,
    output_len: usize,
    weights_len: usize,
    param_len: usize,
}

impl Conv2dConfig {
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

    /// Validates the geometry (through the kernel's shape, so layer and kernel agree) and
    /// computes the per-sample sizes with overflow checks.
    fn sizes(&self) -> Result<Conv2dSizes, ShapeError> {
        let shape = self.shape(1);
        let (out_h, out_w) = shape.output_hw()?;
        let weights_len = shape.weights_len()?;
        let bias = if self.bias { self.out_c } else { 0 };
        // The fans multiply the kernel area by the output channels too.
        product(&[self.kernel_h, self.kernel_w, self.out_c])?;
        Ok(Conv2dSizes {
            out_h,
            out_w,
            input_len: shape.input_len()?,
            output_len: shape.output_len()?,
            weights_len,
            param_len: weights_len.checked_add(bias).ok_or(ShapeError::Dimension)?,
        })
    }

    /// Number of parameters: `out_c * kernel_h * kernel_w * in_c`, plus `out_c` with a bias.
    ///
    /// # Errors
    /// [`ShapeError::Parameter`] for a zero kernel size, stride or dilation, or a `VALID` window
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
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<Conv2d<'a>, Error> {
        let sizes = self.sizes()?;
        let bias_len = sizes.param_len - sizes.weights_len;
        let params = WeightsBias::new(params.into(), sizes.weights_len, bias_len)?;
        Ok(Conv2d {
            config: self,
            sizes,
            params,
        })
    }
}

/// The f32 2-D convolution layer built by [`Conv2dConfig::init`].
#[derive(Debug)]
pub struct Conv2d<'a> {
    config: Conv2dConfig,
    sizes: Conv2dSizes,
    params: WeightsBias<'a>,
}

impl Conv2d<'_> {
    /// The configuration.
    pub fn config(&self) -> &Conv2dConfig {
        &self.config
    }

    /// Output height and width.
    pub fn output_hw(&self) -> (usize, usize) {
        (self.sizes.out_h, self.sizes.out_w)
    }

    /// The weights, OHWI `[out_c, kernel_h, kernel_w, in_c]`.
    pub fn weights(&self) -> &[f32] {
        self.params.weights()
    }

    /// The bias, `[out_c]`, or `None` without bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.params.bias()
    }

    /// Fan-in and fan-out of the weights: `(kernel_h * kernel_w * in_c, kernel_h * kernel_w *
    /// out_c)`.
    pub fn fans(&self) -> Fans {
        // Cannot overflow: `init` computed both products with checked arithmetic.
        let area = self.config.kernel_h * self.config.kernel_w;
        Fans {
            fan_in: area * self.config.in_c,
            fan_out: area * self.config.out_c,
        }
    }
}

impl Layer for Conv2d<'_> {
    fn input_len(&self) -> usize {
        self.sizes.input_len
    }

    fn output_len(&self) -> usize {
        self.sizes.output_len
    }

    layer_params!(params);

    /// The convolution of [`conv2d_f32`] without activation. NaN in, NaN out.
    ///
    /// # Shapes
    /// - `input`: `[batch, in_h, in_w, in_c]`
    /// - `output`: `[batch, out_h, out_w, out_c]`
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
        conv2d_f32(
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
    /// into `grad_params` ([`conv2d_backward_f32`]). Reads `input`; `output` is only
    /// length-checked and `cache` must be empty.
    ///
    /// # Shapes
    /// - `input`, `grad_input`: `[batch, in_h, in_w, in_c]`
    /// - `output`, `grad_output`: `[batch, out_h, out_w, out_c]`
    /// - `cache`: `[]`
    /// - `grad_params`: the parameter layout of [`Conv2dConfig`]
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
        conv2d_backward_f32(
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

    /// Weights from `init` with [`fans`](Conv2d::fans), bias zero.
    ///
    /// # Errors
    /// [`Error::Frozen`] for frozen parameters; [`Error::Config`] as [`Init::fill`]. Nothing is
    /// written on error.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let fans = self.fans();
        self.params.init(init, fans, rng)
    }
}

/// A 1-D convolution layer over sequences without activation, as the
/// [`conv1d_f32`](crate::kernels::generic::conv::conv1d_f32) kernel: stride, dilation and
/// TensorFlow `SAME`/`VALID` padding.
///
/// Per sample the input is `[len, in_c]` and the output `[out_len, out_c]`, `out_len` from
/// [`Conv1d::out_len`]. Parameters, in order: the weights `[out_c, kernel, in_c]`, then, if
/// `bias`, the bias `[out_c]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv1dConfig {
    /// Input sequence length.
    pub len: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (number of filters).
    pub out_c: usize,
    /// Filter length.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation (1 = dense filter).
    pub dilation: usize,
    /// Padding (TensorFlow `SAME` or `VALID`).
    pub padding: Padding,
    /// Whether the layer adds a bias per output channel.
    pub bias: bool,
}

impl Conv1dConfig {
    /// The same layer as a 2-D convolution over images of height 1: the memory layouts of input,
    /// output and parameters coincide, and a 1-high kernel with stride 1 adds no padding.
    fn to_conv2d(self) -> Conv2dConfig {
        Conv2dConfig {
            in_h: 1,
            in_w: self.len,
            in_c: self.in_c,
            out_c: self.out_c,
            kernel_h: 1,
            kernel_w: self.kernel,
            stride_h: 1,
            stride_w: self.stride,
            dilation_h: 1,
            dilation_w: self.dilation,
            padding: self.padding,
            bias: self.bias,
        }
    }

    /// Number of parameters: `out_c * kernel * in_c`, plus `out_c` with a bias.
    ///
    /// # Errors
    /// As [`Conv2dConfig::param_len`].
    pub fn param_len(&self) -> Result<usize, Error> {
        self.to_conv2d().param_len()
    }

    /// Validates the configuration and the parameter length and returns the layer.
    ///
    /// # Errors
    /// As [`Conv2dConfig::init`].
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<Conv1d<'a>, Error> {
        Ok(Conv1d {
            config: self,
            inner: self.to_conv2d().init(params)?,
        })
    }
}

/// The f32 1-D convolution layer built by [`Conv1dConfig::init`]; it runs as a [`Conv2d`] of
/// height 1.
#[derive(Debug)]
pub struct Conv1d<'a> {
    config: Conv1dConfig,
    inner: Conv2d<'a>,
}

impl Conv1d<'_> {
    /// The configuration.
    pub fn config(&self) -> &Conv1dConfig {
        &self.config
    }

    /// Output sequence length.
    pub fn out_len(&self) -> usize {
        self.inner.output_hw().1
    }

    /// The weights, `[out_c, kernel, in_c]`.
    pub fn weights(&self) -> &[f32] {
        self.inner.weights()
    }

    /// The bias, `[out_c]`, or `None` without bias.
    pub fn bias(&self) -> Option<&[f32]> {
        self.inner.bias()
    }

    /// Fan-in and fan-out of the weights: `(kernel * in_c, kernel * out_c)`.
    pub fn fans(&self) -> Fans {
        self.inner.fans()
    }
}

impl Layer for Conv1d<'_> {
    fn input_len(&self) -> usize {
        self.inner.input_len()
    }

    fn output_len(&self) -> usize {
        self.inner.output_len()
    }

    fn param_len(&self) -> usize {
        self.inner.param_len()
    }

    fn params(&self) -> &[f32] {
        self.inner.params()
    }

    fn params_mut(&mut self) -> Option<&mut [f32]> {
        self.inner.params_mut()
    }

    fn is_trainable(&self) -> bool {
        self.inner.is_trainable()
    }

    /// The convolution of [`conv1d_f32`](crate::kernels::generic::conv::conv1d_f32) without
    /// activation. NaN in, NaN out.
    ///
    /// # Shapes
    /// - `input`: `[batch, len, in_c]`
    /// - `output`: `[batch, out_len, out_c]`
    ///
    /// # Errors
    /// As [`Conv2d`]'s forward.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        self.inner.forward(batch, input, output)
    }

    /// Overwrites `grad_input` with the input gradient and adds the weight and bias gradients
    /// into `grad_params` (as
    /// [`conv1d_backward_f32`](crate::kernels::generic::grad::conv::conv1d_backward_f32)).
    ///
    /// # Shapes
    /// - `input`, `grad_input`: `[batch, len, in_c]`
    /// - `output`, `grad_output`: `[batch, out_len, out_c]`
    /// - `cache`: `[]`
    /// - `grad_params`: the parameter layout of [`Conv1dConfig`]
    ///
    /// # Errors
    /// As [`Conv2d`]'s backward.
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
        self.inner.backward(
            batch,
            input,
            output,
            cache,
            grad_output,
            grad_input,
            grad_params,
        )
    }

    /// Weights from `init` with [`fans`](Conv1d::fans), bias zero.
    ///
    /// # Errors
    /// As [`Conv2d`]'s `init_params`.
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        self.inner.init_params(init, rng)
    }
}
