//! Scaled dot-product attention of one head of one sample:
//! `output = softmax(Q·Kᵀ / √d + mask) · V`.
//!
//! Q, K and V are `[seq, head_dim]` matrices read with a row stride, so one head of a
//! multi-head projection `[seq, width]` is used in place (its columns `h·d .. (h+1)·d`) without
//! being copied out. The probabilities `P = softmax(…)` are written to a `[seq, seq]` buffer:
//! the backward pass ([`attention_backward_f32`](super::grad::attention::attention_backward_f32))
//! needs them.
//!
//! The visible keys of every query form a prefix `0..end` of the sequence (padding masks keys
//! from the sample's valid length on, the causal mask keys after the query), so the loops run
//! over that prefix only: a masked key is never read and its probability is exactly 0.

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::num::math;

/// Which keys each query of one sample may attend to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttentionMask {
    /// Query `i` sees only keys `j ≤ i`.
    pub causal: bool,
    /// Number of real positions: keys at `j ≥ valid` (padding) are masked for every query.
    /// Values `≥ seq` mean no padding. With `valid == 0` no query sees any key.
    pub valid: usize,
}

impl AttentionMask {
    /// No masking at all.
    pub fn none() -> Self {
        AttentionMask {
            causal: false,
            valid: usize::MAX,
        }
    }

    /// Whether query `query` sees key `key`.
    pub fn allows(&self, query: usize, key: usize) -> bool {
        key < self.visible(query)
    }

    /// The keys query `query` sees are `0..visible(query)` (before clamping to the sequence).
    pub fn visible(&self, query: usize) -> usize {
        if self.causal {
            self.valid.min(query.saturating_add(1))
        } else {
            self.valid
        }
    }
}

/// The dimensions of one attention head call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttentionShape {
    /// Number of positions (queries and keys).
    pub seq: usize,
    /// Length of one query, key or value vector, `d`.
    pub head_dim: usize,
    /// Distance between the starts of two consecutive rows of Q, K, V and the output (and their
    /// gradients): `head_dim` for dense `[seq, head_dim]` matrices, `width` for one head of a
    /// `[seq, width]` projection.
    pub stride: usize,
}

impl AttentionShape {
    /// Number of values a strided `[seq, head_dim]` operand spans:
    /// `(seq - 1) · stride + head_dim`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `seq` or `head_dim` is zero or the size overflows;
    /// [`ShapeError::Parameter`] if `stride < head_dim` (rows would overlap).
    pub fn operand_len(&self) -> Result<usize, ShapeError> {
        if self.seq == 0 || self.head_dim == 0 {
            return Err(ShapeError::Dimension);
        }
        if self.stride < self.head_dim {
            return Err(ShapeError::Parameter);
        }
        product(&[self.seq - 1, self.stride])?
            .checked_add(self.head_dim)
            .ok_or(ShapeError::Dimension)
    }

    /// Number of attention probabilities, `seq · seq`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn probs_len(&self) -> Result<usize, ShapeError> {
        product(&[self.seq, self.seq])
    }

    /// `1 / √head_dim`, the scale of the scores.
    pub(crate) fn scale(&self) -> f32 {
        1.0 / math::sqrt(self.head_dim as f32)
    }
}

/// Row `i` of a strided operand (empty if out of range, which validated lengths exclude).
#[inline]
pub(crate) fn row<'a>(x: &'a [f32], i: usize, shape: &AttentionShape) -> &'a [f32] {
    let start = i.saturating_mul(shape.stride);
    x.get(start..start.saturating_add(shape.head_dim))
        .unwrap_or(&[])
}

/// Row `i` of a strided operand, for writing.
#[inline]
pub(crate) fn row_mut<'a>(x: &'a mut [f32], i: usize, shape: &AttentionShape) -> &'a mut [f32] {
    let start = i.saturating_mul(shape.stride);
    x.get_mut(start..start.saturating_add(shape.head_dim))
        .unwrap_or(&mut [])
}

#[inline]
/// Dot product of two rows.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(&a, &b)| a * b).sum()
}

/// Scaled dot-product attention of one head: `P = softmax(Q·Kᵀ/√d)` over the visible keys of
/// each query (masked entries of `P` are 0), `output = P · V`.
///
/// A query that sees no key (padding with `valid == 0`) gets a zero output row and a zero row
/// of `P`. The softmax subtracts the row maximum before `exp`; NaN in Q or K makes the rows it
/// reaches NaN, NaN in V the outputs it reaches. Only the columns `0..head_dim` of each output
/// row are written (the other heads' columns between rows are left alone). Needs no scratch.
///
/// # Shapes
/// - `q`, `k`, `v`, `output`: `[seq, head_dim]` with row stride `stride`
///   ([`AttentionShape::operand_len`] values)
/// - `probs`: `[seq, seq]` (query-major), written
///
/// # Errors
/// As [`AttentionShape::operand_len`]; [`ShapeError::Length`] naming the first buffer of wrong
/// length (`q`, `k`, `v` are [`Buffer::Input`], `probs` [`Buffer::Scratch`], then
/// [`Buffer::Output`]). Nothing is written on error.
pub fn attention_f32(
    shape: AttentionShape,
    mask: AttentionMask,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    probs: &mut [f32],
    output: &mut [f32],
) -> Result<(), ShapeError> {
    let n = shape.operand_len()?;
    for x in [q, k, v] {
        check_len(Buffer::Input, n, x.len())?;
    }
    check_len(Buffer::Scratch, shape.probs_len()?, probs.len())?;
    check_len(Buffer::Output, n, output.len())?;
    let seq = shape.seq;
    let scale = shape.scale();
    for (i, p_row) in probs.chunks_exact_mut(seq).enumerate() {
        let end = mask.visible(i).min(seq);
        let q_i = row(q, i, &shape);
        let (visible, hidden) = p_row.split_at_mut(end);
        hidden.fill(0.0);
        let out = row_mut(output, i, &shape);
        out.fill(0.0);
        if end == 0 {
            continue;
        }
        let mut max = f32::NEG_INFINITY;
        for (j, p) in visible.iter_mut().enumerate() {
            *p = dot(q_i, row(k, j, &shape)) * scale;
            // NaN wins (f32::max would drop it), so a NaN score makes the row NaN.
            if *p > max || p.is_nan() {
                max = *p;
            }
        }
        let mut sum = 0.0f32;
        for p in visible.iter_mut() {
            *p = math::exp(*p - max);
            sum += *p;
        }
        let inv = 1.0 / sum;
        for (j, p) in visible.iter_mut().enumerate() {
            *p *= inv;
            for (o, &v) in out.iter_mut().zip(row(v, j, &shape)) {
                *o += *p * v;
            }
        }
    }
    Ok(())
}
