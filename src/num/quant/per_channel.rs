//! Per-channel symmetric weight quantization, int32 bias quantization and the per-channel
//! requantizers of a layer, as the TFLite converter computes them.
//!
//! Weights get one symmetric scale per output channel (`max |w| / 127` over the channel), so a
//! channel of small weights keeps its resolution next to one of large weights. The bias of
//! channel `c` is stored in int32 with scale `input_scale * weight_scale[c]`, the scale of the
//! accumulator it is added to. The requantizer of channel `c` maps that accumulator scale to the
//! output scale.

use super::{QuantError, QuantParams, QuantizeError, Requantizer};
use crate::error::{check_len, Buffer, ShapeError};

/// `Ok(x)` if `x` is a usable scale (finite, greater than zero).
#[inline]
fn valid_scale(x: f32) -> Result<f32, QuantError> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(QuantError::InvalidScale)
    }
}

/// The number of weights per channel, after checking that `channels` divides `len`.
fn per_channel_len(len: usize, channels: usize) -> Result<usize, ShapeError> {
    if channels == 0 || !len.is_multiple_of(channels) {
        return Err(ShapeError::Dimension);
    }
    Ok(len / channels)
}

/// One symmetric scale per channel for weights whose **leading** dimension is the channel
/// (`[out, ...]`: dense `[out, in]`, conv `[out, kh, kw, in]`): `scales[c] = max |w| / 127`
/// over channel `c`, with [`QuantParams::symmetric_from_max_abs`]'s rule for all-zero channels
/// (scale 1.0).
///
/// # Shapes
/// `weights`: `[channels, n]` row-major (`n = weights.len() / channels`); `scales`: `[channels]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `channels` is 0 or does not divide `weights.len()`;
/// [`ShapeError::Length`] (buffer `Output`) if `scales.len() != channels`;
/// [`QuantError::InvalidRange`] if a weight is NaN or infinite. Nothing is written on error.
pub fn per_channel_symmetric_scales(
    weights: &[f32],
    channels: usize,
    scales: &mut [f32],
) -> Result<(), QuantizeError> {
    let n = per_channel_len(weights.len(), channels)?;
    check_len(Buffer::Output, channels, scales.len())?;
    check_finite(weights)?;
    for (c, s) in scales.iter_mut().enumerate() {
        let max_abs = weights[c * n..(c + 1) * n]
            .iter()
            .fold(0.0f32, |m, w| m.max(w.abs()));
        *s = QuantParams::symmetric_from_max_abs(max_abs)?.scale;
    }
    Ok(())
}

/// One symmetric scale per channel for weights whose **trailing** dimension is the channel
/// (depthwise `[kh, kw, c]`): element `i` belongs to channel `i % channels`. Same rule as
/// [`per_channel_symmetric_scales`].
///
/// # Shapes
/// `weights`: `[n, channels]` row-major; `scales`: `[channels]`.
///
/// # Errors
/// As [`per_channel_symmetric_scales`].
pub fn per_channel_symmetric_scales_last(
    weights: &[f32],
    channels: usize,
    scales: &mut [f32],
) -> Result<(), QuantizeError> {
    per_channel_len(weights.len(), channels)?;
    check_len(Buffer::Output, channels, scales.len())?;
    check_finite(weights)?;
    // The scales are the running maxima until the second pass turns them into scales.
    scales.fill(0.0);
    for row in weights.chunks_exact(channels) {
        for (m, w) in scales.iter_mut().zip(row) {
            *m = m.max(w.abs());
        }
    }
    for s in scales.iter_mut() {
        *s = QuantParams::symmetric_from_max_abs(*s)?.scale;
    }
    Ok(())
}

fn check_finite(weights: &[f32]) -> Result<(), QuantError> {
    if weights.iter().all(|w| w.is_finite()) {
        Ok(())
    } else {
        Err(QuantError::InvalidRange)
    }
}

/// Symmetric int8 code of `w` at `scale`: `clamp(round(w / scale), -127, 127)`, NaN -> 0.
#[inline]
fn quantize_symmetric(w: f32, scale: f32) -> i8 {
    // `as i32` saturates and maps NaN to 0.
    (libm::roundf(w / scale) as i32).clamp(-127, 127) as i8
}

/// Quantizes weights with a **leading** channel dimension (`[out, ...]`) with one symmetric
/// scale per channel: `out[i] = clamp(round(w[i] / scales[c]), -127, 127)` (ties away from
/// zero, f32 division as TFLite; NaN weights give 0). `-128` is never produced, as the TFLite
/// spec requires of weights.
///
/// # Shapes
/// `weights` and `out`: `[channels, n]` row-major with `channels = scales.len()`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `scales` is empty or its length does not divide
/// `weights.len()`; [`ShapeError::Length`] (buffer `Output`) if `out.len() != weights.len()`;
/// [`QuantError::InvalidScale`] if a scale is not finite and positive. Nothing is written on
/// error.
pub fn quantize_per_channel(
    weights: &[f32],
    scales: &[f32],
    out: &mut [i8],
) -> Result<(), QuantizeError> {
    let n = per_channel_len(weights.len(), scales.len())?;
    check_len(Buffer::Output, weights.len(), out.len())?;
    for &s in scales {
        valid_scale(s)?;
    }
    for (c, &s) in scales.iter().enumerate() {
        for i in c * n..(c + 1) * n {
            out[i] = quantize_symmetric(weights[i], s);
        }
    }
    Ok(())
}

