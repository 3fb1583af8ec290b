//! Backward kernels of the normalisation layers: batch norm (training mode) and layer norm.
//!
//! Both normalise `x̂ = (x - mean) · inv_std` and output `y = gamma · x̂ + beta`; they differ in
//! the axis the statistics are taken over. With `n` values sharing one `(mean, inv_std)` pair and
//! `dx̂ = gamma · g`, the input gradient is the standard
//! `dx = inv_std / n · (n · dx̂ - Σ dx̂ - x̂ · Σ (dx̂ · x̂))`,
//! where the sums run over the same `n` values (the statistics depend on every one of them).
//! `x̂` is recomputed from the input and the saved statistics rather than cached: it costs one
//! subtraction and one multiplication per value and saves a whole activation-sized buffer.

use crate::error::{check_len, Buffer, ShapeError};

/// Batch-norm backward (training mode: the statistics were the batch's own) over `rows` rows of
/// `channels` values, `rows = input.len() / channels` (batch × spatial positions).
///
/// With `sg = Σ_rows g` and `sgx = Σ_rows g · x̂` per channel:
/// `dgamma += sgx`, `dbeta += sg`, `dx = gamma · inv_std / n · (n · g - sg - x̂ · sgx)`.
///
/// Channels are processed one at a time with a strided walk over the rows, so the per-channel
/// sums need no scratch memory.
///
/// # Shapes
/// - `input`, `grad_output`, `grad_input`: `[rows, channels]`, `rows >= 1`
/// - `stats`: `[2, channels]`: the batch mean of each channel, then its `1 / sqrt(var + eps)`
///   (the cache [`BatchNorm::forward_train`](crate::layers::batch_norm::BatchNorm) fills)
/// - `gamma`: `[channels]`
/// - `grad_params`: `[2, channels]`: `dgamma` then `dbeta` (accumulated)
///
/// # Errors
/// [`ShapeError::Dimension`] if `channels` is zero or the input is empty;
/// [`ShapeError::Length`] naming the first buffer whose length is wrong (`Input` if it is not a
/// multiple of `channels`, `Cache` for `stats`, `Params` for `gamma`). Nothing is written on
/// error. NaN anywhere propagates into the gradients it touches.
pub fn batch_norm_backward_f32(
    channels: usize,
    input: &[f32],
    stats: &[f32],
    gamma: &[f32],
    grad_output: &[f32],
    mut grad_input: Option<&mut [f32]>,
    mut grad_params: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    if channels == 0 || input.is_empty() {
        return Err(ShapeError::Dimension);
    }
    let rows = input.len() / channels;
    let two_c = channels.checked_mul(2).ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, rows * channels, input.len())?;
    check_len(Buffer::Cache, two_c, stats.len())?;
    check_len(Buffer::Params, channels, gamma.len())?;
    check_len(Buffer::GradOutput, input.len(), grad_output.len())?;
    if let Some(g) = grad_input.as_deref() {
        check_len(Buffer::GradInput, input.len(), g.len())?;
    }
    if let Some(g) = grad_params.as_deref() {
        check_len(Buffer::GradParams, two_c, g.len())?;
    }
    let (mean, inv_std) = stats.split_at(channels);
    let n = rows as f32;
    for (c, ((&m, &r), &gm)) in mean.iter().zip(inv_std).zip(gamma).enumerate() {
        let (mut sg, mut sgx) = (0.0f32, 0.0f32);
        for (x, g) in column(input, c, channels).zip(column(grad_output, c, channels)) {
            sg += g;
            sgx += g * (x - m) * r;
        }
        if let Some(gp) = grad_params.as_deref_mut() {
            let (dgamma, dbeta) = gp.split_at_mut(channels);
            if let (Some(dg), Some(db)) = (dgamma.get_mut(c), dbeta.get_mut(c)) {
                *dg += sgx;
                *db += sg;
            }
        }
        if let Some(gi) = grad_input.as_deref_mut() {
            let k = gm * r / n;
            let dx = gi.iter_mut().skip(c).step_by(channels);
            for ((d, x), g) in
                dx.zip(column(input, c, channels))
                    .zip(column(grad_output, c, channels))
            {
                *d = k * (n * g - sg - (x - m) * r * sgx);
            }
        }
    }
    Ok(())
}

