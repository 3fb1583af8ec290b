//! Host-side quantization of an f32 layer's parameters for the int8 layers, as the TFLite
//! converter does it (and without allocating, so a device can quantize a fine-tuned layer too).
//!
//! Weights get one symmetric scale per output channel, `scale[c] = max |w| / 127` over the
//! channel (1.0 for an all-zero channel), and are stored as `clamp(round(w / scale[c]), -127,
//! 127)`; the bias of channel `c` is stored in int32 at the accumulator's scale
//! `input.scale · scale[c]`; the requantizer of channel `c` represents
//! `input.scale · scale[c] / output.scale`. All of it is computed by [`crate::num::quant`].

use super::check_quant;
use crate::error::{check_len, Buffer, Error, QuantError, ShapeError};
use crate::kernels::generic::activation::{relu6_range_s8, relu_range_s8};
use crate::kernels::{ActivationF32, ActivationS8};
use crate::num::quant::{
    per_channel_symmetric_scales, per_channel_symmetric_scales_last, quantize_bias,
    quantize_per_channel, quantize_per_channel_last, requantizers, QuantParams, Requantizer,
};

/// Where the output channel sits in a weight tensor.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ChannelAxis {
    /// `[out, …]`: dense and convolutions.
    First,
    /// `[…, out]`: depthwise.
    Last,
}

/// Quantizes dense weights `[out_features, in_features]` and their bias for
/// [`DenseS8Config::init`](super::DenseS8Config::init).
///
/// Writes the int8 weights, the int32 bias (zeros when `bias_f32` is `None` and `bias_s32` is
/// not empty), one requantizer per output feature and the per-channel weight scales (the real
/// weight `o, i` is `scales[o] · weights_s8[o, i]`).
///
/// # Shapes
/// - `weights_f32`, `weights_s8`: `[out_features, in_features]`
/// - `bias_f32`: `[out_features]` or `None`; `bias_s32`: `[out_features]` (or empty when
///   `bias_f32` is `None`)
/// - `requant`, `scales`: `[out_features]`
///
/// # Errors
/// [`ShapeError::Dimension`] if `out_features` or the weights are empty or `out_features` does
/// not divide the number of weights; [`ShapeError::Length`] naming `Weights` (`weights_s8`),
/// `Bias` (`bias_f32`, `bias_s32`) or `Requant` (`requant`, `scales`) for a wrong length;
/// [`Error::Quant`]: `InvalidScale`/`InvalidZeroPoint` for `input` or `output`, `InvalidRange`
/// for a NaN or infinite weight or bias, `InvalidMultiplier` if a requantizer's multiplier is
/// `>= 2^30`. On a length or parameter error nothing is written; on `InvalidMultiplier` only
/// `scales` has been written.
#[allow(clippy::too_many_arguments)]
pub fn quantize_dense_weights(
    weights_f32: &[f32],
    bias_f32: Option<&[f32]>,
    out_features: usize,
    input: QuantParams,
    output: QuantParams,
    weights_s8: &mut [i8],
    bias_s32: &mut [i32],
    requant: &mut [Requantizer],
    scales: &mut [f32],
) -> Result<(), Error> {
    quantize_weights(
        ChannelAxis::First,
        (weights_f32, bias_f32, out_features),
        input,
        output,
        (weights_s8, bias_s32, requant, scales),
    )
}

/// Quantizes convolution weights (2-D OHWI `[out_c, kernel_h, kernel_w, in_c]` or 1-D
/// `[out_c, kernel, in_c]`: the output channel first) and their bias for
/// [`Conv2dS8Config::init`](super::Conv2dS8Config::init) or
/// [`Conv1dS8Config::init`](super::Conv1dS8Config::init). Otherwise as
/// [`quantize_dense_weights`].
///
/// # Shapes
/// - `weights_f32`, `weights_s8`: `[out_c, …]`
/// - `bias_f32`: `[out_c]` or `None`; `bias_s32`: `[out_c]` (or empty without a bias)
/// - `requant`, `scales`: `[out_c]`
///
/// # Errors
/// As [`quantize_dense_weights`].
#[allow(clippy::too_many_arguments)]
pub fn quantize_conv_weights(
    weights_f32: &[f32],
    bias_f32: Option<&[f32]>,
    out_c: usize,
    input: QuantParams,
    output: QuantParams,
    weights_s8: &mut [i8],
    bias_s32: &mut [i32],
    requant: &mut [Requantizer],
    scales: &mut [f32],
) -> Result<(), Error> {
    quantize_weights(
        ChannelAxis::First,
        (weights_f32, bias_f32, out_c),
        input,
        output,
        (weights_s8, bias_s32, requant, scales),
    )
}

