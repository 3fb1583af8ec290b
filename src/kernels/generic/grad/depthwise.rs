//! Gradient of the f32 depthwise convolution
//! ([`depthwise_conv2d_f32`](crate::kernels::generic::depthwise::depthwise_conv2d_f32), without
//! activation).
//!
//! The forward sums `y[b, oy, ox, oc] = bias[oc] + sum_{ky, kx} x[b, iy, ix, ic] * w[ky, kx, oc]`
//! with `ic = oc / multiplier`, over the taps inside the input. With `g = dL/dy` the backward
//! visits the same taps with the same geometry and sends `g * w` to the input gradient of channel
//! `ic` and `g * x` to the weight gradient. Taps in the padding contribute nothing.

use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::conv::input_coord;
use crate::kernels::generic::depthwise::DepthwiseConv2dShape;
use crate::kernels::{axis_geometry, AxisGeometry};

/// Validates the shape exactly as the forward kernel does and returns both axes' geometry.
fn geometry(s: &DepthwiseConv2dShape) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
    // `output_hw` checks the multiplier and the zero dimensions before the axes, as the forward
    // kernel does, so both report the same error for the same shape.
    s.output_hw()?;
    let h = axis_geometry(s.in_h, s.kernel_h, s.stride_h, s.dilation_h, s.padding)?;
    let w = axis_geometry(s.in_w, s.kernel_w, s.stride_w, s.dilation_w, s.padding)?;
    Ok((h, w))
}

/// Backward pass of an f32 depthwise 2-D convolution without activation.
///
/// Overwrites `grad_input` with `dL/dx` and **adds** `dL/dw` into `grad_weights` and `dL/dbias`
/// into `grad_bias`, each only when given, so parameter gradients accumulate over calls. The
/// geometry (stride, dilation, `SAME`/`VALID` padding) is the forward kernel's. Sums run in f32,
/// in output (NHWC) order. NaN in `grad_output`, `input` or `weights` gives NaN in the gradients
/// it reaches. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]` (the forward input)
/// - `weights`: `[kernel_h, kernel_w, in_c * multiplier]`
/// - `grad_output`: NHWC `[batch, out_h, out_w, in_c * multiplier]`
/// - `grad_input`: `[batch, in_h, in_w, in_c]`, or `None`
/// - `grad_weights`: `[kernel_h, kernel_w, in_c * multiplier]`, or `None`
/// - `grad_bias`: `[in_c * multiplier]`, or `None`
///
/// # Errors
/// As the forward kernel for the geometry ([`ShapeError::Parameter`],
/// [`ShapeError::Dimension`]); [`ShapeError::Length`] naming the first buffer whose length
/// differs from the shape, in the order input ([`Buffer::Input`]), weights
/// ([`Buffer::Weights`]), output gradient ([`Buffer::GradOutput`]), input gradient
/// ([`Buffer::GradInput`]), weight then bias gradient (both [`Buffer::GradParams`]). Nothing is
/// written on error.
pub fn depthwise_conv2d_backward_f32(
    shape: &DepthwiseConv2dShape,
    input: &[f32],
    weights: &[f32],
    grad_output: &[f32],
    mut grad_input: Option<&mut [f32]>,
    mut grad_weights: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    let (geo_h, geo_w) = geometry(shape)?;
    let out_c = shape.out_c()?;
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
        check_len(Buffer::GradParams, out_c, g.len())?;
    }

    let s = shape;
    if let Some(gi) = grad_input.as_deref_mut() {
        // Several outputs read the same input element: the gradient is built up as a sum.
        gi.fill(0.0);
    }
    // Every index below is in range: the lengths were checked against the shape, and
    // `input_coord` only returns coordinates inside the input.
    let mut out_index = 0;
    for b in 0..s.batch {
        for oy in 0..geo_h.out {
            for ox in 0..geo_w.out {
                for oc in 0..out_c {
                    let ic = oc / s.multiplier;
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
                            let i = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic;
                            let w = (ky * s.kernel_w + kx) * out_c + oc;
                            if let Some(gi) = grad_input.as_deref_mut() {
                                gi[i] += g * weights[w];
                            }
                            if let Some(gw) = grad_weights.as_deref_mut() {
                                gw[w] += g * input[i];
                            }
                        }
                    }
                }
            }
        }
    }
    if let Some(grad_bias) = grad_bias {
        for go_pixel in grad_output.chunks_exact(out_c) {
            for (gb, &g) in grad_bias.iter_mut().zip(go_pixel) {
                *gb += g;
            }
        }
    }
    Ok(())
}
