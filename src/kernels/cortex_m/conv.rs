//! The int8 convolution driver: one output pixel at a time, four output channels at a time,
//! over the contiguous runs of the pixel's receptive field. No im2col buffer, no scratch.
//!
//! For an output pixel, the filter taps whose input coordinates fall inside the input form a
//! rectangle `ky_lo..ky_hi × kx_lo..kx_hi` of the filter (the coordinate grows with the tap
//! index); taps in the padding contribute nothing, since `input + input_offset` is zero there,
//! and are skipped, as in `generic`. Without horizontal dilation the taps of one filter row read
//! consecutive input pixels, so their `(kx_hi - kx_lo) · in_c` values are contiguous both in
//! the NHWC input and in each OHWI filter: the window is one run per filter row, the runs a
//! fixed pitch apart in the input (an input row) and in the filter (a filter row), and one
//! micro-kernel call ([`Dot::dot4_runs`]) covers them all. With horizontal dilation each tap
//! is a run, and each filter row one call. The window is worked out once per pixel, then
//! serves every block of four filters.
//!
//! Small filters with short runs (a first layer over one to three channels: a 3×3 filter over
//! one channel has runs of 3 values) are gathered instead, padding included, into a 64-byte
//! buffer on the stack: one call per block over the whole filter.

use super::requant::Output;
use super::{bias1, bias4, Block4, Dot, Runs4};
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
    // Neither product overflows: the checks computed the lengths they divide.
    let filter_len = s.kernel_h * s.kernel_w * s.in_c;
    let image_len = s.in_h * s.in_w * s.in_c;
    let stage = Output::new(q);
    let pad = gather_pad(s, filter_len, q.input_offset);
    let mut buf = [0i8; GATHER];
    let mut pixels = output.chunks_exact_mut(s.out_c);
    for image in input.chunks_exact(image_len) {
        for oy in 0..geo_h.out {
            let rows = taps(oy, s.kernel_h, s.stride_h, s.dilation_h, geo_h, s.in_h);
            for ox in 0..geo_w.out {
                let Some(out) = pixels.next() else {
                    return Ok(());
                };
                if let Some(pad) = pad {
                    let geometry = (geo_h, geo_w);
                    if let Some(window) = gather(s, geometry, (oy, ox), image, pad, &mut buf) {
                        gathered::<D>(window, weights, bias, &stage, q.input_offset, out);
                        continue;
                    }
                }
                let cols = taps(ox, s.kernel_w, s.stride_w, s.dilation_w, geo_w, s.in_w);
                let window = Window::new(s, (geo_h, geo_w), (oy, ox), rows, cols);
                pixel::<D>(&window, image, weights, filter_len, bias, &stage, q, out);
            }
        }
    }
    Ok(())
}

/// The most filter values gathered into a buffer per output pixel (on the stack).
const GATHER: usize = 64;

/// The padding value if the windows are gathered: filters of at most [`GATHER`] values whose
/// runs would be short (under 16 values or not a multiple of 4, as in a first layer over one
/// to three channels), where a micro-kernel call per run costs more than copying the window.
/// The padding is the input zero point, `-input_offset`, which contributes `0 * w = 0` as the
/// skipped taps of `generic` do; `None` when it is not an int8 value.
fn gather_pad(s: &Conv2dShape, filter_len: usize, input_offset: i32) -> Option<i8> {
    let run = if s.dilation_w == 1 {
        s.kernel_w * s.in_c
    } else {
        s.in_c
    };
    let short = run < 16 || !run.is_multiple_of(4);
    if filter_len > GATHER || !short {
        return None;
    }
    i8::try_from(input_offset.checked_neg()?).ok()
}

