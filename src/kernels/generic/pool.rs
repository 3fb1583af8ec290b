//! Pooling kernels: max and average over 2-D (NHWC) and 1-D (`[batch, len, channels]`) windows,
//! and global average pooling, in f32 and int8.
//!
//! Semantics are TFLite's: padded positions are not values, so they take no part in a maximum and
//! are not counted in an average's divisor. The int8 kernels keep the input's quantization (a
//! maximum or mean of values on one scale is on that scale), so they need no requantizer; the
//! average rounds as TFLite's reference `AveragePool`, `(sum ± count/2) / count`, which is the
//! quotient rounded half away from zero.

use super::activation::clamp_to_act;
use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::{axis_geometry, ActivationF32, ActivationS8, Padding};

mod global;
mod pool1d;

pub use global::{global_avg_pool_f32, global_avg_pool_s8};
pub use pool1d::{avg_pool1d_f32, avg_pool1d_s8, max_pool1d_f32, max_pool1d_s8, Pool1dShape};

/// Largest number of int8 values an average sums: `127 * count` must fit in the `i32`
/// accumulator TFLite uses.
pub const MAX_AVG_COUNT_S8: usize = (i32::MAX / 128) as usize;

/// Shape of a 2-D pooling: NHWC input `[batch, in_h, in_w, channels]`, output
/// `[batch, out_h, out_w, channels]` with `out_h, out_w` from [`Pool2dShape::output_hw`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2dShape {
    /// Batch size.
    pub batch: usize,
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
    /// Padding (`Same` pads, but padded positions are excluded from max and mean).
    pub padding: Padding,
}

/// Output size and leading padding of a validated 2-D pooling.
#[derive(Clone, Copy)]
struct Geometry {
    out_h: usize,
    out_w: usize,
    pad_top: usize,
    pad_left: usize,
    input_len: usize,
    output_len: usize,
}

impl Pool2dShape {
    /// Validates the shape and computes everything the kernels need.
    fn geometry(&self) -> Result<Geometry, ShapeError> {
        if self.batch == 0 || self.channels == 0 {
            return Err(ShapeError::Dimension);
        }
        let h = axis_geometry(self.in_h, self.window_h, self.stride_h, 1, self.padding)?;
        let w = axis_geometry(self.in_w, self.window_w, self.stride_w, 1, self.padding)?;
        Ok(Geometry {
            out_h: h.out,
            out_w: w.out,
            pad_top: h.pad_before,
            pad_left: w.pad_before,
            input_len: product(&[self.batch, self.in_h, self.in_w, self.channels])?,
            output_len: product(&[self.batch, h.out, w.out, self.channels])?,
        })
    }

    /// Output height and width.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows `usize`;
    /// [`ShapeError::Parameter`] if a window or stride is zero or, with `Valid` padding, the
    /// window is larger than the input.
    pub fn output_hw(&self) -> Result<(usize, usize), ShapeError> {
        let g = self.geometry()?;
        Ok((g.out_h, g.out_w))
    }

    /// Number of input elements, `batch * in_h * in_w * channels`.
    ///
    /// # Errors
    /// As [`Pool2dShape::output_hw`].
    pub fn input_len(&self) -> Result<usize, ShapeError> {
        Ok(self.geometry()?.input_len)
    }

    /// Number of output elements, `batch * out_h * out_w * channels`.
    ///
    /// # Errors
    /// As [`Pool2dShape::output_hw`].
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        Ok(self.geometry()?.output_len)
    }
}

/// The input rows (or columns) a window covers, clipped to the input: `start..end`.
///
/// The window of output `o` starts at `o * stride - pad` in input coordinates; positions before 0
/// or from `len` on are padding and are left out.
#[inline]
fn clip(o: usize, stride: usize, pad: usize, window: usize, len: usize) -> (usize, usize) {
    let origin = o * stride;
    let start = origin.saturating_sub(pad);
    let end = origin.saturating_add(window).saturating_sub(pad).min(len);
    (start, end)
}

