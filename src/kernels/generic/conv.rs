//! Convolution kernels (TFLite `Conv2D`, and its one-dimensional case), NHWC with OHWI weights.
//!
//! `output[b, oy, ox, oc] = act(bias[oc] + sum_{ky, kx, ic} input[b, iy, ix, ic] *
//! weights[oc, ky, kx, ic])` with `iy = oy * stride_h + ky * dilation_h - pad_top` (likewise
//! `ix`). Taps that fall into the padding contribute nothing: in f32 the padding is zero, in int8
//! it equals the input zero point, so `input + input_offset` is zero there too.

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::{axis_geometry, ActivationF32, AxisGeometry, Padding, QuantArgsS8};

/// The dimensions and geometry of a 2-D convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2dShape {
    /// Number of images.
    pub batch: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (number of filters).
    pub out_c: usize,
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

impl Conv2dShape {
    /// Output geometry along both axes, or the first error of `axis_geometry` or of a zero
    /// dimension.
    fn geometry(&self) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
        if self.batch == 0 || self.in_c == 0 || self.out_c == 0 {
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

    /// Output height and width.
    ///
    /// # Errors
    /// [`ShapeError::Parameter`] if a kernel size, stride or dilation is zero or a `VALID` window
    /// does not fit in the input; [`ShapeError::Dimension`] if a dimension is zero or a size
    /// overflows.
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

    /// Number of weights, `out_c * kernel_h * kernel_w * in_c`.
    ///
    /// # Errors
    /// As [`output_hw`](Self::output_hw), and [`ShapeError::Dimension`] on overflow.
    pub fn weights_len(&self) -> Result<usize, ShapeError> {
        self.geometry()?;
        product(&[self.out_c, self.kernel_h, self.kernel_w, self.in_c])
    }

    /// Number of output elements, `batch * out_h * out_w * out_c`.
    ///
    /// # Errors
    /// As [`output_hw`](Self::output_hw), and [`ShapeError::Dimension`] on overflow.
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        let (h, w) = self.geometry()?;
        product(&[self.batch, h.out, w.out, self.out_c])
    }

    /// Checks the geometry and every buffer length, in argument order; returns the geometry.
    pub(crate) fn check_buffers(
        &self,
        input: usize,
        weights: usize,
        bias: Option<usize>,
        requant: Option<&QuantArgsS8>,
        output: usize,
    ) -> Result<(AxisGeometry, AxisGeometry), ShapeError> {
        let geometry = self.geometry()?;
        check_len(Buffer::Input, self.input_len()?, input)?;
        check_len(Buffer::Weights, self.weights_len()?, weights)?;
        if let Some(bias) = bias {
            check_len(Buffer::Bias, self.out_c, bias)?;
        }
        if let Some(q) = requant {
            q.check_requant(self.out_c)?;
        }
        check_len(Buffer::Output, self.output_len()?, output)?;
        Ok(geometry)
    }
}

/// The input coordinate read by output position `out` through filter tap `tap` along one axis, or
/// `None` when it falls into the padding.
///
/// Cannot overflow once `axis_geometry` has accepted the axis: `out * stride + tap * dilation`
/// is at most `(out_len - 1) * stride + effective_kernel - 1`, which `axis_geometry` computed
/// with checked arithmetic (`SAME`) or bounded by the input length (`VALID`).
#[inline]
pub(crate) fn input_coord(
    out: usize,
    tap: usize,
    stride: usize,
    dilation: usize,
    geometry: AxisGeometry,
    len: usize,
) -> Option<usize> {
    (out * stride + tap * dilation)
        .checked_sub(geometry.pad_before)
        .filter(|&i| i < len)
}

/// The loop nest shared by the f32 and int8 convolutions, in output (NHWC) order: each output
/// starts from `init(oc)`, folds `mac(acc, x, w)` over the taps inside the input (`ky`, `kx`, `ic`
/// increasing) and stores `finish(acc, oc)`. The buffers must have passed `check_buffers`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn conv2d_loops<T: Copy, A, O>(
    s: &Conv2dShape,
    (geo_h, geo_w): (AxisGeometry, AxisGeometry),
    input: &[T],
    weights: &[T],
    output: &mut [O],
    init: impl Fn(usize) -> A,
    mac: impl Fn(A, T, T) -> A,
    finish: impl Fn(A, usize) -> O,
) {
    let mut out_index = 0;
    for b in 0..s.batch {
        for oy in 0..geo_h.out {
            for ox in 0..geo_w.out {
                for oc in 0..s.out_c {
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
                            let i0 = ((b * s.in_h + iy) * s.in_w + ix) * s.in_c;
                            let w0 = ((oc * s.kernel_h + ky) * s.kernel_w + kx) * s.in_c;
                            let pixel = &input[i0..i0 + s.in_c];
                            let filter = &weights[w0..w0 + s.in_c];
                            for (&x, &w) in pixel.iter().zip(filter) {
                                acc = mac(acc, x, w);
                            }
                        }
                    }
                    output[out_index] = finish(acc, oc);
                    out_index += 1;
                }
            }
        }
    }
}

