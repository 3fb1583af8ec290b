//! int8 inference layers: the TFLite int8 kernels behind a configure-once, run-many interface,
//! and the host-side helpers that quantize an f32 layer's weights for them.
//!
//! Each layer is built like the f32 ones: a `…S8Config` describes it (per-sample shapes, the
//! quantization of its input and output, its fused activation), and `config.init(…)` validates
//! every shape, length and quantization parameter **once**, borrowing the int8 weights, the int32
//! biases and the requantizers (typically in flash). `forward(batch, input, output)` then checks
//! only the buffer lengths and runs the kernel. Nothing allocates; nothing panics.
//!
//! Buffers are `[batch, …]` row-major, feature maps NHWC, exactly as the f32 layers. All layers
//! also implement [`LayerS8`], so generic code can run any of them.
//!
//! # Layers
//!
//! | Layer | Config | Borrows | Per-sample input → output | Output quantization |
//! |---|---|---|---|---|
//! | [`DenseS8`] | [`DenseS8Config`] | weights `[out, in]`, bias `[out]`, requant `[1 or out]` | `[in]` → `[out]` | `config.output` |
//! | [`Conv1dS8`] | [`Conv1dS8Config`] | weights `[out_c, kernel, in_c]`, bias `[out_c]`, requant `[1 or out_c]` | `[len, in_c]` → `[out_len, out_c]` | `config.output` |
//! | [`Conv2dS8`] | [`Conv2dS8Config`] | weights OHWI `[out_c, kh, kw, in_c]`, bias `[out_c]`, requant `[1 or out_c]` | `[h, w, in_c]` → `[oh, ow, out_c]` | `config.output` |
//! | [`DepthwiseConv2dS8`] | [`DepthwiseConv2dS8Config`] | weights `[kh, kw, in_c·m]`, bias `[in_c·m]`, requant `[1 or in_c·m]` | `[h, w, in_c]` → `[oh, ow, in_c·m]` | `config.output` |
//! | [`Pool2dS8`] | [`Pool2dS8Config`] (kind [`PoolKindS8`]) | nothing | `[h, w, c]` → `[oh, ow, c]` | the input's |
//! | [`Pool1dS8`] | [`Pool1dS8Config`] (kind [`PoolKindS8`]) | nothing | `[len, c]` → `[out_len, c]` | the input's |
//! | [`GlobalAvgPoolS8`] | [`GlobalAvgPoolS8Config`] | nothing | `[spatial, c]` → `[c]` | the input's |
//! | [`ActivationS8Layer`] | [`ActivationS8Config`] (kind [`ActivationKindS8`]) | nothing (owns its table) | `[len]` → `[len]` | see below |
//!
//! | [`ActivationKindS8`] | Computes | Output quantization |
//! |---|---|---|
//! | `Relu { quant }` | clamp to `[zp, 127]` | `quant` (= the input's) |
//! | `Relu6 { quant }` | clamp to `[zp, zp + round(6 / scale)]` | `quant` (= the input's) |
//! | `LeakyRelu(params)` | two requantizers ([`LeakyReluParamsS8`]) | the one `params` was built for |
//! | `Sigmoid { input }` | 256-entry table built in `init` | scale 1/256, zp −128 ([`LutS8::sigmoid`]) |
//! | `Tanh { input }` | 256-entry table built in `init` | scale 1/128, zp 0 ([`LutS8::tanh`]) |
//! | `Gelu { input, output }` | 256-entry table built in `init` | `output` |
//! | `Softmax { params, depth }` | softmax over rows of `depth` ([`SoftmaxParamsS8`]) | scale 1/256, zp −128 ([`SOFTMAX_OUTPUT_SCALE`], [`SOFTMAX_OUTPUT_ZERO_POINT`]) |
//!
//! # Quantizing an f32 layer
//!
//! [`quantize_dense_weights`], [`quantize_conv_weights`] (1-D and 2-D) and
//! [`quantize_depthwise_weights`] turn f32 weights and biases into what the layers borrow, as the
//! TFLite converter does: per-channel symmetric int8 weights (`scale[c] = max |w| / 127` over
//! output channel `c`), int32 biases at scale `input_scale · scale[c]`, and one requantizer per
//! channel for `input_scale · scale[c] / output_scale`. [`activation_range_s8`] turns an f32
//! fused activation ([`ActivationF32`](crate::kernels::ActivationF32)) into the int8 clamp of an
//! output quantization.
//!
//! [`LeakyReluParamsS8`]: crate::kernels::generic::activation::LeakyReluParamsS8
//! [`LutS8`]: crate::kernels::generic::activation::LutS8
//! [`LutS8::sigmoid`]: crate::kernels::generic::activation::LutS8::sigmoid
//! [`LutS8::tanh`]: crate::kernels::generic::activation::LutS8::tanh
//! [`SoftmaxParamsS8`]: crate::kernels::generic::softmax::SoftmaxParamsS8

