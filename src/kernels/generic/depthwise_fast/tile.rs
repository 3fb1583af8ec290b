//! The channel plane of the fast depthwise convolution: a tile of one input channel, padding
//! included, copied out of the NHWC input into a stack buffer of `i16` with a fixed row stride,
//! and the tiling of the output that keeps every plane and accumulator block inside its buffer.

use super::super::depthwise::DepthwiseConv2dShape;
use crate::kernels::AxisGeometry;

/// Row stride of the plane, in elements: tiles are at most this wide (in input columns, one of
/// them kept free for the kernels that read a column past the tile).
pub(crate) const PLANE_STRIDE: usize = 52;

/// Rows of the plane and length of the accumulator block: 4.1 KiB of stack on Armv7E-M, 1.7 KiB
/// on the other cores, whose RAM is often scarcer (a Cortex-M0 may have 16 KiB).
#[cfg(tinytune_dsp)]
const PLANE_ROWS: usize = 20;
#[cfg(tinytune_dsp)]
pub(super) const ACC_LEN: usize = 512;
#[cfg(not(tinytune_dsp))]
const PLANE_ROWS: usize = 10;
#[cfg(not(tinytune_dsp))]
pub(super) const ACC_LEN: usize = 160;

/// Elements of the plane buffer: the rows and a few more, so that reading a pair of elements
/// one column past the last row of a tile stays inside it.
pub(super) const PLANE_LEN: usize = PLANE_STRIDE * PLANE_ROWS + 4;

/// The plane buffer, word-aligned so that pairs of elements at even columns are aligned words.
#[repr(C, align(4))]
pub(super) struct Plane(pub(super) [i16; PLANE_LEN]);

/// Output tile sizes for a shape.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tiling {
    /// Output rows per tile (the last tile may have fewer).
    pub rows: usize,
    /// Output columns per tile (the last tile may have fewer).
    pub cols: usize,
    /// Effective (dilated) filter height and width.
    pub eff_h: usize,
    /// See `eff_h`.
    pub eff_w: usize,
}

/// `n` split into the fewest parts of at most `max`, as equal as possible: the part size.
fn balanced(n: usize, max: usize) -> usize {
    let parts = n.div_ceil(max);
    n.div_ceil(parts)
}

impl Tiling {
    /// The tiling of a checked shape with output size `out_h x out_w`, or `None` if its
    /// effective filter does not fit the plane.
    pub(super) fn new(s: &DepthwiseConv2dShape, out_h: usize, out_w: usize) -> Option<Tiling> {
        // No overflow: the geometry check computed these with checked arithmetic.
        let eff_h = (s.kernel_h - 1) * s.dilation_h + 1;
        let eff_w = (s.kernel_w - 1) * s.dilation_w + 1;
        if eff_w + 1 > PLANE_STRIDE || eff_h > PLANE_ROWS || out_h == 0 || out_w == 0 {
            return None;
        }
        let max_cols = (PLANE_STRIDE - 1 - eff_w) / s.stride_w + 1;
        let cols = balanced(out_w, max_cols);
        // Accumulator rows are padded to an even length (the kernels work on pairs).
        let acc_stride = cols + (cols & 1);
        let max_rows = ((PLANE_ROWS - eff_h) / s.stride_h + 1).min(ACC_LEN / acc_stride);
        Some(Tiling {
            rows: balanced(out_h, max_rows),
            cols,
            eff_h,
            eff_w,
        })
    }
}

/// One tile: its output rectangle and the input rectangle (padding included) it reads.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tile {
    /// First output row and column.
    pub oy: usize,
    /// See `oy`.
    pub ox: usize,
    /// Output rows and columns.
    pub rows: usize,
    /// See `rows`.
    pub cols: usize,
    /// Plane rows `[row_lo, row_hi)` and columns `[col_lo, col_hi)` lie inside the input; the
    /// rest of the `in_rows x in_cols` plane is padding.
    pub row_lo: usize,
    /// See `row_lo`.
    pub row_hi: usize,
    /// See `row_lo`.
    pub col_lo: usize,
    /// See `row_lo`.
    pub col_hi: usize,
    /// Input row and column of plane row 0 and column 0 (where inside the input).
    pub iy: usize,
    /// See `iy`.
    pub ix: usize,
    /// Plane rows and columns the tile reads.
    pub in_rows: usize,
    /// See `in_rows`.
    pub in_cols: usize,
}

