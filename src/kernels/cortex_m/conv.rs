//! The int8 convolution driver: one output pixel at a time, four output channels at a time,
//! over the contiguous runs of the pixel's receptive field. No im2col buffer, no scratch.
//!
//! For an output pixel, the filter taps whose input coordinates fall inside the input form a
//! rectangle `ky_lo..ky_hi × kx_lo..kx_hi` of the filter (the coordinate grows with the tap
//! index); taps in the padding contribute nothing, since `input + input_offset` is zero there,
//! and are skipped, as in `generic`. Without horizontal dilation the taps of one filter row read
//! consecutive input pixels, so their `(kx_hi - kx_lo) · in_c` values are contiguous both in
//! the NHWC input and in each OHWI filter: one micro-kernel call per filter row (one per
//! output pixel in a 1-D convolution). With horizontal dilation, one call per tap.

use super::requant::Output;
use super::{bias1, bias4, Block4, Dot};
use crate::error::ShapeError;
use crate::kernels::generic::conv::{self as generic, input_coord, Conv2dShape};
use crate::kernels::{AxisGeometry, QuantArgsS8};

/// int8 2-D convolution, bit-exact with [`generic::conv2d_s8`], whose contract (shapes,
/// errors, wrapping accumulation) it shares. An input offset the micro-kernel does not accept
/// goes to `generic`.
pub(crate) fn conv2d_s8<D: Dot>(
    s: &Conv2dShape,
    q: &QuantArgsS8,
    input: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    let (geo_h, geo_w) = s.check_buffers(
        input.len(),
        weights.len(),
        bias.map(<[i32]>::len),
        Some(q),
        output.len(),
    )?;
    if !D::accepts(q.input_offset) {
        return generic::conv2d_s8(s, q, input, weights, bias, output);
    }
    // Neither product overflows: the checks computed the weights' and input's lengths.
    let filter_len = s.kernel_h * s.kernel_w * s.in_c;
    let image_len = s.in_h * s.in_w * s.in_c;
    let stage = Output::new(q);
    let mut pixels = output.chunks_exact_mut(s.out_c);
    for image in input.chunks_exact(image_len) {
        for oy in 0..geo_h.out {
            let rows = taps(oy, s.kernel_h, s.stride_h, s.dilation_h, geo_h, s.in_h);
            for ox in 0..geo_w.out {
                let Some(out) = pixels.next() else {
                    return Ok(());
                };
                let window = Window {
                    s,
                    image,
                    oy,
                    ox,
                    geo_h,
                    geo_w,
                    rows,
                    cols: taps(ox, s.kernel_w, s.stride_w, s.dilation_w, geo_w, s.in_w),
                };
                pixel::<D>(
                    &window,
                    &stage,
                    q.input_offset,
                    weights,
                    filter_len,
                    bias,
                    out,
                );
            }
        }
    }
    Ok(())
}

/// The taps `lo..hi` along one axis whose input coordinate is inside the input, as a pair
/// (`lo >= hi` when there is none).
#[inline(always)]
fn taps(
    out: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    geometry: AxisGeometry,
    len: usize,
) -> (usize, usize) {
    let (mut lo, mut hi) = (kernel, 0);
    for k in 0..kernel {
        if input_coord(out, k, stride, dilation, geometry, len).is_some() {
            lo = lo.min(k);
            hi = k + 1;
        }
    }
    (lo, hi)
}

/// The receptive field of one output pixel in one image.
struct Window<'a> {
    s: &'a Conv2dShape,
    image: &'a [i8],
    oy: usize,
    ox: usize,
    geo_h: AxisGeometry,
    geo_w: AxisGeometry,
    /// The filter rows inside the input, `lo..hi`.
    rows: (usize, usize),
    /// The filter columns inside the input, `lo..hi`.
    cols: (usize, usize),
}

impl Window<'_> {
    /// Calls `f(x, w_offset)` for each contiguous run `x` of input values in the window, with
    /// `w_offset` the position of its first tap in a filter (`[kernel_h, kernel_w, in_c]`).
    #[inline(always)]
    fn for_each_run(&self, mut f: impl FnMut(&[i8], usize)) {
        let s = self.s;
        let (kx_lo, kx_hi) = self.cols;
        if kx_lo >= kx_hi {
            return;
        }
        for ky in self.rows.0..self.rows.1 {
            let Some(iy) = input_coord(self.oy, ky, s.stride_h, s.dilation_h, self.geo_h, s.in_h)
            else {
                continue;
            };
            // In range: `iy < in_h`, `ix < in_w`, and the runs end inside the row.
            let pixel = |kx| {
                input_coord(self.ox, kx, s.stride_w, s.dilation_w, self.geo_w, s.in_w)
                    .map(|ix| (iy * s.in_w + ix) * s.in_c)
            };
            if s.dilation_w == 1 {
                let len = (kx_hi - kx_lo) * s.in_c;
                if let Some(x) = pixel(kx_lo).and_then(|i| self.image.get(i..i + len)) {
                    f(x, (ky * s.kernel_w + kx_lo) * s.in_c);
                }
            } else {
                for kx in kx_lo..kx_hi {
                    if let Some(x) = pixel(kx).and_then(|i| self.image.get(i..i + s.in_c)) {
                        f(x, (ky * s.kernel_w + kx) * s.in_c);
                    }
                }
            }
        }
    }
}

/// All output channels of one pixel: four filters at a time, then the rest one by one.
#[inline(always)]
fn pixel<D: Dot>(
    window: &Window<'_>,
    stage: &Output<'_>,
    off: i32,
    weights: &[i8],
    filter_len: usize,
    bias: Option<&[i32]>,
    out: &mut [i8],
) {
    // Saturation only happens when `out_c < 4`, and then there is no block of four.
    let mut w_blocks = weights.chunks_exact(filter_len.saturating_mul(4));
    let mut out_blocks = out.chunks_exact_mut(4);
    let mut oc = 0;
    for (w, ys) in (&mut w_blocks).zip(&mut out_blocks) {
        let mut acc = bias4(bias, oc);
        window.for_each_run(|x, w_offset| {
            // Always a block: the run ends inside the first filter, three more follow.
            if let Some(b) = w
                .get(w_offset..)
                .and_then(|w| Block4::new(x, w, filter_len))
            {
                acc = D::dot4(acc, b, off);
            }
        });
        for (k, (y, a)) in ys.iter_mut().zip(acc).enumerate() {
            *y = stage.apply(a, oc + k);
        }
        oc += 4;
    }
    let filters = w_blocks.remainder().chunks_exact(filter_len);
    for (w, y) in filters.zip(out_blocks.into_remainder()) {
        let mut acc = bias1(bias, oc);
        window.for_each_run(|x, w_offset| {
            acc = D::dot1(acc, x, w.get(w_offset..).unwrap_or(&[]), off);
        });
        *y = stage.apply(acc, oc);
        oc += 1;
    }
}
