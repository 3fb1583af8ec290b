//! Gradient of scaled dot-product attention
//! ([`attention_f32`](crate::kernels::generic::attention::attention_f32)).
//!
//! With `S = Q·Kᵀ/√d`, `P = softmax(S)` per row, `O = P·V` and `G = dL/dO`:
//!
//! - `dV = Pᵀ·G`
//! - `dP[i, j] = G_i · V_j`, and through the softmax
//!   `dS[i, j] = P[i, j] · (dP[i, j] - Σ_j' P[i, j'] dP[i, j'])`, where the sum equals
//!   `G_i · O_i` (so no `[seq]` row of scratch is needed)
//! - `dQ = dS·K / √d`, `dK = dSᵀ·Q / √d`.
//!
//! Masked pairs are skipped: a key no query sees gets exactly zero `dK` and `dV`.

use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::attention::{dot, row, row_mut, AttentionMask, AttentionShape};

/// Backward pass of one attention head. Overwrites the head's columns of `grad_q`, `grad_k`
/// and `grad_v` (the other columns between strided rows are left alone). Sums run in f32.
/// NaN in any operand or in `grad_output` reaches the gradients it touches. Needs no scratch.
///
/// # Shapes
/// - `q`, `k`, `v`, `output`, `grad_output`, `grad_q`, `grad_k`, `grad_v`: `[seq, head_dim]`
///   with row stride `stride` ([`AttentionShape::operand_len`] values); `output` is the
///   forward's output
/// - `probs`: `[seq, seq]`, as the forward wrote it
///
/// # Errors
/// As [`AttentionShape::operand_len`]; [`ShapeError::Length`] naming the first buffer of wrong
/// length, in the order `q`, `k`, `v` ([`Buffer::Input`]), `probs` ([`Buffer::Cache`]),
/// `output` ([`Buffer::Output`]), `grad_output` ([`Buffer::GradOutput`]), `grad_q`, `grad_k`,
/// `grad_v` ([`Buffer::GradInput`]). Nothing is written on error.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward_f32(
    shape: AttentionShape,
    mask: AttentionMask,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    probs: &[f32],
    output: &[f32],
    grad_output: &[f32],
    grad_q: &mut [f32],
    grad_k: &mut [f32],
    grad_v: &mut [f32],
) -> Result<(), ShapeError> {
    let n = shape.operand_len()?;
    for x in [q, k, v] {
        check_len(Buffer::Input, n, x.len())?;
    }
    check_len(Buffer::Cache, shape.probs_len()?, probs.len())?;
    check_len(Buffer::Output, n, output.len())?;
    check_len(Buffer::GradOutput, n, grad_output.len())?;
    for g in [&*grad_q, &*grad_k, &*grad_v] {
        check_len(Buffer::GradInput, n, g.len())?;
    }
    let seq = shape.seq;
    let scale = shape.scale();
    for j in 0..seq {
        row_mut(grad_k, j, &shape).fill(0.0);
        row_mut(grad_v, j, &shape).fill(0.0);
    }
    for (i, p_row) in probs.chunks_exact(seq).enumerate() {
        let end = mask.visible(i).min(seq);
        let g_i = row(grad_output, i, &shape);
        let q_i = row(q, i, &shape);
        let delta = dot(g_i, row(output, i, &shape));
        let gq_i = row_mut(grad_q, i, &shape);
        gq_i.fill(0.0);
        for (j, &p) in p_row.iter().enumerate().take(end) {
            let k_j = row(k, j, &shape);
            let ds = p * (dot(g_i, row(v, j, &shape)) - delta) * scale;
            for (gq, &kv) in gq_i.iter_mut().zip(k_j) {
                *gq += ds * kv;
            }
            for (gk, &qv) in row_mut(grad_k, j, &shape).iter_mut().zip(q_i) {
                *gk += ds * qv;
            }
            for (gv, &g) in row_mut(grad_v, j, &shape).iter_mut().zip(g_i) {
                *gv += p * g;
            }
        }
    }
    Ok(())
}
