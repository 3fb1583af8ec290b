//! Buffer helpers shared by the attention layers.

use crate::error::{check_len, product, Buffer, ShapeError};
use crate::kernels::generic::attention::AttentionMask;

/// Checks that the scratch holds at least `needed` values (longer is fine).
pub(super) fn check_scratch(needed: usize, actual: usize) -> Result<(), ShapeError> {
    if actual >= needed {
        Ok(())
    } else {
        Err(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: needed,
            actual,
        })
    }
}

/// Checks the per-sample valid lengths: one per sample when given (reported as
/// [`Buffer::Input2`], the layer's second input).
pub(super) fn check_lengths(lengths: Option<&[usize]>, batch: usize) -> Result<(), ShapeError> {
    match lengths {
        Some(l) => check_len(Buffer::Input2, batch, l.len()),
        None => Ok(()),
    }
}

/// The valid length of sample `b`, clamped to `seq` (all of it without lengths).
pub(super) fn valid(lengths: Option<&[usize]>, b: usize, seq: usize) -> usize {
    lengths.and_then(|l| l.get(b)).map_or(seq, |&v| v.min(seq))
}

/// The kernel mask of sample `b`.
pub(super) fn mask(causal: bool, lengths: Option<&[usize]>, b: usize, seq: usize) -> AttentionMask {
    AttentionMask {
        causal,
        valid: valid(lengths, b, seq),
    }
}

/// Splits the first `n` values off `rest` (fewer if `rest` is shorter: lengths are checked
/// before, and the kernels reject a short slice rather than panic).
pub(super) fn take<'a>(rest: &mut &'a [f32], n: usize) -> &'a [f32] {
    let (a, b) = rest.split_at(n.min(rest.len()));
    *rest = b;
    a
}

/// [`take`] for a mutable slice.
pub(super) fn take_mut<'a>(rest: &mut &'a mut [f32], n: usize) -> &'a mut [f32] {
    let r = core::mem::take(rest);
    let (a, b) = r.split_at_mut(n.min(r.len()));
    *rest = b;
    a
}

/// [`take_mut`] on an optional slice.
pub(super) fn take_opt<'a>(rest: &mut Option<&'a mut [f32]>, n: usize) -> Option<&'a mut [f32]> {
    rest.as_mut().map(|r| take_mut(r, n))
}

/// `n` values of `x` from `start`, empty if out of range (see [`take`]).
pub(super) fn sub(x: &[f32], start: usize, n: usize) -> &[f32] {
    x.get(start..start.saturating_add(n)).unwrap_or(&[])
}

/// [`sub`] for a mutable slice.
pub(super) fn sub_mut(x: &mut [f32], start: usize, n: usize) -> &mut [f32] {
    x.get_mut(start..start.saturating_add(n)).unwrap_or(&mut [])
}

/// `seq · width`, both non-zero.
pub(super) fn seq_len(seq: usize, width: usize) -> Result<usize, ShapeError> {
    if seq == 0 || width == 0 {
        return Err(ShapeError::Dimension);
    }
    product(&[seq, width])
}
