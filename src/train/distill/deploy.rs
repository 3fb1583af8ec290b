//! Running `bottom` followed by one head as a single model, and laying out its parameters.

use super::{check_min, check_stack, split_prefix};
use crate::error::{check_len, Buffer, Error};
use crate::layers::{Layer, Sequential};

/// Scratch length of [`student_forward`]: the bottom's output `batch · bottom.output_len()`
/// plus the larger of the two models' own [`scratch_len`](Sequential::scratch_len)`(batch)`.
pub fn student_scratch_len<L1: Layer, const N1: usize, L3: Layer, const N3: usize>(
    bottom: &Sequential<L1, N1>,
    student_head: &Sequential<L3, N3>,
    batch: usize,
) -> usize {
    stacked_scratch_len(bottom, student_head, batch)
}

/// Scratch length of [`teacher_forward`]; the same formula as [`student_scratch_len`].
pub fn teacher_scratch_len<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    teacher_head: &Sequential<L2, N2>,
    batch: usize,
) -> usize {
    stacked_scratch_len(bottom, teacher_head, batch)
}

fn stacked_scratch_len<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    head: &Sequential<L2, N2>,
    batch: usize,
) -> usize {
    batch
        .saturating_mul(bottom.output_len())
        .saturating_add(bottom.scratch_len(batch).max(head.scratch_len(batch)))
}

/// Inference of the deployable student: `bottom`, then `student_head` (dropout off, batch norm
/// on running statistics), exactly as the two models' [`forward`](Sequential::forward) one
/// after the other.
///
/// # Shapes
/// - `input`: `[batch, bottom.input_len()]`
/// - `output`: `[batch, student_head.output_len()]`
/// - `scratch`: at least [`student_scratch_len`]`(bottom, student_head, batch)`
///
/// # Errors
/// [`Error::Chain`] (with `layer = N1`) if the head's input width differs from the bottom's
/// output width; [`ShapeError::Length`](crate::ShapeError::Length) naming `Scratch`, `Input` or
/// `Output`; [`ShapeError::Dimension`](crate::ShapeError::Dimension) for `batch == 0`; or the
/// first error of a layer. NaN in gives NaN out.
pub fn student_forward<L1: Layer, const N1: usize, L3: Layer, const N3: usize>(
    bottom: &Sequential<L1, N1>,
    student_head: &Sequential<L3, N3>,
    batch: usize,
    input: &[f32],
    output: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    stacked_forward(bottom, student_head, batch, input, output, scratch)
}

/// Inference of the teacher: `bottom`, then `teacher_head`; as [`student_forward`] (scratch:
/// [`teacher_scratch_len`]).
///
/// # Shapes
/// - `input`: `[batch, bottom.input_len()]`
/// - `output`: `[batch, teacher_head.output_len()]`
/// - `scratch`: at least [`teacher_scratch_len`]`(bottom, teacher_head, batch)`
///
/// # Errors
/// As [`student_forward`].
pub fn teacher_forward<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    teacher_head: &Sequential<L2, N2>,
    batch: usize,
    input: &[f32],
    output: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    stacked_forward(bottom, teacher_head, batch, input, output, scratch)
}

fn stacked_forward<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    head: &Sequential<L2, N2>,
    batch: usize,
    input: &[f32],
    output: &mut [f32],
    scratch: &mut [f32],
) -> Result<(), Error> {
    check_stack(bottom, head)?;
    check_min(
        Buffer::Scratch,
        stacked_scratch_len(bottom, head, batch),
        scratch.len(),
    )?;
    // Validate both ends before the bottom writes anything.
    check_len(
        Buffer::Output,
        batch.saturating_mul(head.output_len()),
        output.len(),
    )?;
    let (hidden, rest) = split_prefix(
        Buffer::Scratch,
        scratch,
        batch.saturating_mul(bottom.output_len()),
    )?;
    bottom.forward(batch, input, hidden, rest)?;
    head.forward(batch, hidden, output, rest)
}

/// Number of parameters of `bottom` followed by `head` as one model: the sum of every layer's
/// [`params`](Layer::params) length, frozen layers included (unlike
/// [`Sequential::param_len`], which counts only the trainable ones).
pub fn stacked_param_len<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    head: &Sequential<L2, N2>,
) -> usize {
    let b: usize = bottom.layers().iter().map(|l| l.params().len()).sum();
    let h: usize = head.layers().iter().map(|l| l.params().len()).sum();
    b.saturating_add(h)
}

/// Copies the parameters of `bottom` followed by `head` into one buffer, the layout of the
/// stacked model an exporter writes: for each layer of `bottom`, then each layer of `head`, its
/// [`params`](Layer::params) in the layer's documented order (a dense layer: weights
/// `[out, in]`, then bias). Layers without parameters contribute nothing. Running statistics
/// (batch norm) are not parameters and stay with their layer. Returns the number written.
///
/// # Shapes
/// `out`: `[stacked_param_len(bottom, head)]`
///
/// # Errors
/// [`Error::Chain`] if the head does not read what the bottom writes;
/// [`ShapeError::Length`](crate::ShapeError::Length) with `Buffer::Params` if `out` has another
/// length. Nothing is written on error.
pub fn write_stacked_params<L1: Layer, const N1: usize, L2: Layer, const N2: usize>(
    bottom: &Sequential<L1, N1>,
    head: &Sequential<L2, N2>,
    out: &mut [f32],
) -> Result<usize, Error> {
    check_stack(bottom, head)?;
    let n = stacked_param_len(bottom, head);
    check_len(Buffer::Params, n, out.len())?;
    let params = bottom
        .layers()
        .iter()
        .map(Layer::params)
        .chain(head.layers().iter().map(Layer::params));
    let mut rest = out;
    for p in params {
        let (dst, tail) = split_prefix(Buffer::Params, core::mem::take(&mut rest), p.len())?;
        dst.copy_from_slice(p);
        rest = tail;
    }
    Ok(n)
}
