//! Model builders and independent f64 references shared by the `cli_*` tests.
#![allow(dead_code)]

use tinytune::kernels::Padding;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::batch_norm::BatchNormConfig;
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune_cli::model::{OwnedModel, OwnedOp};
use tinytune_host_tests::rng::SplitMix64;

/// `n` uniform values in `[lo, hi)`.
pub fn uniform(rng: &mut SplitMix64, n: usize, lo: f64, hi: f64) -> Vec<f32> {
    (0..n).map(|_| rng.uniform(lo, hi) as f32).collect()
}

pub fn dense(inp: usize, out: usize, rng: &mut SplitMix64) -> OwnedOp {
    let a = (1.0 / inp as f64).sqrt() * 1.5;
    let mut p = uniform(rng, inp * out, -a, a);
    p.extend(uniform(rng, out, -0.2, 0.2));
    OwnedOp::Dense(
        DenseConfig {
            in_features: inp,
            out_features: out,
            bias: true,
        },
        p,
    )
}

pub fn batch_norm(positions: usize, channels: usize, rng: &mut SplitMix64) -> OwnedOp {
    let mut p = uniform(rng, channels, 0.5, 1.5);
    p.extend(uniform(rng, channels, -0.3, 0.3));
    let mut s = uniform(rng, channels, -0.2, 0.2);
    s.extend(uniform(rng, channels, 0.5, 2.0));
    OwnedOp::BatchNorm(BatchNormConfig::new(positions, channels), p, s)
}

pub fn act(kind: ActivationKind, len: usize) -> OwnedOp {
    OwnedOp::Activation(ActivationConfig { kind, len })
}

pub fn conv2d(
    h: usize,
    w: usize,
    in_c: usize,
    out_c: usize,
    k: usize,
    bias: bool,
    rng: &mut SplitMix64,
) -> OwnedOp {
    let c = Conv2dConfig {
        in_h: h,
        in_w: w,
        in_c,
        out_c,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias,
    };
    let n = out_c * k * k * in_c + if bias { out_c } else { 0 };
    OwnedOp::Conv2d(c, uniform(rng, n, -0.4, 0.4))
}

pub fn conv1d(len: usize, in_c: usize, out_c: usize, k: usize, rng: &mut SplitMix64) -> OwnedOp {
    let c = Conv1dConfig {
        len,
        in_c,
        out_c,
        kernel: k,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        bias: true,
    };
    OwnedOp::Conv1d(c, uniform(rng, out_c * k * in_c + out_c, -0.4, 0.4))
}

pub fn depthwise(
    h: usize,
    w: usize,
    in_c: usize,
    m: usize,
    k: usize,
    rng: &mut SplitMix64,
) -> OwnedOp {
    let c = DepthwiseConv2dConfig {
        in_h: h,
        in_w: w,
        in_c,
        multiplier: m,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
        bias: true,
    };
    OwnedOp::DepthwiseConv2d(c, uniform(rng, k * k * in_c * m + in_c * m, -0.5, 0.5))
}

pub fn layer_norm(dim: usize, rng: &mut SplitMix64) -> OwnedOp {
    let mut p = uniform(rng, dim, 0.5, 1.5);
    p.extend(uniform(rng, dim, -0.2, 0.2));
    OwnedOp::LayerNorm(LayerNormConfig::new(1, dim), p)
}

pub fn embedding(vocab: usize, dim: usize, rng: &mut SplitMix64) -> OwnedOp {
    OwnedOp::Embedding(
        EmbeddingConfig {
            vocab,
            dim,
            seq_len: 1,
        },
        uniform(rng, vocab * dim, -1.0, 1.0),
    )
}

/// A model of these ops.
pub fn model(ops: Vec<OwnedOp>) -> OwnedModel {
    OwnedModel::new(ops)
}

/// f64 dense: `y[o] = b[o] + Σ_i w[o, i] x[i]` per sample.
pub fn dense_ref(x: &[f64], params: &[f32], inp: usize, out: usize) -> Vec<f64> {
    let (w, b) = params.split_at(inp * out);
    x.chunks(inp)
        .flat_map(|s| {
            (0..out).map(move |o| {
                f64::from(b[o])
                    + (0..inp)
                        .map(|i| f64::from(w[o * inp + i]) * s[i])
                        .sum::<f64>()
            })
        })
        .collect()
}

/// f64 inference batch norm over `[.., channels]`.
pub fn batch_norm_ref(
    x: &[f64],
    params: &[f32],
    stats: &[f32],
    channels: usize,
    eps: f64,
) -> Vec<f64> {
    x.iter()
        .enumerate()
        .map(|(j, &v)| {
            let c = j % channels;
            let (g, b) = (f64::from(params[c]), f64::from(params[channels + c]));
            let (m, var) = (f64::from(stats[c]), f64::from(stats[channels + c]));
            g * (v - m) / (var + eps).sqrt() + b
        })
        .collect()
}

pub fn relu_ref(x: &[f64]) -> Vec<f64> {
    x.iter().map(|&v| v.max(0.0)).collect()
}

/// `10 log10(Σ f² / Σ (f − q)²)` in f64.
pub fn sqnr_ref(f: &[f32], q: &[f32]) -> f64 {
    let s: f64 = f.iter().map(|&v| f64::from(v).powi(2)).sum();
    let n: f64 = f
        .iter()
        .zip(q)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum();
    10.0 * (s / n).log10()
}