/// The window of output pixel `(oy, ox)` in filter order (`[kernel_h, kernel_w, in_c]`), taps
/// in the padding set to `pad`; `None` if the filter does not fit in `buf`.
#[inline(always)]
fn gather<'b>(
    s: &Conv2dShape,
    (geo_h, geo_w): (AxisGeometry, AxisGeometry),
    (oy, ox): (usize, usize),
    image: &[i8],
    pad: i8,
    buf: &'b mut [i8; GATHER],
) -> Option<&'b [i8]> {
    let filter_len = s.kernel_h * s.kernel_w * s.in_c;
    let window = buf.get_mut(..filter_len)?;
    let mut taps = window.chunks_exact_mut(s.in_c);
    for ky in 0..s.kernel_h {
        let iy = input_coord(oy, ky, s.stride_h, s.dilation_h, geo_h, s.in_h);
        for kx in 0..s.kernel_w {
            let tap = taps.next()?;
            let ix = input_coord(ox, kx, s.stride_w, s.dilation_w, geo_w, s.in_w);
            let pixel = iy.zip(ix).and_then(|(iy, ix)| {
                let start = (iy * s.in_w + ix) * s.in_c;
                image.get(start..start + s.in_c)
            });
            match (pixel, &mut *tap) {
                // One channel: a byte, not a call to memcpy.
                (Some(&[v]), [t]) => *t = v,
                (Some(values), _) => tap.copy_from_slice(values),
                (None, _) => tap.fill(pad),
            }
        }
    }
    Some(window)
}

