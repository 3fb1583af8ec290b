//! Gradients of the f32 convolutions ([`conv2d_f32`](crate::kernels::generic::conv::conv2d_f32)
//! and [`conv1d_f32`](crate::kernels::generic::conv::conv1d_f32), without activation).
//!
//! The forward sums `y[b, oy, ox, oc] = bias[oc] + sum x[b, iy, ix, ic] * w[oc, ky, kx, ic]` over
//! the taps inside the input (`iy = oy * stride_h + ky * dilation_h - pad_top`, likewise `ix`).
//! Every tap is a product `x * w` added to one output, so with `g = dL/dy` the backward visits the
//! same taps with the same geometry ([`axis_geometry`] and the forward's `input_coord`) and sends
//! `g * w` to the input gradient and `g * x` to the weight gradient. Taps in the padding have no
//! input and contribute nothing to either.

use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::conv::{input_coord, Conv1dShape, Conv2dShape};
use crate::kernels::{axis_geometry, AxisGeometry};

/// Validates the shape exactly as the forward kernel does and returns both axes' geometry.
fn geometry(s: &Conv2dShape) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
    // `output_hw` checks the zero dimensions before the axes, as the forward kernel does, so both
    // report the same error for the same shape.
    s.output_hw()?;
    let h = axis_geometry(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, s.padding)?;
    let w = axis_geometry(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, s.padding)?;
    Ok((h, w))
}

/// Backward pass of an f32 2-D convolution without activation.
///
/// Overwrites `grad_input` with `dL/dx` and **adds** `dL/dw` into `grad_weights` and `dL/dbias`
/// into `grad_bias`, each only when given, so parameter gradients accumulate over calls. The
/// geometry (stride, dilation, `SAME`/`VALID` padding) is the forward kernel's. Sums run in f32,
/// in output (NHWC) order. NaN in `grad_output`, `input` or `weights` gives NaN in the gradients
/// it reaches. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]` (the forward input)
/// - `weights`: OHWI `[out_c, kernel_h, kernel_w, in_c]`
/// - `grad_output`: NHWC `[batch, out_h, out_w, out_c]`, `(out_h, out_w)` from
///   [`Conv2dShape::output_hw`]
/// - `grad_input`: `[batch, in_h, in_w, in_c]`, or `None`
/// - `grad_weights`: `[out_c, kernel_h, kernel_w, in_c]`, or `None`
/// - `grad_bias`: `[out_c]`, or `None`
///
/// # Errors
/// As the forward kernel for the geometry ([`ShapeError::Parameter`],
/// [`ShapeError::Dimension`]); [`ShapeError::Length`] naming the first buffer whose length
/// differs from the shape, in the order input ([`Buffer::Input`]), weights
/// ([`Buffer::Weights`]), output gradient ([`Buffer::GradOutput`]), input gradient
/// ([`Buffer::GradInput`]), weight then bias gradient (both [`Buffer::GradParams`]). Nothing is
/// written on error.
pub fn conv2d_backward_f32(
    shape: &Conv2dShape,
    input: &[f32],
    weights: &[f32],
    grad_output: &[f32],
    mut grad_input: Option<&mut [f32]>,
    mut grad_weights: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    let (geo_h, geo_w) = geometry(shape)?;
    let n_input = shape.input_len()?;
    let n_weights = shape.weights_len()?;
    check_len(Buffer::Input, n_input, input.len())?;
    check_len(Buffer::Weights, n_weights, weights.len())?;
    check_len(Buffer::GradOutput, shape.output_len()?, grad_output.len())?;
    if let Some(g) = grad_input.as_deref() {
        check_len(Buffer::GradInput, n_input, g.len())?;
    }
    if let Some(g) = grad_weights.as_deref() {
        check_len(Buffer::GradParams, n_weights, g.len())?;
    }
    if let Some(g) = grad_bias.as_deref() {
        check_len(Buffer::GradParams, shape.out_c, g.len())?;
    }

    let s = shape;
    if let Some(gi) = grad_input.as_deref_mut() {
        // Several outputs read the same input element, so the input gradient is a sum built up
        // over the loop below.
        gi.fill(0.0);
    }
    // Every index below is in range: the lengths were checked against the shape, and
    // `input_coord` only returns coordinates inside the input.
    let mut out_index = 0;
    for b in 0..s.batch {
        for oy in 0..geo_h.out {
            for ox in 0..geo_w.out {
                for oc in 0..s.out_c {
                    let g = grad_output[out_index];
                    out_index += 1;
                    for ky in 0..s.kernel_h {
                        let Some(iy) = input_coord(oy, ky, s.stride_h, s.dilation_h, geo_h, s.in_h)
                        else {
                            continue;
                        };
                        for kx in 0..s.kernel_w {
                            let Some(ix) =
                                input_coord(ox, kx, s.stride_w, s.dilation_w, geo_w, s.in_w)
                            else {
                                continue;
                            };
                            let i0 = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c;
                            let w0 = ((oc * s.kernel_h + ky) * s.kernel_w + kx) * s.in_c;
                            if let Some(gi) = grad_input.as_deref_mut() {
                                let filter = &weights[w0..w0 + s.in_c];
                                for (gx, &w) in gi[i0..i0 + s.in_c].iter_mut().zip(filter) {
                                    *gx += g * w;
                                }
                            }
                            if let Some(gw) = grad_weights.as_deref_mut() {
                                let pixel = &input[i0..i0 + s.in_c];
                                for (gwv, &x) in gw[w0..w0 + s.in_c].iter_mut().zip(pixel) {
                                    *gwv += g * x;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(grad_bias) = grad_bias {
        for go_pixel in grad_output.chunks_exact(s.out_c) {
            for (gb, &g) in grad_bias.iter_mut().zip(go_pixel) {
                *gb += g;
            }
        }
    }
    Ok(())
}

/// Backward pass of an f32 1-D convolution without activation: [`conv2d_backward_f32`] on images
/// of height 1 (see [`Conv1dShape::to_conv2d`]; the memory layouts coincide).
///
/// # Shapes
/// - `input`: `[batch, len, in_c]` (the forward input)
/// - `weights`: `[out_c, kernel, in_c]`
/// - `grad_output`: `[batch, out_len, out_c]`, `out_len` from [`Conv1dShape::out_len`]
/// - `grad_input`: `[batch, len, in_c]`, or `None`
/// - `grad_weights`: `[out_c, kernel, in_c]`, or `None`
/// - `grad_bias`: `[out_c]`, or `None`
///
/// # Errors
/// As [`conv2d_backward_f32`]. Nothing is written on error.
pub fn conv1d_backward_f32(
    shape: &Conv1dShape,
    input: &[f32],
    weights: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    grad_weights: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    conv2d_backward_f32(
        &shape.to_conv2d(),
        input,
        weights,
        grad_output,
        grad_input,
        grad_weights,
        grad_bias,
    )
}
