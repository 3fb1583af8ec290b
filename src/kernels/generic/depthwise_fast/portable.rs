//! The portable loops of the fast depthwise convolution: any filter size, stride and dilation
//! over a plane, and the requantization of an accumulator block.

use super::channel::Channel;
use super::tile::PLANE_STRIDE;
use crate::kernels::QuantArgsS8;

/// Filter width, strides and dilations (the taps give the height).
#[derive(Clone, Copy, Debug)]
pub(super) struct Kernel {
    pub w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
}

/// `acc[r * acc_stride + c] = init + sum_{ky, kx} plane[(r*sh + ky*dh) * PLANE_STRIDE + c*sw +
/// kx*dw] * taps[ky * kw + kx]` (wrapping) for `r < rows`, `c < cols` (`taps` holds the
/// `kernel_h * k.w` taps).
pub(super) fn mac(
    plane: &[i16],
    k: &Kernel,
    ch: &Channel,
    taps: &[i32],
    (rows, cols): (usize, usize),
    acc: &mut [i32],
    acc_stride: usize,
) {
    for (r, acc_row) in acc.chunks_mut(acc_stride).take(rows).enumerate() {
        let row_base = r * k.stride_h * PLANE_STRIDE;
        for (c, a) in acc_row.iter_mut().take(cols).enumerate() {
            let mut sum = ch.init;
            let base = row_base + c * k.stride_w;
            for (ky, row_taps) in taps.chunks_exact(k.w).enumerate() {
                let Some(window) = plane.get(base + ky * k.dilation_h * PLANE_STRIDE..) else {
                    continue;
                };
                let xs = window.iter().step_by(k.dilation_w);
                for (&x, &w) in xs.zip(row_taps) {
                    sum = sum.wrapping_add((x as i32).wrapping_mul(w));
                }
            }
            *a = sum;
        }
    }
}

/// The three values of every 3-wide window of a plane row, in column order.
fn triples(row: &[i16]) -> impl Iterator<Item = (i32, i32, i32)> + '_ {
    let next = row.iter().skip(1);
    let after = row.iter().skip(2);
    row.iter()
        .zip(next)
        .zip(after)
        .map(|((&a, &b), &c)| (a as i32, b as i32, c as i32))
}

/// [`mac`] for the undilated 3x3 filter (the common one), with the nine taps in registers and
/// no loop over them. `false` if `taps` is not nine taps.
pub(super) fn mac_3x3(
    plane: &[i16],
    (stride_h, stride_w): (usize, usize),
    ch: &Channel,
    taps: &[i32],
    (rows, cols): (usize, usize),
    acc: &mut [i32],
    acc_stride: usize,
) -> bool {
    let Ok(&[w0, w1, w2, w3, w4, w5, w6, w7, w8]) = <&[i32; 9]>::try_from(taps) else {
        return false;
    };
    for (r, acc_row) in acc.chunks_mut(acc_stride).take(rows).enumerate() {
        let top = r * stride_h * PLANE_STRIDE;
        let Some(p) = plane.get(top..top + 3 * PLANE_STRIDE) else {
            break;
        };
        let (r0, rest) = p.split_at(PLANE_STRIDE);
        let (r1, r2) = rest.split_at(PLANE_STRIDE);
        let windows = triples(r0).zip(triples(r1)).zip(triples(r2));
        let windows = windows.step_by(stride_w);
        for (a, ((x0, x1), x2)) in acc_row.iter_mut().take(cols).zip(windows) {
            let dot = |(a, b, c): (i32, i32, i32), (u, v, w): (i32, i32, i32)| {
                a.wrapping_mul(u)
                    .wrapping_add(b.wrapping_mul(v))
                    .wrapping_add(c.wrapping_mul(w))
            };
            *a = ch
                .init
                .wrapping_add(dot(x0, (w0, w1, w2)))
                .wrapping_add(dot(x1, (w3, w4, w5)))
                .wrapping_add(dot(x2, (w6, w7, w8)));
        }
    }
    true
}

/// Requantizes the `rows x cols` block of `acc` (rows `acc_stride` apart) into
/// `output[start + r * row_step + c * col_step]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn requant(
    acc: &[i32],
    acc_stride: usize,
    (rows, cols): (usize, usize),
    ch: &Channel,
    q: &QuantArgsS8,
    output: &mut [i8],
    start: usize,
    (row_step, col_step): (usize, usize),
) {
    for (r, acc_row) in acc.chunks(acc_stride).take(rows).enumerate() {
        let Some(out_row) = output.get_mut(start + r * row_step..) else {
            return;
        };
        let outs = out_row.iter_mut().step_by(col_step);
        for (o, &a) in outs.zip(acc_row.iter().take(cols)) {
            *o = ch.output(a, q);
        }
    }
}