/// All output channels of one pixel from its gathered window: one micro-kernel call over the
/// whole filter per block of four.
#[inline(always)]
fn gathered<D: Dot>(
    window: &[i8],
    weights: &[i8],
    bias: Option<&[i32]>,
    stage: &Output<'_>,
    off: i32,
    out: &mut [i8],
) {
    let filter_len = window.len();
    // Saturation only happens when `out_c < 4`, and then there is no block of four.
    let mut w_blocks = weights.chunks_exact(filter_len.saturating_mul(4));
    let mut out_blocks = out.chunks_exact_mut(4);
    let mut oc = 0;
    for (w, ys) in (&mut w_blocks).zip(&mut out_blocks) {
        let acc = bias4(bias, oc);
        // Always a block: `w` holds four filters.
        let acc = Block4::new(window, w, filter_len).map_or(acc, |b| D::dot4(acc, b, off));
        for (k, (y, a)) in ys.iter_mut().zip(acc).enumerate() {
            *y = stage.apply(a, oc + k);
        }
        oc += 4;
    }
    let filters = w_blocks.remainder().chunks_exact(filter_len);
    for (w, y) in filters.zip(out_blocks.into_remainder()) {
        *y = stage.apply(D::dot1(bias1(bias, oc), window, w, off), oc);
        oc += 1;
    }
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

/// The receptive field of one output pixel as `parts` sets of runs, `part_pitch` apart (in
/// the image, in a filter). Each set holds `count` runs of `len` values, the first at
/// `x_start` in the image and `w_start` in a filter, the next ones `x_pitch`/`w_pitch`
/// further. Without horizontal dilation there is one set, a run per filter row; with it, a set
/// per filter row, a run per tap.
#[derive(Clone, Copy, Debug)]
struct Window {
    parts: usize,
    part_pitch: (usize, usize),
    x_start: usize,
    w_start: usize,
    len: usize,
    count: usize,
    x_pitch: usize,
    w_pitch: usize,
}

impl Window {
    /// The window of output pixel `(oy, ox)`, whose filter rows `rows` and columns `cols`
    /// (`lo..hi` pairs) fall inside the input.
    #[inline(always)]
    fn new(
        s: &Conv2dShape,
        (geo_h, geo_w): (AxisGeometry, AxisGeometry),
        (oy, ox): (usize, usize),
        rows: (usize, usize),
        cols: (usize, usize),
    ) -> Window {
        let empty = Window {
            parts: 0,
            part_pitch: (0, 0),
            x_start: 0,
            w_start: 0,
            len: 0,
            count: 0,
            x_pitch: 0,
            w_pitch: 0,
        };
        let ((ky, ky_hi), (kx, kx_hi)) = (rows, cols);
        if ky >= ky_hi || kx >= kx_hi {
            return empty;
        }
        let iy = input_coord(oy, ky, s.stride_h, s.dilation_h, geo_h, s.in_h);
        let ix = input_coord(ox, kx, s.stride_w, s.dilation_w, geo_w, s.in_w);
        let (Some(iy), Some(ix)) = (iy, ix) else {
            return empty;
        };
        // In range: `iy < in_h`, `ix < in_w`, and the runs end inside the image and filter.
        let x_start = (iy * s.in_w + ix) * s.in_c;
        let w_start = (ky * s.kernel_w + kx) * s.in_c;
        // From one filter row to the next: an input row (times the dilation), a filter row.
        let row_pitch = (s.dilation_h * s.in_w * s.in_c, s.kernel_w * s.in_c);
        if s.dilation_w == 1 {
            Window {
                parts: 1,
                part_pitch: (0, 0),
                x_start,
                w_start,
                len: (kx_hi - kx) * s.in_c,
                count: ky_hi - ky,
                x_pitch: row_pitch.0,
                w_pitch: row_pitch.1,
            }
        } else {
            Window {
                parts: ky_hi - ky,
                part_pitch: row_pitch,
                x_start,
                w_start,
                len: s.in_c,
                count: kx_hi - kx,
                x_pitch: s.dilation_w * s.in_c,
                w_pitch: s.in_c,
            }
        }
    }

    /// The start of set `p` in the image and in a filter.
    #[inline(always)]
    fn part(&self, p: usize) -> (usize, usize) {
        (
            self.x_start + p * self.part_pitch.0,
            self.w_start + p * self.part_pitch.1,
        )
    }
}

/// All output channels of one pixel: four filters at a time, then the rest one by one.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn pixel<D: Dot>(
    window: &Window,
    image: &[i8],
    weights: &[i8],
    filter_len: usize,
    bias: Option<&[i32]>,
    stage: &Output<'_>,
    q: &QuantArgsS8,
    out: &mut [i8],
) {
    let off = q.input_offset;
    let block_len = filter_len.saturating_mul(4);
    // The runs of set `p` against the weights from filter `oc` on.
    let runs = |p: usize, oc: usize| {
        let (x_start, w_start) = window.part(p);
        let w_start = oc.checked_mul(filter_len)?.checked_add(w_start)?;
        Runs4::new(
            image.get(x_start..)?,
            weights.get(w_start..)?,
            filter_len,
            window.len,
            window.count,
            window.x_pitch,
            window.w_pitch,
        )
    };
    // One set (no horizontal dilation): its runs are worked out once, then moved on by four
    // filters per block.
    let mut first = if window.parts == 1 { runs(0, 0) } else { None };
    // Saturation only happens when `out_c < 4`, and then there is no block of four.
    let mut w_blocks = weights.chunks_exact(block_len);
    let mut out_blocks = out.chunks_exact_mut(4);
    let mut oc = 0;
    for (_, ys) in (&mut w_blocks).zip(&mut out_blocks) {
        let mut acc = bias4(bias, oc);
        if let Some(r) = first {
            acc = D::dot4_runs(acc, r, off);
            first = r.advance(block_len);
        } else {
            // Always some: the runs end inside the image and the block's first filter, three
            // more filters follow.
            for r in (0..window.parts).filter_map(|p| runs(p, oc)) {
                acc = D::dot4_runs(acc, r, off);
            }
        }
        for (k, (y, a)) in ys.iter_mut().zip(acc).enumerate() {
            *y = stage.apply(a, oc + k);
        }
        oc += 4;
    }
    let filters = w_blocks.remainder().chunks_exact(filter_len);
    for (w, y) in filters.zip(out_blocks.into_remainder()) {
        let mut acc = bias1(bias, oc);
        for p in 0..window.parts {
            let (x_start, w_start) = window.part(p);
            for k in 0..window.count {
                let x = image
                    .get(x_start + k * window.x_pitch..)
                    .and_then(|x| x.get(..window.len));
                let w = w.get(w_start + k * window.w_pitch..);
                if let (Some(x), Some(w)) = (x, w) {
                    acc = D::dot1(acc, x, w, off);
                }
            }
        }
        *y = stage.apply(acc, oc);
        oc += 1;
    }
}
