//! Depthwise 2-D convolution kernels (TFLite `DepthwiseConv2D`), NHWC.
//!
//! Each input channel `ic` is convolved on its own with `multiplier` filters, giving output
//! channels `oc = ic * multiplier + m`:
//! `output[b, oy, ox, oc] = act(bias[oc] + sum_{ky, kx} input[b, iy, ix, ic] * weights[ky, kx,
//! oc])`, with the same geometry and padding rules as [`conv`](super::conv).

use super::conv::input_coord;
use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::{axis_geometry, ActivationF32, AxisGeometry, Padding, QuantArgsS8};

/// The dimensions and geometry of a depthwise 2-D convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2dShape {
    /// Number of images.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Depth multiplier: output channels per input channel.
    pub multiplier: usize,
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
}

impl DepthwiseConv2dShape {
    fn geometry(&self) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
        if self.multiplier == 0 {
            return Err(ShapeError::Parameter);
        }
        if self.batch == 0 || self.in_c == 0 {
            return Err(ShapeError::Dimension);
        }
        let h = axis_geometry(
            self.in_h,
            self.kernel_h,
            self.stride_h,
            self.dilation_h,
            self.padding,
        )?;
        let w = axis_geometry(
            self.in_w,
            self.kernel_w,
            self.stride_w,
            self.dilation_w,
            self.padding,
        )?;
        Ok((h, w))
    }

    /// Number of output channels, `in_c * multiplier`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if the product overflows.
    pub fn out_c(&self) -> Result<usize, ShapeError> {
        product(&[self.in_c, self.multiplier])
    }

    /// Output height and width.
    ///
    /// # Errors
    /// [`ShapeError::Parameter`] if the multiplier, a kernel size, stride or dilation is zero or a
    /// `VALID` window does not fit in the input; [`ShapeError::Dimension`] if a dimension is zero
    /// or a size overflows.
    pub fn output_hw(&self) -> Result<(usize, usize), ShapeError> {
        let (h, w) = self.geometry()?;
        Ok((h.out, w.out))
    }

    /// Number of input elements, `batch * in_h * in_w * in_c`.
    ///
    /// # Errors
    /// As [`output_hw`](Self::output_hw), and [`ShapeError::Dimension`] on overflow.
    pub fn input_len(&self) -> Result<usize, ShapeError> {
        self.geometry()?;
        product(&[self.batch, self.in_h, self.in_w, self.in_c])
    }

    /// Number of weights, `kernel_h * kernel_w * in_c * multiplier`.
    ///
    /// # Errors
    /// As [`output_hw`](Self::output_hw), and [`ShapeError::Dimension`] on overflow.
    pub fn weights_len(&self) -> Result<usize, ShapeError> {
        self.geometry()?;
        product(&[self.kernel_h, self.kernel_w, self.out_c()?])
    }

    /// Number of output elements, `batch * out_h * out_w * in_c * multiplier`.
    ///
    /// # Errors
    /// As [`output_hw`](Self::output_hw), and [`ShapeError::Dimension`] on overflow.
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        let (h, w) = self.geometry()?;
        product(&[self.batch, h.out, w.out, self.out_c()?])
    }

    /// Checks the geometry and every buffer length, in argument order; returns the geometry.
    pub(super) fn check_buffers(
        &self,
        input: usize,
        weights: usize,
        bias: Option<usize>,
        requant: Option<&QuantArgsS8>,
        output: usize,
    ) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
        let geometry = self.geometry()?;
        let out_c = self.out_c()?;
        check_len(Buffer::Input, self.input_len()?, input)?;
        check_len(Buffer::Weights, self.weights_len()?, weights)?;
        if let Some(bias) = bias {
            check_len(Buffer::Bias, out_c, bias)?;
        }
        if let Some(q) = requant {
            q.check_requant(out_c)?;
        }
        check_len(Buffer::Output, self.output_len()?, output)?;
        Ok(geometry)
    }
}

