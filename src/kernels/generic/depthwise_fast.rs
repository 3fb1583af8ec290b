//! The fast int8 depthwise convolution the layers use, bit-exact with the reference
//! [`depthwise::depthwise_conv2d_s8`](super::depthwise::depthwise_conv2d_s8).
//!
//! # How
//!
//! The output is cut into tiles; for each tile and input channel, the part of the channel the
//! tile reads is copied out of the NHWC input into a *plane*: a stack buffer of `i16` with a
//! fixed row stride, padding included. Every filter of the channel (the depth multiplier's) then
//! runs over the plane with no bounds or padding test per tap, into a block of `i32`
//! accumulators, which is requantized into the output channel.
//!
//! - **Padding** holds `-input_offset` (the input zero point) and the input offset is folded
//!   into the accumulator's start, `bias + input_offset * sum(weights)`: a padded tap then
//!   contributes `(-input_offset + input_offset) * w = 0` and an inside tap
//!   `(x + input_offset) * w`, as in the reference. Sums are taken modulo 2^32 in both, so the
//!   accumulators are the reference's to the bit whatever their size.
//! - **Requantization** takes a short form when a channel's accumulators provably stay below
//!   2^30 in magnitude and its shift is a right shift (the usual case: see
//!   `channel::FastRequant`); otherwise the general requantizer, as the reference.
//! - On **Armv7E-M** (Cortex-M4/M7) the 3x3, stride 1, undilated filter (the common one) runs in
//!   `kernels::cortex_m_dw`: two outputs at a time, two taps per `SMLAD`
//!   from pairs of plane elements; the copy into the plane and the short requantization are
//!   assembly too. Other filters, and other cores, use portable loops over the plane.
//!
//! Shapes the planes cannot hold (an effective filter wider than 50 or taller than the plane's
//! rows, more than 64 taps) and input offsets outside the `i16` range are passed to the
//! reference kernel.

use super::depthwise::{depthwise_conv2d_s8 as reference, DepthwiseConv2dShape};
use crate::error::ShapeError;
use crate::kernels::{ActivationS8, AxisGeometry, QuantArgsS8};
use channel::{Channel, Requant, MAX_TAPS};
use portable::Kernel;
use tile::{Plane, Tile, Tiling, ACC_LEN, PLANE_LEN};

mod channel;
mod portable;
#[cfg(test)]
mod tests;
mod tile;

pub(crate) use channel::FastRequant;
#[cfg(tinytune_dsp)]
pub(crate) use tile::PLANE_STRIDE;

/// int8 depthwise 2-D convolution, bit-exact with the reference
/// [`depthwise_conv2d_s8`](super::depthwise::depthwise_conv2d_s8) for every input, and much
/// faster (see the [module documentation](self)). Its frame takes about 5 KiB of stack on
/// Armv7E-M, 2.5 KiB on the other cores.
///
/// # Shapes
/// - `input`: NHWC `[batch, in_h, in_w, in_c]`
/// - `weights`: `[kernel_h, kernel_w, in_c * multiplier]` (symmetric, zero point 0)
/// - `bias`: `[in_c * multiplier]`, or `None` for no bias
/// - `q.requant`: `[1]` (per-tensor) or `[in_c * multiplier]` (per-channel)
/// - `output`: NHWC `[batch, out_h, out_w, in_c * multiplier]`
///
/// # Errors
/// As the reference: [`ShapeError::Parameter`] for a zero multiplier, kernel size, stride or
/// dilation, or a `VALID` window larger than the input; [`ShapeError::Dimension`] for a zero
/// dimension or an overflowing size; [`ShapeError::Length`] naming the first buffer (input,
/// weights, bias, requantizers, output) whose length differs from the shape. Nothing is written
/// on error.
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
    let tiling = Tiling::new(shape, geometry.0.out, geometry.1.out);
    let pad = i16::try_from(q.input_offset.wrapping_neg())
        .ok()
        .filter(|_| q.input_offset != i32::MIN);
    match (tiling, pad) {
        (Some(tiling), Some(pad)) if shape.kernel_h * shape.kernel_w <= MAX_TAPS => {
            let job = Job {
                s: shape,
                geometry,
                q,
                weights,
                bias,
                pad,
            };
            job.run(&tiling, input, output);
            Ok(())
        }
        _ => reference(shape, q, input, weights, bias, output),
    }
}

/// One checked call.
struct Job<'a> {
    s: &'a DepthwiseConv2dShape,
    geometry: (AxisGeometry, AxisGeometry),
    q: &'a QuantArgsS8<'a>,
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
    pad: i16,
}

