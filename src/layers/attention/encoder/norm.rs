//! The encoder's layer norms: forward (optionally saving the row statistics) and the
//! recomputation backward needs.

use crate::num::math;

/// Layer norm of each row of `x` into `out`; saves each row's mean and `1/sqrt(var + eps)` into
/// `stats` when given (the layout
/// [`layer_norm_backward_f32`](crate::kernels::generic::grad::norm::layer_norm_backward_f32)
/// reads).
pub(super) fn normalise(
    x: &[f32],
    ln: &[f32],
    eps: f32,
    out: &mut [f32],
    mut stats: Option<&mut [f32]>,
) {
    let (gamma, beta) = ln.split_at(ln.len() / 2);
    let w = gamma.len().max(1);
    let n = w as f32;
    for (r, (x, y)) in x.chunks_exact(w).zip(out.chunks_exact_mut(w)).enumerate() {
        let mean = x.iter().sum::<f32>() / n;
        let var = x.iter().map(|&v| (v - mean) * (v - mean)).sum::<f32>() / n;
        let rstd = 1.0 / math::sqrt(var + eps);
        if let Some([m, s]) = stats
            .as_deref_mut()
            .and_then(|s| s.get_mut(2 * r..2 * r + 2))
        {
            *m = mean;
            *s = rstd;
        }
        renormalise_row(x, mean, rstd, gamma, beta, y);
    }
}

/// One row of the layer norm from its statistics (the same arithmetic in forward and when
/// backward recomputes the normalised values).
fn renormalise_row(x: &[f32], mean: f32, rstd: f32, gamma: &[f32], beta: &[f32], y: &mut [f32]) {
    for (((y, &x), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
        *y = g * ((x - mean) * rstd) + b;
    }
}

/// Recomputes a layer norm's output from the saved statistics.
pub(super) fn renormalise(x: &[f32], stats: &[f32], ln: &[f32], out: &mut [f32]) {
    let (gamma, beta) = ln.split_at(ln.len() / 2);
    let w = gamma.len().max(1);
    let rows = x.chunks_exact(w).zip(out.chunks_exact_mut(w));
    for ((x, y), st) in rows.zip(stats.chunks_exact(2)) {
        if let [m, s] = st {
            renormalise_row(x, *m, *s, gamma, beta, y);
        }
    }
}
