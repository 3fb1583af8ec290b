//! int8 pooling and activation layers against f32 kernels and f64 math.
//!
//! Claim: **every output of an int8 layer is within one quantization step of the quantized
//! real-valued result** (`|int8 − quantize(reference)| <= 1`). The reference dequantizes the
//! int8 input, runs the f32 pooling kernel (`max_pool2d_f32`, `avg_pool1d_f32`,
//! `global_avg_pool_f32`, …) or the f64 function (ReLU, ReLU6, LeakyReLU, sigmoid, tanh, GELU,
//! softmax from `reference::activation` / written here), and quantizes with the layer's output
//! parameters in f64. Pooling keeps the input quantization. Fixed seeds; activation inputs cover
//! all 256 int8 codes.

mod common_d;

use common_d::*;
use tinytune::kernels::generic::activation::LeakyReluParamsS8;
use tinytune::kernels::generic::pool::{
    avg_pool1d_f32, avg_pool2d_f32, global_avg_pool_f32, max_pool1d_f32, max_pool2d_f32,
    Pool1dShape, Pool2dShape,
};
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationF32, ActivationS8, Padding};
use tinytune::layers::s8::*;
use tinytune::num::quant::QuantParams;
use tinytune_host_tests::reference::activation as f64ref;

fn random_act(rng: &mut SplitMix64) -> ActivationF32 {
    match rng.range_i64(0, 2) {
        0 => ActivationF32::NONE,
        1 => ActivationF32::RELU,
        _ => ActivationF32::RELU6,
    }
}

fn random_padding(rng: &mut SplitMix64) -> Padding {
    if rng.range_i64(0, 1) == 0 {
        Padding::Same
    } else {
        Padding::Valid
    }
}

fn kind_of(rng: &mut SplitMix64) -> PoolKindS8 {
    if rng.range_i64(0, 1) == 0 {
        PoolKindS8::Max
    } else {
        PoolKindS8::Avg
    }
}

#[test]
fn pool2d_s8_max_and_avg_within_one_step_of_f32_pool() {
    let mut rng = SplitMix64::new(0x90);
    for case in 0..80 {
        let kind = kind_of(&mut rng);
        let (window_h, window_w) = (rng.range_i64(1, 3) as usize, rng.range_i64(1, 3) as usize);
        let in_h = window_h + rng.range_i64(0, 4) as usize;
        let in_w = window_w + rng.range_i64(0, 4) as usize;
        let batch = rng.range_i64(1, 2) as usize;
        let shape = Pool2dShape {
            batch,
            in_h,
            in_w,
            channels: rng.range_i64(1, 4) as usize,
            window_h,
            window_w,
            stride_h: rng.range_i64(1, 2) as usize,
            stride_w: rng.range_i64(1, 3) as usize,
            padding: random_padding(&mut rng),
        };
        let q = random_params(&mut rng);
        let act = random_act(&mut rng);
        let x = rng.i8_vec(shape.input_len().unwrap());
        let xdq = dequantize_f32(&x, q);
        let mut y = vec![0f32; shape.output_len().unwrap()];
        match kind {
            PoolKindS8::Max => max_pool2d_f32(&shape, act, &xdq, &mut y).unwrap(),
            PoolKindS8::Avg => avg_pool2d_f32(&shape, act, &xdq, &mut y).unwrap(),
        }
        let want = quantize_all(&y, q);
        let layer = Pool2dS8Config {
            in_h,
            in_w,
            channels: shape.channels,
            window_h,
            window_w,
            stride_h: shape.stride_h,
            stride_w: shape.stride_w,
            padding: shape.padding,
            kind,
            act: activation_range_s8(act, q).unwrap(),
        }
        .init()
        .unwrap();
        let mut got = vec![0i8; y.len()];
        layer.forward(batch, &x, &mut got).unwrap();
        assert_within_one_step(&got, &want, &format!("pool2d {kind:?} case {case}"));
        if kind == PoolKindS8::Max {
            // A maximum commutes with the monotone (de)quantization: exact.
            assert_eq!(got, want, "max pool2d case {case}");
        }
    }
}