impl Job<'_> {
    /// Never inlined: its buffers (4.4 KiB on Armv7E-M) are on the stack only while a
    /// depthwise convolution runs, not in the frame of a caller that may run other layers
    /// (`Model::run`).
    #[inline(never)]
    fn run(&self, tiling: &Tiling, input: &[i8], output: &mut [i8]) {
        let s = self.s;
        let (geo_h, geo_w) = self.geometry;
        let mut plane = Plane([0; PLANE_LEN]);
        let mut acc = [0i32; ACC_LEN];
        let mut taps = [0i32; MAX_TAPS];
        let taps = taps.get_mut(..s.kernel_h * s.kernel_w).unwrap_or(&mut []);
        for b in 0..s.batch {
            for oy in (0..geo_h.out).step_by(tiling.rows) {
                for ox in (0..geo_w.out).step_by(tiling.cols) {
                    let tile = Tile::new(s, self.geometry, tiling, (oy, ox));
                    if tile.padded() {
                        tile::fill(&mut plane, &tile, self.pad);
                    }
                    for ic in 0..s.in_c {
                        tile::gather(&mut plane, &tile, s, input, (b, ic), self.pad);
                        for m in 0..s.multiplier {
                            let oc = ic * s.multiplier + m;
                            self.channel(&plane, (&mut acc, taps), &tile, (b, oc), output);
                        }
                    }
                }
            }
        }
    }

    /// Output channel `oc` of the tile, from the gathered plane.
    fn channel(
        &self,
        plane: &Plane,
        (acc, taps): (&mut [i32; ACC_LEN], &mut [i32]),
        tile: &Tile,
        (b, oc): (usize, usize),
        output: &mut [i8],
    ) {
        let s = self.s;
        let (geo_h, geo_w) = self.geometry;
        let out_c = s.in_c * s.multiplier;
        let ch = Channel::new(self.q, self.weights, self.bias, oc, out_c, taps);
        let start = ((b * geo_h.out + tile.oy) * geo_w.out + tile.ox) * out_c + oc;
        let steps = (geo_w.out * out_c, out_c);
        let size = (tile.rows, tile.cols);
        let acc_stride = tile.cols + (tile.cols & 1);
        let strides = (s.stride_h, s.stride_w);
        let undilated_3x3 = (s.kernel_h, s.kernel_w, s.dilation_h, s.dilation_w) == (3, 3, 1, 1);
        let done = mac_fast(plane, s, &ch, taps, size, acc)
            || (undilated_3x3
                && portable::mac_3x3(&plane.0, strides, &ch, taps, size, acc, acc_stride));
        if !done {
            let k = Kernel {
                w: s.kernel_w,
                stride_h: s.stride_h,
                stride_w: s.stride_w,
                dilation_h: s.dilation_h,
                dilation_w: s.dilation_w,
            };
            portable::mac(&plane.0, &k, &ch, taps, size, acc, acc_stride);
        }
        if let Requant::Fast(f) = ch.requant {
            if requant_fast(acc, acc_stride, size, f, self.q.act, output, start, steps) {
                return;
            }
        }
        portable::requant(acc, acc_stride, size, &ch, self.q, output, start, steps);
    }
}

/// The accumulators of an Armv7E-M kernel for the filter, if there is one (rows `cols` rounded
/// up to even apart); `false` if the portable loop must do them.
#[cfg(tinytune_dsp)]
fn mac_fast(
    plane: &Plane,
    s: &DepthwiseConv2dShape,
    ch: &Channel,
    taps: &[i32],
    (rows, cols): (usize, usize),
    acc: &mut [i32],
) -> bool {
    let unit = (s.stride_h, s.stride_w, s.dilation_h, s.dilation_w) == (1, 1, 1, 1);
    if !(unit && (s.kernel_h, s.kernel_w) == (3, 3)) {
        return false;
    }
    // Tap pairs (w0, w1) and (w1, w2) of each filter row, as halfword pairs; the taps fit in
    // i16 (int8 weights, at most doubled).
    let pair = |lo: i32, hi: i32| (lo as u16 as u32) | ((hi as u16 as u32) << 16);
    let mut w = [0u32; 6];
    for (k, t) in w.chunks_exact_mut(2).zip(taps.chunks_exact(3)) {
        if let ([w01, w12], [t0, t1, t2]) = (k, t) {
            *w01 = pair(*t0, *t1);
            *w12 = pair(*t1, *t2);
        }
    }
    crate::kernels::cortex_m_dw::mac_3x3(&plane.0, rows, cols.div_ceil(2), &w, ch.init, acc)
}

#[cfg(not(tinytune_dsp))]
fn mac_fast(
    _: &Plane,
    _: &DepthwiseConv2dShape,
    _: &Channel,
    _: &[i32],
    _: (usize, usize),
    _: &mut [i32],
) -> bool {
    false
}

/// The short requantization of an accumulator block by an Armv7E-M kernel; `false` if the
/// portable loop must do it.
#[cfg(tinytune_dsp)]
#[allow(clippy::too_many_arguments)]
fn requant_fast(
    acc: &[i32],
    acc_stride: usize,
    size: (usize, usize),
    f: FastRequant,
    act: ActivationS8,
    output: &mut [i8],
    start: usize,
    steps: (usize, usize),
) -> bool {
    use crate::kernels::cortex_m_dw::{requant_block, Clamp};
    let clamp = if act == ActivationS8::NONE {
        Clamp::Int8
    } else {
        Clamp::Range(act)
    };
    requant_block(acc, acc_stride, size, f, clamp, output, start, steps)
}

#[cfg(not(tinytune_dsp))]
#[allow(clippy::too_many_arguments)]
fn requant_fast(
    _: &[i32],
    _: usize,
    _: (usize, usize),
    _: FastRequant,
    _: ActivationS8,
    _: &mut [i8],
    _: usize,
    _: (usize, usize),
) -> bool {
    false
}
