//! Batched matrix multiplication of two activation tensors (TFLite `BatchMatMul`), as used by
//! attention: `Q·Kᵀ` reads the right side transposed ([`RhsLayout::NK`]), `P·V` reads it as stored
//! ([`RhsLayout::KN`]).

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::generic::dense::{dot_f32, dot_rows_f32, ROWS};
use crate::kernels::ActivationS8;
use crate::num::quant::Requantizer;

/// How the right-hand side of a batched matmul is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RhsLayout {
    /// `[batch, k, n]`: the usual `lhs · rhs`.
    KN,
    /// `[batch, n, k]`: the right side transposed, `lhs · rhsᵀ` (as `Q·Kᵀ` in attention).
    NK,
}

/// The dimensions of a batched matmul: `batch` independent `[m, k] · [k, n]` products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BatchMatmulShape {
    /// Number of independent products.
    pub batch: usize,
    /// Rows of the left side and of the output.
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of the right side and of the output.
    pub n: usize,
}

impl BatchMatmulShape {
    /// Number of left-side elements, `batch * m * k`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn lhs_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.batch, self.m, self.k])
    }

    /// Number of right-side elements, `batch * k * n` (either layout).
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn rhs_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.batch, self.k, self.n])
    }

    /// Number of output elements, `batch * m * n`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or the product overflows.
    pub fn output_len(&self) -> Result<usize, ShapeError> {
        self.check_dims()?;
        product(&[self.batch, self.m, self.n])
    }

    fn check_dims(&self) -> Result<(), ShapeError> {
        if self.batch == 0 || self.m == 0 || self.k == 0 || self.n == 0 {
            Err(ShapeError::Dimension)
        } else {
            Ok(())
        }
    }

    fn check_buffers(&self, lhs: usize, rhs: usize, output: usize) -> Result<(), ShapeError> {
        check_len(Buffer::Input, self.lhs_len()?, lhs)?;
        check_len(Buffer::Input2, self.rhs_len()?, rhs)?;
        check_len(Buffer::Output, self.output_len()?, output)
    }

    /// The index of `rhs[b, kk, j]` (logical `[k, n]` coordinates) within one batch's right side.
    #[inline]
    fn rhs_index(&self, layout: RhsLayout, kk: usize, j: usize) -> usize {
        match layout {
            RhsLayout::KN => kk * self.n + j,
            RhsLayout::NK => j * self.k + kk,
        }
    }
}

/// f32 batched matmul: `output[b, i, j] = sum_kk lhs[b, i, kk] * rhs[b, kk, j]`.
///
/// Each output is accumulated in f32 in increasing `kk`, from 0, with one rounded
/// multiplication and one rounded addition per term (never fused). Outputs are computed four
/// columns at a time (for [`RhsLayout::NK`] with the inner loop of the f32 dense kernel); the
/// blocking is over outputs only, so every output sees the same operations in the same order
/// as in a plain loop and the result is bit-identical to it. No bias, no activation. Needs no
/// scratch memory.
///
/// # Shapes
/// - `lhs`: `[batch, m, k]`
/// - `rhs`: `[batch, k, n]` for [`RhsLayout::KN`], `[batch, n, k]` for [`RhsLayout::NK`]
/// - `output`: `[batch, m, n]`
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] naming the first buffer (lhs as [`Buffer::Input`], rhs as
/// [`Buffer::Input2`], output) whose length differs from the shape. Nothing is written on error.
pub fn batch_matmul_f32(
    shape: BatchMatmulShape,
    lhs: &[f32],
    rhs: &[f32],
    rhs_layout: RhsLayout,
    output: &mut [f32],
) -> Result<(), ShapeError> {
    shape.check_buffers(lhs.len(), rhs.len(), output.len())?;
    let BatchMatmulShape { m, k, n, .. } = shape;
    let batches = lhs
        .chunks_exact(m * k)
        .zip(rhs.chunks_exact(k * n))
        .zip(output.chunks_exact_mut(m * n));
    for ((lhs_b, rhs_b), out_b) in batches {
        for (lhs_row, out_row) in lhs_b.chunks_exact(k).zip(out_b.chunks_exact_mut(n)) {
            match rhs_layout {
                RhsLayout::NK => row_nk_f32(lhs_row, rhs_b, out_row),
                RhsLayout::KN => row_kn_f32(lhs_row, rhs_b, out_row),
            }
        }
    }
    Ok(())
}

/// One output row with the right side `[n, k]`: `out[j] = sum_kk a[kk] * rhs[j, kk]`, the
/// rows of `rhs` being contiguous as a dense layer's weights. `a` is `[k]`, `out` is `[n]`.
fn row_nk_f32(a: &[f32], rhs: &[f32], out: &mut [f32]) {
    let k = a.len();
    // `ROWS * k` only saturates when fewer than ROWS rows exist, and then every row is left
    // over.
    let mut blocks = rhs.chunks_exact(ROWS.saturating_mul(k));
    let mut outs = out.chunks_exact_mut(ROWS);
    for (block, out) in (&mut blocks).zip(&mut outs) {
        let mut rows = block.chunks_exact(k);
        if let (Some(r0), Some(r1), Some(r2), Some(r3), [o0, o1, o2, o3]) =
            (rows.next(), rows.next(), rows.next(), rows.next(), out)
        {
            [*o0, *o1, *o2, *o3] = dot_rows_f32(a, [r0, r1, r2, r3], [0.0; ROWS]);
        }
    }
    let rows = blocks.remainder().chunks_exact(k);
    for (row, o) in rows.zip(outs.into_remainder()) {
        *o = dot_f32(a, row, 0.0);
    }
}

/// One output row with the right side `[k, n]`: `out[j] = sum_kk a[kk] * rhs[kk, j]`. Four
/// columns at a time: each step reads four consecutive values of a row of `rhs` for one value
/// of `a`. `a` is `[k]`, `out` is `[n]`.
fn row_kn_f32(a: &[f32], rhs: &[f32], out: &mut [f32]) {
    let n = out.len();
    let mut outs = out.chunks_exact_mut(ROWS);
    let mut j = 0;
    for out in &mut outs {
        // From column j, row kk of `rhs` starts at `kk * n`: the first four values of each
        // chunk are the block's. For j > 0 the last row holds only `n - j >= 4` values from
        // column j, so it is the remainder of `chunks_exact`, used after the other rows.
        let from_j = rhs.get(j..).unwrap_or(&[]);
        let rows = from_j.chunks_exact(n);
        let last = rows.remainder();
        let [mut a0, mut a1, mut a2, mut a3] = [0.0f32; ROWS];
        let mut step = |x: f32, row: &[f32]| {
            if let Some(&[r0, r1, r2, r3]) = row.first_chunk::<ROWS>() {
                a0 += x * r0;
                a1 += x * r1;
                a2 += x * r2;
                a3 += x * r3;
            }
        };
        let mut terms = a.iter();
        // `rows` first: a zip stops at its first side's end without taking from the second.
        for (row, &x) in rows.zip(&mut terms) {
            step(x, row);
        }
        if let Some(&x) = terms.next() {
            step(x, last);
        }
        if let [o0, o1, o2, o3] = out {
            [*o0, *o1, *o2, *o3] = [a0, a1, a2, a3];
        }
        j += ROWS;
    }
    for o in outs.into_remainder() {
        let column = rhs.get(j..).unwrap_or(&[]).iter().step_by(n);
        *o = a.iter().zip(column).fold(0.0, |acc, (&x, &r)| acc + x * r);
        j += 1;
    }
}

/// Quantization arguments of [`batch_matmul_s8`]: both sides are asymmetric activations, so
/// both carry an offset, and the requantization is per-tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MatmulArgsS8 {
    /// Added to every left-side value: `-lhs_zero_point`.
    pub lhs_offset: i32,
    /// Added to every right-side value: `-rhs_zero_point`.
    pub rhs_offset: i32,
    /// Added to every requantized accumulator: `output_zero_point`.
    pub output_offset: i32,
    /// Requantizer for `lhs_scale * rhs_scale / output_scale`.
    pub requant: Requantizer,
    /// Fused activation, in the output's quantized domain.
    pub act: ActivationS8,
}