#[test]
fn pool1d_s8_max_and_avg_within_one_step_of_f32_pool() {
    let mut rng = SplitMix64::new(0x91);
    for case in 0..80 {
        let kind = kind_of(&mut rng);
        let window = rng.range_i64(1, 5) as usize;
        let len = window + rng.range_i64(0, 8) as usize;
        let batch = rng.range_i64(1, 3) as usize;
        let shape = Pool1dShape {
            batch,
            len,
            channels: rng.range_i64(1, 4) as usize,
            window,
            stride: rng.range_i64(1, 3) as usize,
            padding: random_padding(&mut rng),
        };
        let q = random_params(&mut rng);
        let act = random_act(&mut rng);
        let x = rng.i8_vec(shape.input_len().unwrap());
        let xdq = dequantize_f32(&x, q);
        let mut y = vec![0f32; shape.output_len().unwrap()];
        match kind {
            PoolKindS8::Max => max_pool1d_f32(&shape, act, &xdq, &mut y).unwrap(),
            PoolKindS8::Avg => avg_pool1d_f32(&shape, act, &xdq, &mut y).unwrap(),
        }
        let want = quantize_all(&y, q);
        let config = Pool1dS8Config {
            len,
            channels: shape.channels,
            window,
            stride: shape.stride,
            padding: shape.padding,
            kind,
            act: activation_range_s8(act, q).unwrap(),
        };
        assert_eq!(config.out_len().unwrap(), shape.output_len_axis().unwrap());
        let layer = config.init().unwrap();
        let mut got = vec![0i8; y.len()];
        layer.forward(batch, &x, &mut got).unwrap();
        assert_within_one_step(&got, &want, &format!("pool1d {kind:?} case {case}"));
    }
}

#[test]
fn global_avg_pool_s8_within_one_step_of_f32_global_pool() {
    let mut rng = SplitMix64::new(0x92);
    for case in 0..60 {
        let (batch, spatial, channels) = (
            rng.range_i64(1, 3) as usize,
            rng.range_i64(1, 40) as usize,
            rng.range_i64(1, 6) as usize,
        );
        let q = random_params(&mut rng);
        let x = rng.i8_vec(batch * spatial * channels);
        let xdq = dequantize_f32(&x, q);
        let mut y = vec![0f32; batch * channels];
        global_avg_pool_f32(batch, spatial, channels, &xdq, &mut y).unwrap();
        let want = quantize_all(&y, q);
        let layer = GlobalAvgPoolS8Config {
            spatial,
            channels,
            act: ActivationS8::NONE,
        }
        .init()
        .unwrap();
        assert_eq!(
            (layer.input_len(), layer.output_len()),
            (spatial * channels, channels)
        );
        let mut got = vec![0i8; y.len()];
        layer.forward(batch, &x, &mut got).unwrap();
        assert_within_one_step(&got, &want, &format!("global avg case {case}"));
    }
}

/// Every int8 code, twice (a batch of 2 samples of 256).
fn all_codes() -> Vec<i8> {
    (0..512).map(|i| (i % 256) as u8 as i8).collect()
}

/// Runs an activation layer over all codes and compares with `f` quantized with `out`.
fn check_activation(
    kind: ActivationKindS8,
    input: QuantParams,
    out: QuantParams,
    f: impl Fn(f64) -> f64,
    what: &str,
) {
    let x = all_codes();
    let layer = ActivationS8Config { len: 256, kind }.init().unwrap();
    let mut got = vec![0i8; x.len()];
    layer.forward(2, &x, &mut got).unwrap();
    let want: Vec<i8> = x
        .iter()
        .map(|&q| quantize(f(dequantize(q, input)), out))
        .collect();
    assert_within_one_step(&got, &want, what);
    assert!(spread(&got) > 10, "{what}: outputs barely vary");
}

