//! Gradient of the f32 dense kernel ([`dense_f32`](crate::kernels::generic::dense::dense_f32)
//! without activation): `y[b, o] = bias[o] + sum_i x[b, i] * w[o, i]`, so with `g = dL/dy`
//!
//! - `dL/dx[b, i] = sum_o g[b, o] * w[o, i]`
//! - `dL/dw[o, i] = sum_b g[b, o] * x[b, i]`
//! - `dL/dbias[o] = sum_b g[b, o]`

use crate::error::{check_len, Buffer, ShapeError};
use crate::kernels::generic::dense::DenseShape;

/// Backward pass of an f32 dense layer without activation.
///
/// Overwrites `grad_input` with `dL/dx` and **adds** `dL/dw` into `grad_weights` and `dL/dbias`
/// into `grad_bias`, each only when given, so parameter gradients accumulate over calls. Sums run
/// in f32 in increasing index order. NaN in `grad_output`, `input` or `weights` gives NaN in the
/// gradients it reaches. Needs no scratch memory.
///
/// # Shapes
/// - `input`: `[batch, in_features]` (the forward input)
/// - `weights`: `[out_features, in_features]`
/// - `grad_output`: `[batch, out_features]`
/// - `grad_input`: `[batch, in_features]`, or `None`
/// - `grad_weights`: `[out_features, in_features]`, or `None`
/// - `grad_bias`: `[out_features]`, or `None`
///
/// # Errors
/// [`ShapeError::Dimension`] if a dimension is zero or an element count overflows;
/// [`ShapeError::Length`] naming the first buffer whose length differs from the shape, in the
/// order input ([`Buffer::Input`]), weights ([`Buffer::Weights`]), output gradient
/// ([`Buffer::GradOutput`]), input gradient ([`Buffer::GradInput`]), weight then bias gradient
/// (both [`Buffer::GradParams`]). Nothing is written on error.
pub fn dense_backward_f32(
    shape: DenseShape,
    input: &[f32],
    weights: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    grad_weights: Option<&mut [f32]>,
    grad_bias: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    let n_in_total = shape.input_len()?;
    let n_weights = shape.weights_len()?;
    check_len(Buffer::Input, n_in_total, input.len())?;
    check_len(Buffer::Weights, n_weights, weights.len())?;
    check_len(Buffer::GradOutput, shape.output_len()?, grad_output.len())?;
    if let Some(g) = grad_input.as_deref() {
        check_len(Buffer::GradInput, n_in_total, g.len())?;
    }
    if let Some(g) = grad_weights.as_deref() {
        check_len(Buffer::GradParams, n_weights, g.len())?;
    }
    if let Some(g) = grad_bias.as_deref() {
        check_len(Buffer::GradParams, shape.out_features, g.len())?;
    }

    let n_in = shape.in_features;
    let n_out = shape.out_features;
    if let Some(grad_input) = grad_input {
        // Row by row: each input gradient row is a combination of the weight rows, which keeps
        // both the weights and the gradient row contiguous.
        for (gi_row, go_row) in grad_input
            .chunks_exact_mut(n_in)
            .zip(grad_output.chunks_exact(n_out))
        {
            gi_row.fill(0.0);
            for (&g, w_row) in go_row.iter().zip(weights.chunks_exact(n_in)) {
                for (gi, &w) in gi_row.iter_mut().zip(w_row) {
                    *gi += g * w;
                }
            }
        }
    }
    if let Some(grad_weights) = grad_weights {
        for (x_row, go_row) in input
            .chunks_exact(n_in)
            .zip(grad_output.chunks_exact(n_out))
        {
            for (&g, gw_row) in go_row.iter().zip(grad_weights.chunks_exact_mut(n_in)) {
                for (gw, &x) in gw_row.iter_mut().zip(x_row) {
                    *gw += g * x;
                }
            }
        }
    }
    if let Some(grad_bias) = grad_bias {
        for go_row in grad_output.chunks_exact(n_out) {
            for (gb, &g) in grad_bias.iter_mut().zip(go_row) {
                *gb += g;
            }
        }
    }
    Ok(())
}