/// The loop nest shared by the f32 and int8 depthwise convolutions, in output (NHWC) order:
/// each output starts from `init(oc)`, folds `mac(acc, x, w)` over the taps inside the input
/// (`ky`, `kx` increasing) and stores `finish(acc, oc)`. The buffers must have passed
/// `check_buffers`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn depthwise_loops<T: Copy, A, O>(
    s: &DepthwiseConv2dShape,
    (geo_h, geo_w): (AxisGeometry, AxisGeometry),
    input: &[T],
    weights: &[T],
    output: &mut [O],
    init: impl Fn(usize) -> A,
    mac: impl Fn(A, T, T) -> A,
    finish: impl Fn(A, usize) -> O,
) {
    // Cannot overflow: `check_buffers` computed it with checked arithmetic.
    let out_c = s.in_c * s.multiplier;
    let mut out_index = 0;
    for b in 0..s.batch {
        for oy in 0..geo_h.out {
            for ox in 0..geo_w.out {
                for oc in 0..out_c {
                    let ic = oc / s.multiplier;
                    let mut acc = init(oc);
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
                            let x = input[((b * s.in_h + iy) * s.in_w + ix) * s.in_c + ic];
                            let w = weights[(ky * s.kernel_w + kx) * out_c + oc];
                            acc = mac(acc, x, w);
                        }
                    }
                    output[out_index] = finish(acc, oc);
                    out_index += 1;
                }
            }
        }
    }
}

/// f32 depthwise 2-D convolution.
///
/// Each output is accumulated in f32 from the bias (or 0), over `ky`, `kx` in increasing order,
/// then clamped by `act`. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: `[kernel_h, kernel_w, in_c * multiplier]` (TFLite `[1, kh, kw, out_c]`)
/// - `bias`: `[in_c * multiplier]`, or `None` for no bias
/// - `output`: NHWC `[batch, out_h, out_w, in_c * multiplier]`; channel `ic * multiplier + m` is
///   filter `m` of input channel `ic`
///
/// # Errors
/// [`ShapeError::Parameter`] for a zero multiplier, kernel size, stride or dilation, or a `VALID`
/// window larger than the input; [`ShapeError::Dimension`] for a zero dimension or an overflowing
/// size; [`ShapeError::Length`] naming the first buffer (input, weights, bias, output) whose
/// length differs from the shape. Nothing is written on error.
pub fn depthwise_conv2d_f32(
    shape: &DepthwiseConv2dShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: ActivationF32,
    output: &mut [f32],
) -> Result<(), ShapeError> {
    let geometry = shape.check_buffers(
        input.len(),
        weights.len(),
        bias.map(<[f32]>::len),
        None,
        output.len(),
    )?;
    depthwise_loops(
        shape,
        geometry,
        input,
        weights,
        output,
        |oc| bias.map_or(0.0, |bias| bias[oc]),
        |acc, x, w| acc + x * w,
        |acc, _| act.clamp(acc),
    );
    Ok(())
}

/// int8 depthwise 2-D convolution (TFLite `DepthwiseConv2D`, int8, per-tensor or per-channel
/// requantization).
///
/// `output = clamp(requant[oc](bias[oc] + sum (input + input_offset) * weights) + output_offset)`
/// over the taps inside the input. Products are accumulated in `i32` with wrapping arithmetic:
/// TFLite leaves an overflowing accumulator undefined, here it wraps (modulo 2^32) so that no
/// input can panic. With in-spec values (`input_offset` in `-127..=128`, `|weights| <= 127`) each
/// term is below 2^15, so no overflow occurs while `kernel_h * kernel_w` stays below 2^16 and the
/// bias is far from the `i32` limits. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: `[kernel_h, kernel_w, in_c * multiplier]` (symmetric, zero point 0)
/// - `bias`: `[in_c * multiplier]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[in_c * multiplier]` (per-channel)
/// - `output`: NHWC `[batch, out_h, out_w, in_c * multiplier]`
///
/// # Errors
/// As [`depthwise_conv2d_f32`], with the requantizers checked after the bias
/// ([`Buffer::Requant`], expected length `in_c * multiplier`).
pub fn depthwise_conv2d_s8(
    shape: &DepthwiseConv2dShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    let geometry = shape.check_buffers(
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        Some(q),
        output.len(),
    )?;
    depthwise_loops(
        shape,
        geometry,
        input,
        weights,
        output,
        |oc| bias.map_or(0, |bias| bias[oc]),
        |acc: i32, x: i8, w: i8| {
            let x = (x as i32).wrapping_add(q.input_offset);
            acc.wrapping_add(x.wrapping_mul(w as i32))
        },
        |acc, oc| q.output(acc, oc),
    );
    Ok(())
}