#[test]
fn relu_and_relu6_s8_within_one_step_of_f64_math() {
    let mut rng = SplitMix64::new(0xA0);
    for case in 0..20 {
        let quant = random_params(&mut rng);
        check_activation(
            ActivationKindS8::Relu { quant },
            quant,
            quant,
            |x| x.max(0.0),
            &format!("relu {case}"),
        );
        check_activation(
            ActivationKindS8::Relu6 { quant },
            quant,
            quant,
            |x| x.clamp(0.0, 6.0),
            &format!("relu6 {case}"),
        );
    }
}

#[test]
fn leaky_relu_s8_within_one_step_of_f64_math() {
    let mut rng = SplitMix64::new(0xA1);
    for case in 0..20 {
        let input = random_params(&mut rng);
        let output = random_params(&mut rng);
        let alpha = rng.uniform(0.01, 0.9) as f32;
        let p = LeakyReluParamsS8::new(
            input.scale,
            input.zero_point,
            alpha,
            output.scale,
            output.zero_point,
        )
        .unwrap();
        let a = alpha as f64;
        check_activation(
            ActivationKindS8::LeakyRelu(p),
            input,
            output,
            |x| if x >= 0.0 { x } else { a * x },
            &format!("leaky relu {case}"),
        );
    }
}

#[test]
fn sigmoid_tanh_gelu_s8_within_one_step_of_f64_math() {
    let mut rng = SplitMix64::new(0xA2);
    let sigmoid_q = QuantParams {
        scale: 1.0 / 256.0,
        zero_point: -128,
    };
    let tanh_q = QuantParams {
        scale: 1.0 / 128.0,
        zero_point: 0,
    };
    for case in 0..20 {
        let input = random_params(&mut rng);
        check_activation(
            ActivationKindS8::Sigmoid { input },
            input,
            sigmoid_q,
            f64ref::sigmoid,
            &format!("sigmoid {case}"),
        );
        check_activation(
            ActivationKindS8::Tanh { input },
            input,
            tanh_q,
            f64ref::tanh,
            &format!("tanh {case}"),
        );
        // GELU's output range from the input's: [-0.17, max(x)].
        let hi = dequantize(127, input);
        let lo = dequantize(-128, input);
        let output = params_for(&[f64ref::gelu(lo) as f32, -0.17, hi as f32]);
        check_activation(
            ActivationKindS8::Gelu { input, output },
            input,
            output,
            f64ref::gelu,
            &format!("gelu {case}"),
        );
    }
}

/// Softmax of each row of `depth` values, in f64.
fn softmax_f64(depth: usize, x: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks(depth) {
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = row.iter().map(|v| (v - max).exp()).sum();
        out.extend(row.iter().map(|v| (v - max).exp() / sum));
    }
    out
}

#[test]
fn softmax_s8_within_one_step_of_f64_softmax() {
    let mut rng = SplitMix64::new(0xA3);
    let out_q = QuantParams {
        scale: SOFTMAX_OUTPUT_SCALE,
        zero_point: SOFTMAX_OUTPUT_ZERO_POINT,
    };
    assert_eq!((out_q.scale, out_q.zero_point), (1.0 / 256.0, -128));
    for case in 0..60 {
        let depth = rng.range_i64(1, 20) as usize;
        let rows = rng.range_i64(1, 4) as usize;
        let batch = rng.range_i64(1, 2) as usize;
        let input = random_params(&mut rng);
        let beta = rng.uniform(0.5, 2.0) as f32;
        let params = SoftmaxParamsS8::new(input.scale, beta).unwrap();
        let len = depth * rows;
        let layer = ActivationS8Config {
            len,
            kind: ActivationKindS8::Softmax { params, depth },
        }
        .init()
        .unwrap();
        let x = rng.i8_vec(batch * len);
        let mut got = vec![0i8; x.len()];
        layer.forward(batch, &x, &mut got).unwrap();
        let reals: Vec<f64> = x
            .iter()
            .map(|&q| beta as f64 * dequantize(q, input))
            .collect();
        let want = quantize_all(&softmax_f64(depth, &reals), out_q);
        assert_within_one_step(&got, &want, &format!("softmax case {case}"));
    }
}
