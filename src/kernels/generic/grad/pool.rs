//! Gradients of the f32 pooling kernels ([`max_pool2d_f32`](crate::kernels::generic::pool::max_pool2d_f32),
//! [`avg_pool2d_f32`](crate::kernels::generic::pool::avg_pool2d_f32), their 1-D forms and
//! [`global_avg_pool_f32`](crate::kernels::generic::pool::global_avg_pool_f32)), without a fused
//! activation.
//!
//! The windows are recomputed exactly as the forward kernel visits them: the same
//! [`axis_geometry`] (padding before, output size), the same clipping of a window to the input,
//! the same row-then-column scan order. So max pooling routes each gradient to the very element
//! the forward maximum returned, and average pooling divides by the same count of unpadded values.

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::generic::pool::{Pool1dShape, Pool2dShape};
use crate::kernels::{axis_geometry, AxisGeometry};

/// The input range a window covers along one axis, clipped to the input: `start..end`.
///
/// Restates the forward kernel's clipping: the window of output `o` starts at `o * stride - pad`;
/// positions before 0 or from `len` on are padding.
#[inline]
fn clip(o: usize, stride: usize, pad: usize, window: usize, len: usize) -> (usize, usize) {
    let origin = o.saturating_mul(stride);
    let start = origin.saturating_sub(pad);
    let end = origin.saturating_add(window).saturating_sub(pad).min(len);
    (start, end)
}

/// Validates a 2-D pooling shape and the lengths of the gradient buffers (and of `input` when
/// given). Returns the vertical and horizontal geometry.
fn check_pool2d(
    shape: &Pool2dShape,
    input: Option<usize>,
    grad_output: usize,
    grad_input: usize,
) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
    if shape.batch == 0 || shape.channels == 0 {
        return Err(ShapeError::Dimension);
    }
    let h = axis_geometry(shape.in_h, shape.window_h, shape.stride_h, 1, shape.padding)?;
    let w = axis_geometry(shape.in_w, shape.window_w, shape.stride_w, 1, shape.padding)?;
    let n_in = product(&[shape.batch, shape.in_h, shape.in_w, shape.channels])?;
    let n_out = product(&[shape.batch, h.out, w.out, shape.channels])?;
    if let Some(len) = input {
        check_len(Buffer::Input, n_in, len)?;
    }
    check_len(Buffer::GradOutput, n_out, grad_output)?;
    check_len(Buffer::GradInput, n_in, grad_input)?;
    Ok((h, w))
}

/// Visits every window: calls `visit(ch, first_row, (y0, y1), (x0, x1), g)` with the window's
/// clipped row and column ranges, the index of its image's first row among all the batch's rows
/// (`b * in_h`), and the output gradient of that window and channel.
fn for_each_window(
    shape: &Pool2dShape,
    h: AxisGeometry,
    w: AxisGeometry,
    grad_output: &[f32],
    mut visit: impl FnMut(usize, usize, (usize, usize), (usize, usize), f32),
) {
    let c = shape.channels;
    let mut grads = grad_output.iter();
    for b in 0..shape.batch {
        let first_row = b * shape.in_h;
        for oy in 0..h.out {
            let rows = clip(oy, shape.stride_h, h.pad_before, shape.window_h, shape.in_h);
            for ox in 0..w.out {
                let cols = clip(ox, shape.stride_w, w.pad_before, shape.window_w, shape.in_w);
                for ch in 0..c {
                    // grad_output holds exactly batch * out_h * out_w * c values (checked).
                    let Some(&g) = grads.next() else { return };
                    visit(ch, first_row, rows, cols, g);
                }
            }
        }
    }
}

/// Gradient of 2-D max pooling with respect to its input.
///
/// Each window's output gradient goes to the element the forward kernel returned as the maximum,
/// found again from `input`: the first element in row-major window order that is strictly greater
/// than everything before it. With ties the first of the equal maxima gets the gradient; a window
/// holding a NaN sends it to its last NaN (the one the forward kernel returns); a window of only
/// `-inf` sends it to its first element. Overlapping windows add their gradients.
///
/// # Shapes
/// `input` and `grad_input`: NHWC `[batch, in_h, in_w, channels]`; `grad_output`:
/// `[batch, out_h, out_w, channels]` with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Length`] (`Input`, `GradOutput`
/// or `GradInput`) if a slice length differs from the shape's. Nothing is written on error.
pub fn max_pool2d_backward_f32(
    shape: &Pool2dShape,
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    let (h, w) = check_pool2d(
        shape,
        Some(input.len()),
        grad_output.len(),
        grad_input.len(),
    )?;
    grad_input.fill(0.0);
    let (in_w, c) = (shape.in_w, shape.channels);
    for_each_window(
        shape,
        h,
        w,
        grad_output,
        |ch, first_row, (y0, y1), (x0, x1), g| {
            // Every window overlaps the input, so (y0, x0) is a valid element; it is the pick when no
            // element beats -inf, and the forward scan starts from -inf as this one does.
            let mut best_value = f32::NEG_INFINITY;
            let mut best_index = ((first_row + y0) * in_w + x0) * c + ch;
            for y in y0..y1 {
                for x in x0..x1 {
                    let i = ((first_row + y) * in_w + x) * c + ch;
                    let v = input.get(i).copied().unwrap_or(f32::NEG_INFINITY);
                    // The forward kernel's `max_nan`: a NaN or a strictly larger value replaces the
                    // running maximum.
                    if v.is_nan() || v > best_value {
                        best_value = v;
                        best_index = i;
                    }
                }
            }
            if let Some(d) = grad_input.get_mut(best_index) {
                *d += g;
            }
        },
    );
    Ok(())
}

