//! f64 references and helpers shared by the normalisation, embedding and folding tests. Nothing
//! here calls the code under test.
#![allow(dead_code)] // each test crate uses a subset

use tinytune_host_tests::rng::SplitMix64;

/// Batch norm in training mode over `rows = x.len() / channels` rows: per channel, the mean and
/// biased variance of the column, `y = gamma · (x - mean) / sqrt(var + eps) + beta`.
pub fn bn_train(channels: usize, x: &[f64], gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let rows = x.len() / channels;
    let mut y = vec![0.0; x.len()];
    for c in 0..channels {
        let col: Vec<f64> = (0..rows).map(|r| x[r * channels + c]).collect();
        let mean = col.iter().sum::<f64>() / rows as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / rows as f64;
        for r in 0..rows {
            y[r * channels + c] =
                gamma[c] * (x[r * channels + c] - mean) / (var + eps).sqrt() + beta[c];
        }
    }
    y
}

/// Per-channel mean and biased variance of `[rows, channels]` data.
pub fn column_stats(channels: usize, x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let rows = x.len() / channels;
    let mut mean = vec![0.0; channels];
    let mut var = vec![0.0; channels];
    for c in 0..channels {
        mean[c] = (0..rows).map(|r| x[r * channels + c]).sum::<f64>() / rows as f64;
        var[c] = (0..rows)
            .map(|r| (x[r * channels + c] - mean[c]).powi(2))
            .sum::<f64>()
            / rows as f64;
    }
    (mean, var)
}

/// Batch norm in inference mode with given statistics.
#[allow(clippy::too_many_arguments)]
pub fn bn_infer(
    channels: usize,
    x: &[f64],
    gamma: &[f64],
    beta: &[f64],
    mean: &[f64],
    var: &[f64],
    eps: f64,
) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = i % channels;
            gamma[c] * (v - mean[c]) / (var[c] + eps).sqrt() + beta[c]
        })
        .collect()
}

/// Layer norm over rows of `dim` values.
pub fn layer_norm(dim: usize, x: &[f64], gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks(dim) {
        let mean = row.iter().sum::<f64>() / dim as f64;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / dim as f64;
        for (j, &v) in row.iter().enumerate() {
            y.push(gamma[j] * (v - mean) / (var + eps).sqrt() + beta[j]);
        }
    }
    y
}

/// Asserts `|got - want| <= tol · max(|want|, 1)` element by element.
pub fn assert_rel(what: &str, got: &[f32], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w} (error {err:.3e})"
        );
    }
}

/// `n` values uniform in `[lo, hi)`.
pub fn uniform(rng: &mut SplitMix64, n: usize, lo: f64, hi: f64) -> Vec<f32> {
    rng.f32_vec(n, lo, hi)
}

/// Widens to f64.
pub fn wide(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}
