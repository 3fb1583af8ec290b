//! Quantizing the parameters of one weighted layer.

use crate::model::{At, OwnedTensorsS8, Result};
use tinytune::layers::s8::{quantize_conv_weights, quantize_depthwise_weights};
use tinytune::num::quant::{quantize_bias, QuantParams, Requantizer};

/// Where the output channel sits in the weights.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Axis {
    /// `[out, …]`: dense and convolutions.
    First,
    /// `[…, out]`: depthwise.
    Last,
}

/// The int8 tensors of a layer whose f32 parameters are `params` (weights, then `channels`
/// biases if `has_bias`): per-channel (or, without `per_channel`, per-tensor) symmetric int8
/// weights, int32 biases at scale `input.scale · weight_scale`, and the requantizers, by the
/// core's `quantize_*_weights`.
pub(crate) fn quantize_layer(
    at: &str,
    axis: Axis,
    (params, has_bias, channels): (&[f32], bool, usize),
    input: QuantParams,
    output: QuantParams,
    per_channel: bool,
) -> Result<OwnedTensorsS8> {
    let at = || at.to_string();
    let bias_len = if has_bias { channels } else { 0 };
    let weights_len = params.len().saturating_sub(bias_len);
    let (weights, bias) = params.split_at(weights_len);
    let bias = has_bias.then_some(bias);
    let mut w8 = vec![0i8; weights.len()];
    let mut b32 = vec![0i32; bias_len];
    let groups = if per_channel { channels } else { 1 };
    let mut requant = vec![Requantizer::ZERO; groups];
    let mut scales = vec![0.0f32; groups];
    let quantize = match axis {
        Axis::First => quantize_conv_weights,
        Axis::Last => quantize_depthwise_weights,
    };
    if per_channel {
        quantize(
            weights,
            bias,
            channels,
            input,
            output,
            &mut w8,
            &mut b32,
            &mut requant,
            &mut scales,
        )
        .at(at)?;
    } else {
        // One group over the whole tensor; the bias then at the single weight scale.
        quantize(
            weights,
            None,
            1,
            input,
            output,
            &mut w8,
            &mut [],
            &mut requant,
            &mut scales,
        )
        .at(at)?;
        if let Some(b) = bias {
            if let Some(pos) = b.iter().position(|x| !x.is_finite()) {
                return Err(crate::model::PipelineError::invalid(
                    at(),
                    format!("bias {pos} is {}", b[pos]),
                ));
            }
            quantize_bias(b, input.scale, &scales, &mut b32).at(at)?;
        }
    }
    Ok(OwnedTensorsS8::new(w8, bias.map(|_| b32), &requant))
}