/// Along one axis: `(first, count)` of the plane positions `[0, n)` whose input coordinate
/// `start - pad + i` lies in `[0, len)`, and that coordinate for the first one.
fn inside(start: usize, pad: usize, n: usize, len: usize) -> (usize, usize, usize) {
    let lo = pad.saturating_sub(start).min(n);
    let first = (start + lo).saturating_sub(pad);
    let hi = (len + pad).saturating_sub(start).clamp(lo, n);
    (lo, hi, first)
}

impl Tile {
    /// The tile whose first output is `(oy, ox)`.
    pub(super) fn new(
        s: &DepthwiseConv2dShape,
        (geo_h, geo_w): (AxisGeometry, AxisGeometry),
        t: &Tiling,
        (oy, ox): (usize, usize),
    ) -> Tile {
        let rows = t.rows.min(geo_h.out - oy);
        let cols = t.cols.min(geo_w.out - ox);
        let in_rows = (rows - 1) * s.stride_h + t.eff_h;
        let in_cols = (cols - 1) * s.stride_w + t.eff_w;
        let (row_lo, row_hi, iy) = inside(oy * s.stride_h, geo_h.pad_before, in_rows, s.in_h);
        let (col_lo, col_hi, ix) = inside(ox * s.stride_w, geo_w.pad_before, in_cols, s.in_w);
        Tile {
            oy,
            ox,
            rows,
            cols,
            row_lo,
            row_hi,
            col_lo,
            col_hi,
            iy,
            ix,
            in_rows,
            in_cols,
        }
    }

    /// Whether some of the tile's plane is padding.
    pub(super) fn padded(&self) -> bool {
        self.row_lo > 0
            || self.row_hi < self.in_rows
            || self.col_lo > 0
            || self.col_hi < self.in_cols
    }
}

/// Fills the tile's plane (and the spare column after it) with the padding value.
pub(super) fn fill(plane: &mut Plane, tile: &Tile, pad: i16) {
    for row in plane.0.chunks_exact_mut(PLANE_STRIDE).take(tile.in_rows) {
        if let Some(used) = row.get_mut(..=tile.in_cols) {
            used.fill(pad);
        }
    }
}

/// Copies input channel `ic` of image `b` into the inside part of the tile's plane, whose
/// padding already holds `pad`.
pub(super) fn gather(
    plane: &mut Plane,
    tile: &Tile,
    s: &DepthwiseConv2dShape,
    input: &[i8],
    (b, ic): (usize, usize),
    pad: i16,
) {
    let n = tile.col_hi - tile.col_lo;
    let rows = tile.row_hi - tile.row_lo;
    // In bounds: the tile's inside rows and columns are input coordinates.
    let start = ((b * s.in_h + tile.iy) * s.in_w + tile.ix) * s.in_c + ic;
    let src_row = s.in_w * s.in_c;
    let (Some(src), Some(dst)) = (
        input.get(start..),
        plane.0.get_mut(tile.row_lo * PLANE_STRIDE..),
    ) else {
        return;
    };
    if n == 0 || fast_gather(dst, (tile.col_lo, n), rows, src, (s.in_c, src_row), pad) {
        return;
    }
    for (r, row) in dst.chunks_exact_mut(PLANE_STRIDE).take(rows).enumerate() {
        let (Some(dst), Some(src)) = (
            row.get_mut(tile.col_lo..tile.col_hi),
            src.get(r * src_row..),
        ) else {
            return;
        };
        for (d, &x) in dst.iter_mut().zip(src.iter().step_by(s.in_c)) {
            *d = x as i16;
        }
    }
}

/// The Armv7E-M copy of a tile's rows ([`cortex_m_dw::gather`](crate::kernels::cortex_m_dw)).
#[cfg(tinytune_dsp)]
fn fast_gather(
    plane: &mut [i16],
    cols: (usize, usize),
    rows: usize,
    src: &[i8],
    steps: (usize, usize),
    pad: i16,
) -> bool {
    crate::kernels::cortex_m_dw::gather(plane, cols, rows, src, steps, pad)
}

#[cfg(not(tinytune_dsp))]
fn fast_gather(
    _: &mut [i16],
    _: (usize, usize),
    _: usize,
    _: &[i8],
    _: (usize, usize),
    _: i16,
) -> bool {
    false
}