/// Quantizes weights with a **trailing** channel dimension (depthwise `[kh, kw, c]`): element
/// `i` uses `scales[i % channels]`. Otherwise as [`quantize_per_channel`].
///
/// # Shapes
/// `weights` and `out`: `[n, channels]` row-major with `channels = scales.len()`.
///
/// # Errors
/// As [`quantize_per_channel`].
pub fn quantize_per_channel_last(
    weights: &[f32],
    scales: &[f32],
    out: &mut [i8],
) -> Result<(), QuantizeError> {
    per_channel_len(weights.len(), scales.len())?;
    check_len(Buffer::Output, weights.len(), out.len())?;
    for &s in scales {
        valid_scale(s)?;
    }
    let channels = scales.len();
    for (w_row, o_row) in weights
        .chunks_exact(channels)
        .zip(out.chunks_exact_mut(channels))
    {
        for ((o, &w), &s) in o_row.iter_mut().zip(w_row).zip(scales) {
            *o = quantize_symmetric(w, s);
        }
    }
    Ok(())
}

/// Quantizes a bias to int32 at the accumulator's scale:
/// `out[c] = round(bias[c] / (input_scale * weight_scales[c]))`, computed in f64, ties away
/// from zero, saturated to the i32 range; a NaN bias gives 0. `weight_scales` has length 1
/// (per-tensor weights) or one per channel.
///
/// # Shapes
/// `bias`, `out`: `[channels]`; `weight_scales`: `[1]` or `[channels]`.
///
/// # Errors
/// [`ShapeError::Length`] (buffer `Output`) if `out.len() != bias.len()`;
/// [`QuantError::ChannelCount`] if `weight_scales` has neither length 1 nor `bias.len()`;
/// [`QuantError::InvalidScale`] if a scale is not finite and positive. Nothing is written on
/// error.
pub fn quantize_bias(
    bias: &[f32],
    input_scale: f32,
    weight_scales: &[f32],
    out: &mut [i32],
) -> Result<(), QuantizeError> {
    check_len(Buffer::Output, bias.len(), out.len())?;
    check_channel_count(weight_scales.len(), bias.len())?;
    let s_in = f64::from(valid_scale(input_scale)?);
    for &s in weight_scales {
        valid_scale(s)?;
    }
    for (c, (o, &b)) in out.iter_mut().zip(bias).enumerate() {
        let s_w = f64::from(broadcast(weight_scales, c));
        // The product of two f32 is exact in f64, so only the division and the round round.
        *o = libm::round(f64::from(b) / (s_in * s_w)) as i32;
    }
    Ok(())
}

/// Fills `out[c]` with `Requantizer::from_real(input_scale * weight_scales[c] / output_scale)`,
/// the product and quotient taken in f64 from the f32 scales (as the TFLite kernels prepare
/// their per-channel multipliers). `weight_scales` has length 1 (every entry of `out` gets the
/// same requantizer) or `out.len()`.
///
/// # Shapes
/// `weight_scales`: `[1]` or `[channels]`; `out`: `[channels]`.
///
/// # Errors
/// [`QuantError::ChannelCount`] if `weight_scales` has neither length 1 nor `out.len()`;
/// [`QuantError::InvalidScale`] if a scale is not finite and positive;
/// [`QuantError::InvalidMultiplier`] if a multiplier is `>= 2^30`. Everything is checked
/// before anything is written.
pub fn requantizers(
    input_scale: f32,
    weight_scales: &[f32],
    output_scale: f32,
    out: &mut [Requantizer],
) -> Result<(), QuantError> {
    check_channel_count(weight_scales.len(), out.len())?;
    let s_in = f64::from(valid_scale(input_scale)?);
    let s_out = f64::from(valid_scale(output_scale)?);
    let real = |s_w: f32| -> Result<Requantizer, QuantError> {
        Requantizer::from_real(s_in * f64::from(valid_scale(s_w)?) / s_out)
    };
    // Validate every channel first so that an error leaves `out` untouched.
    for &s in weight_scales {
        real(s)?;
    }
    for (c, o) in out.iter_mut().enumerate() {
        *o = real(broadcast(weight_scales, c))?;
    }
    Ok(())
}

/// `Ok` if a per-channel parameter slice of length `params` fits `channels` (1 broadcasts).
fn check_channel_count(params: usize, channels: usize) -> Result<(), QuantError> {
    if params == channels || params == 1 {
        Ok(())
    } else {
        Err(QuantError::ChannelCount)
    }
}

/// `params[c]`, or `params[0]` for a per-tensor (length-1) slice; 0.0 if empty (never reached
/// after [`check_channel_count`] with `channels > 0`).
#[inline]
fn broadcast(params: &[f32], c: usize) -> f32 {
    match params {
        [p] => *p,
        _ => params.get(c).copied().unwrap_or(0.0),
    }
}