/// The values of channel `c` in a `[rows, channels]` buffer.
fn column(buf: &[f32], c: usize, channels: usize) -> impl Iterator<Item = f32> + '_ {
    buf.iter().skip(c).step_by(channels).copied()
}

/// Layer-norm backward over rows of `dim` values, each normalised with its own statistics.
///
/// Per row, with `dx̂ = gamma ⊙ g`: `dx = rstd / dim · (dim · dx̂ - Σ dx̂ - x̂ · Σ dx̂ · x̂)`;
/// over all rows, `dgamma += Σ g · x̂`, `dbeta += Σ g`.
///
/// # Shapes
/// - `input`, `grad_output`, `grad_input`: `[rows, dim]`, `rows >= 1`
/// - `stats`: `[rows, 2]`: each row's mean and `1 / sqrt(var + eps)`, interleaved (the cache
///   [`LayerNorm::forward_train`](crate::layers::layer_norm::LayerNorm) fills)
/// - `gamma`: `[dim]`
/// - `grad_params`: `[2, dim]`: `dgamma` then `dbeta` (accumulated)
///
/// # Errors
/// [`ShapeError::Dimension`] if `dim` is zero or the input is empty; [`ShapeError::Length`]
/// naming the first buffer whose length is wrong (`Input` if it is not a multiple of `dim`,
/// `Cache` for `stats`, `Params` for `gamma`). Nothing is written on error. NaN propagates.
pub fn layer_norm_backward_f32(
    dim: usize,
    input: &[f32],
    stats: &[f32],
    gamma: &[f32],
    grad_output: &[f32],
    grad_input: Option<&mut [f32]>,
    mut grad_params: Option<&mut [f32]>,
) -> Result<(), ShapeError> {
    if dim == 0 || input.is_empty() {
        return Err(ShapeError::Dimension);
    }
    let rows = input.len() / dim;
    let two_d = dim.checked_mul(2).ok_or(ShapeError::Dimension)?;
    check_len(Buffer::Input, rows * dim, input.len())?;
    check_len(Buffer::Cache, rows * 2, stats.len())?;
    check_len(Buffer::Params, dim, gamma.len())?;
    check_len(Buffer::GradOutput, input.len(), grad_output.len())?;
    if let Some(g) = grad_input.as_deref() {
        check_len(Buffer::GradInput, input.len(), g.len())?;
    }
    if let Some(g) = grad_params.as_deref() {
        check_len(Buffer::GradParams, two_d, g.len())?;
    }
    let n = dim as f32;
    let mut grad_input_rows = grad_input.map(|g| g.chunks_exact_mut(dim));
    let rows_in = input.chunks_exact(dim).zip(grad_output.chunks_exact(dim));
    for ((x, g), st) in rows_in.zip(stats.chunks_exact(2)) {
        let (m, rstd) = match st {
            [m, rstd] => (*m, *rstd),
            _ => continue, // unreachable: chunks_exact(2)
        };
        if let Some(gp) = grad_params.as_deref_mut() {
            let (dgamma, dbeta) = gp.split_at_mut(dim);
            for (((dg, db), &x), &g) in dgamma.iter_mut().zip(dbeta.iter_mut()).zip(x).zip(g) {
                *dg += g * (x - m) * rstd;
                *db += g;
            }
        }
        if let Some(out) = grad_input_rows.as_mut().and_then(Iterator::next) {
            let (mut s, mut sx) = (0.0f32, 0.0f32);
            for ((&x, &g), &gm) in x.iter().zip(g).zip(gamma) {
                let dxhat = gm * g;
                s += dxhat;
                sx += dxhat * (x - m) * rstd;
            }
            let k = rstd / n;
            for (((d, &x), &g), &gm) in out.iter_mut().zip(x).zip(g).zip(gamma) {
                *d = k * (n * gm * g - s - (x - m) * rstd * sx);
            }
        }
    }
    Ok(())
}