/// f32 2-D convolution.
///
/// Each output is accumulated in f32 from the bias (or 0), over `ky`, `kx`, `ic` in increasing
/// order, then clamped by `act`. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: OHWI `[out_c, kernel_h, kernel_w, in_c]`
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `output`: NHWC `[batch, out_h, out_w, out_c]`, `(out_h, out_w)` from
///   [`Conv2dShape::output_hw`]
///
/// # Errors
/// [`ShapeError::Parameter`] for a zero kernel size, stride or dilation, or a `VALID` window
/// larger than the input; [`ShapeError::Dimension`] for a zero dimension or an overflowing size;
/// [`ShapeError::Length`] naming the first buffer (input, weights, bias, output) whose length
/// differs from the shape. Nothing is written on error.
pub fn conv2d_f32(
    shape: &Conv2dShape,
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
    conv2d_loops(
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

/// int8 2-D convolution (TFLite `Conv2D`, int8, per-tensor or per-channel requantization).
///
/// `output = clamp(requant[oc](bias[oc] + sum (input + input_offset) * weights) + output_offset)`
/// over the taps inside the input. Products are accumulated in `i32` with wrapping arithmetic:
/// TFLite leaves an overflowing accumulator undefined, here it wraps (modulo 2^32) so that no
/// input can panic. With in-spec values (`input_offset` in `-127..=128`, `|weights| <= 127`) each
/// term is below 2^15, so no overflow occurs while `kernel_h * kernel_w * in_c` stays below 2^16
/// and the bias is far from the `i32` limits. Needs no scratch memory.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: OHWI `[out_c, kernel_h, kernel_w, in_c]` (symmetric, zero point 0)
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_c]` (per-channel)
/// - `output`: NHWC `[batch, out_h, out_w, out_c]`
///
/// # Errors
/// As [`conv2d_f32`], with the requantizers checked after the bias
/// ([`Buffer::Requant`], expected length `out_c`).
pub fn conv2d_s8(
    shape: &Conv2dShape,
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
    conv2d_loops(
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

/// The dimensions and geometry of a 1-D convolution over a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv1dShape {
    /// Number of sequences.
    pub batch: usize,
    /// Input sequence length.
    pub len: usize,
    /// Input channels.
    pub in_c: usize,
    /// Output channels (number of filters).
    pub out_c: usize,
    /// Filter length.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Dilation (1 = dense filter).
    pub dilation: usize,
    /// Padding (TensorFlow `SAME` or `VALID`).
    pub padding: Padding,
}

impl Conv1dShape {
    /// The same convolution as a 2-D one over images of height 1: `[batch, len, in_c]` is NHWC
    /// `[batch, 1, len, in_c]` and `[out_c, kernel, in_c]` is OHWI `[out_c, 1, kernel, in_c]`,
    /// so the memory layouts coincide. A 1-high kernel with stride 1 has no vertical padding.
    pub fn to_conv2d(&self) -> Conv2dShape {
        Conv2dShape {
            batch: self.batch,
            in_h: 1,
            in_w: self.len,
            in_c: self.in_c,
            out_c: self.out_c,
            kernel_h: 1,
            kernel_w: self.kernel,
            stride_h: 1,
            stride_w: self.stride,
            dilation_h: 1,
            dilation_w: self.dilation,
            padding: self.padding,
        }
    }

    /// Output sequence length (`out_len`).
    ///
    /// # Errors
    /// As [`Conv2dShape::output_hw`].
    pub fn out_len(&self) -> Result<usize, ShapeError> {
        Ok(self.to_conv2d().output_hw()?.1)
    }

    /// Number of input elements, `batch * len * in_c`.
    ///
    /// # Errors
    /// As [`Conv2dShape::input_len`].
    pub fn input_len(&self) -> Result<usize, ShapeError> {
        self.to_conv2d().input_len()
    }

    /// Number of weights, `out_c * kernel * in_c`.
    ///
    /// # Errors
    /// As [`Conv2dShape::weights_len`].
    pub fn weights_len(&self) -> Result<usize, ShapeError> {
        self.to_conv2d().weights_len()
    }

    /// Number of output elements, `batch * out_len * out_c`.
    ///
    /// # Errors
    /// As [`Conv2dShape::output_len`].
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        self.to_conv2d().output_len()
    }
}

/// f32 1-D convolution: [`conv2d_f32`] on images of height 1 (see [`Conv1dShape::to_conv2d`]).
/// Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, len, in_c]`
/// - `weights`: `[out_c, kernel, in_c]`
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `output`: `[batch, out_len, out_c]`, `out_len` from [`Conv1dShape::out_len`]
///
/// # Errors
/// As [`conv2d_f32`].
pub fn conv1d_f32(
    shape: &Conv1dShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: ActivationF32,
    output: &mut [f32],
) -> Result<(), ShapeError> {
    conv2d_f32(&shape.to_conv2d(), input, weights, bias, act, output)
}

/// int8 1-D convolution: [`conv2d_s8`] on images of height 1 (see [`Conv1dShape::to_conv2d`]),
/// with the same accumulation and overflow contract. Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, len, in_c]`
/// - `weights`: `[out_c, kernel, in_c]` (symmetric, zero point 0)
/// - `bias`: `[out_c]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[out_c]` (per-channel)
/// - `output`: `[batch, out_len, out_c]`
///
/// # Errors
/// As [`conv2d_s8`].
pub fn conv1d_s8(
    shape: &Conv1dShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    conv2d_s8(&shape.to_conv2d(), q, input, weights, bias, output)
}
