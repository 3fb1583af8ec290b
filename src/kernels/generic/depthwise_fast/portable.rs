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