/// Gradient of 2-D average pooling with respect to its input.
///
/// Each window's output gradient is divided by the number of unpadded elements in the window
/// (the forward kernel's divisor; padded positions with `Same` padding are not counted) and added
/// to each of those elements. Overlapping windows add their gradients.
///
/// # Shapes
/// `grad_input`: NHWC `[batch, in_h, in_w, channels]`; `grad_output`:
/// `[batch, out_h, out_w, channels]` with `(out_h, out_w) = shape.output_hw()`.
///
/// # Errors
/// The shape errors of [`Pool2dShape::output_hw`]; [`ShapeError::Length`] (`GradOutput` or
/// `GradInput`) if a slice length differs from the shape's. Nothing is written on error.
pub fn avg_pool2d_backward_f32(
    shape: &Pool2dShape,
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    let (h, w) = check_pool2d(shape, None, grad_output.len(), grad_input.len())?;
    grad_input.fill(0.0);
    let (in_w, c) = (shape.in_w, shape.channels);
    for_each_window(
        shape,
        h,
        w,
        grad_output,
        |ch, first_row, (y0, y1), (x0, x1), g| {
            let count = y1.saturating_sub(y0) * x1.saturating_sub(x0);
            // Same f32 division as the forward `sum / count`; count >= 1 as every window overlaps
            // the input.
            let share = g / count.max(1) as f32;
            for y in y0..y1 {
                for x in x0..x1 {
                    if let Some(d) = grad_input.get_mut(((first_row + y) * in_w + x) * c + ch) {
                        *d += share;
                    }
                }
            }
        },
    );
    Ok(())
}

/// Gradient of 1-D max pooling; see [`max_pool2d_backward_f32`].
///
/// # Shapes
/// `input` and `grad_input`: `[batch, len, channels]`; `grad_output`:
/// `[batch, out_len, channels]` with `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`max_pool2d_backward_f32`].
pub fn max_pool1d_backward_f32(
    shape: &Pool1dShape,
    input: &[f32],
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    max_pool2d_backward_f32(&shape.as_2d(), input, grad_output, grad_input)
}

/// Gradient of 1-D average pooling; see [`avg_pool2d_backward_f32`].
///
/// # Shapes
/// `grad_input`: `[batch, len, channels]`; `grad_output`: `[batch, out_len, channels]` with
/// `out_len = shape.output_len_axis()`.
///
/// # Errors
/// As [`avg_pool2d_backward_f32`].
pub fn avg_pool1d_backward_f32(
    shape: &Pool1dShape,
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    avg_pool2d_backward_f32(&shape.as_2d(), grad_output, grad_input)
}

/// Gradient of global average pooling: every position of a channel receives that channel's
/// output gradient divided by `spatial`.
///
/// # Shapes
/// `grad_output`: `[batch, channels]`; `grad_input`: `[batch, spatial, channels]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] (`GradOutput` or `GradInput`) if a slice length differs from the
/// shape's. Nothing is written on error.
pub fn global_avg_pool_backward_f32(
    batch: usize,
    spatial: usize,
    channels: usize,
    grad_output: &[f32],
    grad_input: &mut [f32],
) -> Result<(), ShapeError> {
    if batch == 0 || spatial == 0 || channels == 0 {
        return Err(ShapeError::Dimension);
    }
    check_len(
        Buffer::GradOutput,
        product(&[batch, channels])?,
        grad_output.len(),
    )?;
    check_len(
        Buffer::GradInput,
        product(&[batch, spatial, channels])?,
        grad_input.len(),
    )?;
    // The forward divides the f32 sum by `spatial as f32`; the same divisor here.
    let n = spatial as f32;
    for (image, g) in grad_input
        .chunks_exact_mut(spatial * channels)
        .zip(grad_output.chunks_exact(channels))
    {
        for pixel in image.chunks_exact_mut(channels) {
            for (d, &g) in pixel.iter_mut().zip(g) {
                *d = g / n;
            }
        }
    }
    Ok(())
}