mod activation;
pub mod attention;
mod conv;
mod dense;
mod depthwise;
mod pool;
mod quantize;

pub use activation::{
    ActivationKindS8, ActivationS8Config, ActivationS8Layer, SOFTMAX_OUTPUT_SCALE,
    SOFTMAX_OUTPUT_ZERO_POINT,
};
pub use conv::{Conv1dS8, Conv1dS8Config, Conv2dS8, Conv2dS8Config};
pub use dense::{DenseS8, DenseS8Config};
pub use depthwise::{DepthwiseConv2dS8, DepthwiseConv2dS8Config};
pub use pool::{
    GlobalAvgPoolS8, GlobalAvgPoolS8Config, Pool1dS8, Pool1dS8Config, Pool2dS8, Pool2dS8Config,
    PoolKindS8,
};
pub use quantize::{
    activation_range_s8, quantize_conv_weights, quantize_dense_weights, quantize_depthwise_weights,
};

use crate::error::{check_len, Buffer, Error, QuantError, ShapeError};
use crate::kernels::{ActivationS8, QuantArgsS8};
use crate::num::quant::{QuantParams, Requantizer};

/// An int8 inference layer: implemented by every layer of this module.
///
/// Lengths are per sample; `input` holds `batch * input_len()` values and `output`
/// `batch * output_len()`. `forward` checks them (and `batch > 0`) before writing anything.
pub trait LayerS8 {
    /// Number of input values per sample.
    fn input_len(&self) -> usize;

    /// Number of output values per sample.
    fn output_len(&self) -> usize;

    /// Runs the layer on `batch` samples.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] for `batch == 0` or an overflowing size;
    /// [`ShapeError::Length`] (buffer `Input` or `Output`) for a wrong buffer length.
    fn forward(&self, batch: usize, input: &[i8], output: &mut [i8]) -> Result<(), Error>;
}

/// Checks the quantization parameters of a layer's input or output (finite positive scale, zero
/// point in `-128..=127`).
fn check_quant(q: QuantParams) -> Result<(), QuantError> {
    QuantParams::new(q.scale, q.zero_point).map(|_| ())
}

/// Checks a fused activation range: `min <= max`, else [`Error::Config`].
fn check_act(act: ActivationS8) -> Result<(), Error> {
    if act.min <= act.max {
        Ok(())
    } else {
        Err(Error::Config)
    }
}

/// The borrowed quantized parameters of a layer with weights, validated against its shape.
#[derive(Clone, Copy, Debug)]
struct WeightsS8<'a> {
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    requant: &'a [Requantizer],
}

impl<'a> WeightsS8<'a> {
    /// Checks the lengths (`weights_len` weights, `channels` biases, 1 or `channels`
    /// requantizers) and the input/output quantization and activation.
    fn new(
        weights: &'a [i8],
        bias: Option<&'a [i32]>,
        requant: &'a [Requantizer],
        weights_len: usize,
        channels: usize,
        (input, output, act): (QuantParams, QuantParams, ActivationS8),
    ) -> Result<Self, Error> {
        check_len(Buffer::Weights, weights_len, weights.len())?;
        if let Some(b) = bias {
            check_len(Buffer::Bias, channels, b.len())?;
        }
        if requant.len() != 1 {
            check_len(Buffer::Requant, channels, requant.len())?;
        }
        check_quant(input)?;
        check_quant(output)?;
        check_act(act)?;
        Ok(WeightsS8 {
            weights,
            bias,
            requant,
        })
    }

    /// The kernel's quantization arguments for the given input and output quantization.
    fn args(&self, input: QuantParams, output: QuantParams, act: ActivationS8) -> QuantArgsS8<'a> {
        QuantArgsS8 {
            input_offset: -input.zero_point,
            output_offset: output.zero_point,
            requant: self.requant,
            act,
        }
    }
}

/// Checks `batch` and the buffer lengths of a forward call (see [`LayerS8`]).
fn check_forward(
    batch: usize,
    input_len: usize,
    output_len: usize,
    input: usize,
    output: usize,
) -> Result<(), ShapeError> {
    super::check_io(batch, input_len, output_len, input, output).map(|_| ())
}