/// Quantizes depthwise weights `[kernel_h, kernel_w, out_c]` (`out_c = in_c * multiplier`, the
/// channel last: weight `i` belongs to channel `i % out_c`) and their bias for
/// [`DepthwiseConv2dS8Config::init`](super::DepthwiseConv2dS8Config::init). Otherwise as
/// [`quantize_dense_weights`].
///
/// # Shapes
/// - `weights_f32`, `weights_s8`: `[kernel_h, kernel_w, out_c]`
/// - `bias_f32`: `[out_c]` or `None`; `bias_s32`: `[out_c]` (or empty without a bias)
/// - `requant`, `scales`: `[out_c]`
///
/// # Errors
/// As [`quantize_dense_weights`].
#[allow(clippy::too_many_arguments)]
pub fn quantize_depthwise_weights(
    weights_f32: &[f32],
    bias_f32: Option<&[f32]>,
    out_c: usize,
    input: QuantParams,
    output: QuantParams,
    weights_s8: &mut [i8],
    bias_s32: &mut [i32],
    requant: &mut [Requantizer],
    scales: &mut [f32],
) -> Result<(), Error> {
    quantize_weights(
        ChannelAxis::Last,
        (weights_f32, bias_f32, out_c),
        input,
        output,
        (weights_s8, bias_s32, requant, scales),
    )
}

/// The f32 parameters of a layer: weights, optional bias, number of output channels.
type F32Params<'a> = (&'a [f32], Option<&'a [f32]>, usize);
/// The outputs of a quantization: int8 weights, int32 bias, requantizers, weight scales.
type S8Outputs<'a> = (
    &'a mut [i8],
    &'a mut [i32],
    &'a mut [Requantizer],
    &'a mut [f32],
);

/// Checks everything that can be checked up front, then quantizes (see
/// [`quantize_dense_weights`]).
fn quantize_weights(
    axis: ChannelAxis,
    (weights, bias, channels): F32Params,
    input: QuantParams,
    output: QuantParams,
    (weights_s8, bias_s32, requant, scales): S8Outputs,
) -> Result<(), Error> {
    if channels == 0 || weights.is_empty() || weights.len() % channels != 0 {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Weights, weights.len(), weights_s8.len())?;
    match bias {
        Some(b) => {
            check_len(Buffer::Bias, channels, b.len())?;
            check_len(Buffer::Bias, channels, bias_s32.len())?;
        }
        None if !bias_s32.is_empty() => check_len(Buffer::Bias, channels, bias_s32.len())?,
        None => {}
    }
    check_len(Buffer::Requant, channels, requant.len())?;
    check_len(Buffer::Requant, channels, scales.len())?;
    check_quant(input)?;
    check_quant(output)?;
    // quantize_bias would store a NaN bias as 0; a model with a NaN bias is broken, say so.
    if bias.is_some_and(|b| b.iter().any(|x| !x.is_finite())) {
        return Err(QuantError::InvalidRange.into());
    }
    // Checks the weights are finite before writing the scales.
    match axis {
        ChannelAxis::First => per_channel_symmetric_scales(weights, channels, scales)?,
        ChannelAxis::Last => per_channel_symmetric_scales_last(weights, channels, scales)?,
    }
    // Validates every multiplier before writing any.
    requantizers(input.scale, scales, output.scale, requant)?;
    // The scales are valid now, so nothing below can fail.
    match axis {
        ChannelAxis::First => quantize_per_channel(weights, scales, weights_s8)?,
        ChannelAxis::Last => quantize_per_channel_last(weights, scales, weights_s8)?,
    }
    match bias {
        Some(b) => quantize_bias(b, input.scale, scales, bias_s32)?,
        None => bias_s32.fill(0),
    }
    Ok(())
}

/// The int8 clamp of a fused f32 activation `[act.min, act.max]` for an output quantized with
/// `output`, as TFLite's `CalculateActivationRangeQuantized`: each bound is quantized
/// (`round(bound / scale) + zero_point`, saturated; `±inf` give the ends of the int8 range).
/// ReLU gives `[zero_point, 127]` ([`relu_range_s8`]), ReLU6
/// `[zero_point, zero_point + round(6 / scale)]` ([`relu6_range_s8`]).
///
/// # Errors
/// [`Error::Quant`] for an invalid `output` (scale not finite and positive, zero point outside
/// `-128..=127`); [`Error::Config`] if a bound is NaN or `act.min > act.max`.
pub fn activation_range_s8(act: ActivationF32, output: QuantParams) -> Result<ActivationS8, Error> {
    check_quant(output)?;
    if act.min.is_nan() || act.max.is_nan() || act.min > act.max {
        return Err(Error::Config);
    }
    if act == ActivationF32::RELU {
        return Ok(relu_range_s8(output.zero_point));
    }
    if act == ActivationF32::RELU6 {
        return Ok(relu6_range_s8(output.scale, output.zero_point)?);
    }
    Ok(ActivationS8 {
        min: output.quantize(act.min),
        max: output.quantize(act.max),
    })
}
