//! Global average pooling: the mean over all spatial positions of each channel.

use super::{rounded_average, MAX_AVG_COUNT_S8};
use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::generic::activation::clamp_to_act;
use crate::kernels::ActivationS8;

/// Checks a global pooling's dimensions and slice lengths.
fn check_global(
    batch: usize,
    spatial: usize,
    channels: usize,
    input: usize,
    output: usize,
) -> Result<(), ShapeError> {
    if batch == 0 || spatial == 0 || channels == 0 {
        return Err(ShapeError::Dimension);
    }
    check_len(Buffer::Input, product(&[batch, spatial, channels])?, input)?;
    check_len(Buffer::Output, product(&[batch, channels])?, output)
}

/// f32 global average pooling: the mean over all spatial positions of each channel.
///
/// # Shapes
/// `input`: `[batch, spatial, channels]` (an NHWC map with `spatial = h * w`);
/// `output`: `[batch, channels]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] (`Input` or `Output`) if a slice length differs from the shape's.
/// Nothing is written on error.
pub fn global_avg_pool_f32(
    batch: usize,
    spatial: usize,
    channels: usize,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    check_global(batch, spatial, channels, input.len(), output.len())?;
    let per_batch = spatial * channels;
    for (sums, image) in output
        .chunks_exact_mut(channels)
        .zip(input.chunks_exact(per_batch))
    {
        // Accumulate position by position so the input is read in memory order.
        sums.fill(0.0);
        for pixel in image.chunks_exact(channels) {
            for (s, &x) in sums.iter_mut().zip(pixel) {
                *s += x;
            }
        }
        let n = spatial as f32;
        for s in sums.iter_mut() {
            *s /= n;
        }
    }
    Ok(())
}

/// int8 global average pooling: per channel, the sum over all spatial positions divided by
/// `spatial`, rounded half away from zero as [`avg_pool2d_s8`](super::avg_pool2d_s8), clamped to `act`. Input and
/// output share their quantization.
///
/// # Shapes
/// `input`: `[batch, spatial, channels]` (an NHWC map with `spatial = h * w`);
/// `output`: `[batch, channels]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Parameter`] if `spatial > MAX_AVG_COUNT_S8`; [`ShapeError::Length`]
/// (`Input` or `Output`) if a slice length differs from the shape's. Nothing is written on error.
pub fn global_avg_pool_s8(
    batch: usize,
    spatial: usize,
    channels: usize,
    act: ActivationS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    check_global(batch, spatial, channels, input.len(), output.len())?;
    if spatial > MAX_AVG_COUNT_S8 {
        return Err(ShapeError::Parameter);
    }
    let per_batch = spatial * channels;
    for (out, image) in output
        .chunks_exact_mut(channels)
        .zip(input.chunks_exact(per_batch))
    {
        for (ch, o) in out.iter_mut().enumerate() {
            let sum: i32 = image
                .iter()
                .skip(ch)
                .step_by(channels)
                .map(|&x| x as i32)
                .sum();
            *o = clamp_to_act(act, rounded_average(sum, spatial) as i32);
        }
    }
    Ok(())
}