/// Runs a window reduction over every output position and channel.
///
/// `step` folds one input value into the accumulator, `finish` turns the accumulator and the
/// number of (unpadded) values into the output. Lengths are checked before anything is written.
fn pool2d<T: Copy, A: Copy, O>(
    shape: &Pool2dShape,
    input: &[T],
    output: &mut [O],
    init: A,
    step: impl Fn(A, T) -> A,
    finish: impl Fn(A, usize) -> O,
) -> Result<(), ShapeError> {
    let g = shape.geometry()?;
    check_len(Buffer::Input, g.input_len, input.len())?;
    check_len(Buffer::Output, g.output_len, output.len())?;
    let (in_h, in_w, c) = (shape.in_h, shape.in_w, shape.channels);
    let mut o = 0;
    for b in 0..shape.batch {
        let batch_base = b * in_h;
        for oy in 0..g.out_h {
            let (y0, y1) = clip(oy, shape.stride_h, g.pad_top, shape.window_h, in_h);
            for ox in 0..g.out_w {
                let (x0, x1) = clip(ox, shape.stride_w, g.pad_left, shape.window_w, in_w);
                let count = y1.saturating_sub(y0) * x1.saturating_sub(x0);
                for ch in 0..c {
                    let mut acc = init;
                    for y in y0..y1 {
                        let row = (batch_base + y) * in_w;
                        for x in x0..x1 {
                            acc = step(acc, input[(row + x) * c + ch]);
                        }
                    }
                    output[o] = finish(acc, count);
                    o += 1;
                }
            }
        }
    }
    Ok(())
}

/// `max` that lets a NaN through: once a window holds a NaN its maximum is NaN.
#[inline]
fn max_nan(m: f32, x: f32) -> f32 {
    if x.is_nan() || x > m {
        x
    } else {
        m
    }
}

/// `sum / count` rounded half away from zero, as TFLite's int8 `AveragePool`.
#[inline]
fn rounded_average(sum: i32, count: usize) -> i8 {
    // Every window overlaps the input, so count >= 1; `max(1)` only keeps division total.
    // count <= MAX_AVG_COUNT_S8 was checked, so the conversion and the ± count/2 are exact.
    let count = count.max(1) as i32;
    let q = if sum > 0 {
        (sum + count / 2) / count
    } else {
        (sum - count / 2) / count
    };
    q as i8
}

/// Rejects windows whose int8 sum could overflow `i32`.
fn check_avg_window(window_h: usize, window_w: usize) -> Result<(), ShapeError> {
    match window_h.checked_mul(window_w) {
        Some(n) if n <= MAX_AVG_COUNT_S8 => Ok(()),
        _ => Err(ShapeError::Parameter),
    }
}

/// f32 2-D max pooling, then `act`. A NaN in a window makes that output NaN.
///
/// # Shapes
/// `input`: NHWC `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w, channels]`
/// with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Length`] (`Input` or `Output`)
/// if a slice length differs from the shape's. Nothing is written on error.
pub fn max_pool2d_f32(
    shape: &Pool2dShape,
    act: ActivationF32,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    pool2d(shape, input, output, f32::NEG_INFINITY, max_nan, |m, _| {
        act.clamp(m)
    })
}

/// f32 2-D average pooling over the unpadded positions of each window, then `act`.
///
/// # Shapes
/// `input`: NHWC `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w, channels]`
/// with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Length`] (`Input` or `Output`)
/// if a slice length differs from the shape's. Nothing is written on error.
pub fn avg_pool2d_f32(
    shape: &Pool2dShape,
    act: ActivationF32,
    input: &[f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    pool2d(
        shape,
        input,
        output,
        0.0f32,
        |s, x| s + x,
        |s, n| act.clamp(s / n as f32),
    )
}

/// int8 2-D max pooling, then clamped to `act`. Input and output share their quantization.
///
/// # Shapes
/// `input`: NHWC `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w, channels]`
/// with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Length`] (`Input` or `Output`)
/// if a slice length differs from the shape's. Nothing is written on error.
pub fn max_pool2d_s8(
    shape: &Pool2dShape,
    act: ActivationS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    pool2d(shape, input, output, i8::MIN, i8::max, |m, _| {
        clamp_to_act(act, m as i32)
    })
}

/// int8 2-D average pooling: the sum of the unpadded values of each window divided by their
/// count, rounded half away from zero, clamped to `act`. Input and output share their
/// quantization.
///
/// # Shapes
/// `input`: NHWC `[batch, in_h, in_w, channels]`; `output`: `[batch, out_h, out_w, channels]`
/// with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Parameter`] if the window has
/// more than [`MAX_AVG_COUNT_S8`] elements; [`ShapeError::Length`] (`Input` or `Output`) if a
/// slice length differs from the shape's. Nothing is written on error.
pub fn avg_pool2d_s8(
    shape: &Pool2dShape,
    act: ActivationS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    check_avg_window(shape.window_h, shape.window_w)?;
    pool2d(
        shape,
        input,
        output,
        0i32,
        |s, x| s + x as i32,
        |s, n| clamp_to_act(act, rounded_average(s, n) as i32),
    )
}
