//! Test models for the fine-tuning tests: int8 MLPs quantized on calibrated ranges, the
//! digits student's shape, a confident one-layer classifier.

use super::{f32_ops, leak, random_mlp, s8_ops, RefLayer};
use crate::rng::SplitMix64;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::s8::{Conv2dS8Config, DenseS8Config, Pool2dS8Config, PoolKindS8};
use tinytune::model::{Op, TensorsS8};
use tinytune::num::quant::{QuantParams, Requantizer};

/// Random int8 tensors: `weights` values over the full range, a bias in `±300` per channel,
/// one requantizer per channel around 0.004.
fn random_tensors(rng: &mut SplitMix64, weights: usize, channels: usize) -> TensorsS8<'static> {
    let bias = (0..channels)
        .map(|_| rng.range_i64(-300, 300) as i32)
        .collect();
    let requant = (0..channels)
        .flat_map(|_| {
            let r = Requantizer::from_real(0.004 * rng.uniform(0.5, 1.5)).unwrap();
            [r.multiplier, r.shift]
        })
        .collect();
    TensorsS8 {
        weights: leak(rng.i8_vec(weights)),
        bias: Some(leak(bias)),
        requant: leak(requant),
    }
}

/// `x` in f64.
pub fn f64s(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// Inputs are uniform in `[-1, 1]`; this covers them.
pub fn input_q() -> QuantParams {
    QuantParams::asymmetric_from_min_max(-1.0, 1.0).unwrap()
}

/// `n` random inputs of `len` values uniform in `[-1, 1]`.
pub fn inputs(rng: &mut SplitMix64, n: usize, len: usize) -> Vec<Vec<f32>> {
    (0..n).map(|_| rng.f32_vec(len, -1.0, 1.0)).collect()
}

/// An int8 MLP through `dims`, quantized from a random f32 one on calibrated ranges.
pub fn s8_model(seed: u64, dims: &[usize], softmax: bool) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let layers = random_mlp(&mut rng, dims);
    let calib = inputs(&mut rng, 200, dims[0]);
    s8_ops(&layers, input_q(), &calib, softmax)
}

/// The int8 digits student's shape: `Quantize{64} → Conv2dS8(8×8×1 → 8×8×8) → Pool2dS8(2×2) →
/// Reshape{128} → DenseS8(128→10) → Dequantize{10}`, random tensors.
pub fn digits_like(seed: u64) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let q = |s, z| QuantParams::new(s, z).unwrap();
    let (qa, qb, qc) = (input_q(), q(0.05, -20), q(0.1, 3));
    let conv = Conv2dS8Config {
        in_h: 8,
        in_w: 8,
        in_c: 1,
        out_c: 8,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: qa,
        output: qb,
        act: ActivationS8 { min: -20, max: 127 },
    };
    let pool = Pool2dS8Config {
        in_h: 8,
        in_w: 8,
        channels: 8,
        window_h: 2,
        window_w: 2,
        stride_h: 2,
        stride_w: 2,
        padding: Padding::Valid,
        kind: PoolKindS8::Max,
        act: ActivationS8::NONE,
    };
    let dense = DenseS8Config {
        in_features: 128,
        out_features: 10,
        input: qb,
        output: qc,
        act: ActivationS8::NONE,
    };
    vec![
        Op::Quantize {
            len: 64,
            params: qa,
        },
        Op::Conv2dS8(conv, random_tensors(&mut rng, 72, 8)),
        Op::Pool2dS8(pool),
        Op::Reshape(ReshapeConfig { len: 128 }),
        Op::DenseS8(dense, random_tensors(&mut rng, 1280, 10)),
        Op::Dequantize {
            len: 10,
            params: qc,
        },
    ]
}

/// A one-layer f32 classifier `[n_in → classes]` with its weights scaled by `gain` (confident
/// predictions), as a reference layer and ops.
pub fn one_layer(
    seed: u64,
    n_in: usize,
    classes: usize,
    gain: f32,
) -> (RefLayer, Vec<Op<'static>>) {
    let mut rng = SplitMix64::new(seed);
    let mut f = random_mlp(&mut rng, &[n_in, classes]);
    f[0].w.iter_mut().for_each(|w| *w *= gain);
    (RefLayer::from_dense(&f[0]), f32_ops(&f, false))
}