/// int8 batched matmul (TFLite `BatchMatMul`, int8):
/// `output[b, i, j] = clamp(requant(sum_kk (lhs[b, i, kk] + lhs_offset) * (rhs[b, kk, j] +
/// rhs_offset)) + output_offset)`.
///
/// Products are accumulated in `i32` with wrapping arithmetic: TFLite leaves an overflowing
/// accumulator undefined, here it wraps (modulo 2^32) so that no input can panic. With in-spec
/// offsets (`-127..=128`) each term is at most 2^16 in magnitude, so no overflow occurs for `k`
/// below 2^15. Needs no scratch memory.
///
/// # Shapes
/// - `lhs`: `[batch, m, k]`
/// - `rhs`: `[batch, k, n]` for [`RhsLayout::KN`], `[batch, n, k]` for [`RhsLayout::NK`]
/// - `output`: `[batch, m, n]`
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] naming the first buffer (lhs as [`Buffer::Input`], rhs as
/// [`Buffer::Input2`], output) whose length differs from the shape. Nothing is written on error.
pub fn batch_matmul_s8(
    shape: BatchMatmulShape,
    q: &MatmulArgsS8,
    lhs: &[i8],
    rhs: &[i8],
    rhs_layout: RhsLayout,
    output: &mut [i8],
) -> Result<(), ShapeError> {
    shape.check_buffers(lhs.len(), rhs.len(), output.len())?;
    let BatchMatmulShape { m, k, n, .. } = shape;
    let batches = lhs
        .chunks_exact(m * k)
        .zip(rhs.chunks_exact(k * n))
        .zip(output.chunks_exact_mut(m * n));
    for ((lhs_b, rhs_b), out_b) in batches {
        for (lhs_row, out_row) in lhs_b.chunks_exact(k).zip(out_b.chunks_exact_mut(n)) {
            for (j, out) in out_row.iter_mut().enumerate() {
                let mut acc = 0i32;
                for (kk, &a) in lhs_row.iter().enumerate() {
                    let a = (a as i32).wrapping_add(q.lhs_offset);
                    let b = (rhs_b[shape.rhs_index(rhs_layout, kk, j)] as i32)
                        .wrapping_add(q.rhs_offset);
                    acc = acc.wrapping_add(a.wrapping_mul(b));
                }
                *out = q
                    .act
                    .clamp(q.requant.apply(acc).saturating_add(q.output_offset));
            }
        }
    }
    Ok(())
}
