//! int8 dense, conv1d, conv2d and depthwise layers against the f32 kernels.
//!
//! Claim: **an int8 layer agrees with the f32 computation on the same quantized weights to
//! within one quantization step of the output** (`|int8 − quantize(f32)| <= 1` for every
//! element). For each case, random f32 weights and biases are quantized with the crate's
//! `quantize_*_weights`; the reference dequantizes those int8 weights (`scale[c] · q`), the int32
//! bias (`bias · input_scale · scale[c]`) and the int8 input, runs the f32 layer (`Dense`,
//! `Conv1d`, `Conv2d`, `DepthwiseConv2d`) followed by the f32 activation clamp, and quantizes its output with the output parameters in f64. Random
//! shapes and values, fixed seeds.
//!
//! Also: a dense layer with a per-tensor requantizer equals the per-channel one bit for bit when
//! all channel scales are equal.

mod common_d;

use common_d::*;
use tinytune::kernels::generic::conv::{Conv1dShape, Conv2dShape};
use tinytune::kernels::generic::depthwise::DepthwiseConv2dShape;
use tinytune::kernels::{ActivationF32, ActivationS8, Padding};
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::s8::*;
use tinytune::layers::Layer;
use tinytune::num::quant::{QuantParams, Requantizer};

/// The int8 parameters of a layer, as the quantize helpers return them.
struct Quantized {
    weights: Vec<i8>,
    bias: Option<Vec<i32>>,
    requant: Vec<Requantizer>,
    scales: Vec<f32>,
}

#[derive(Clone, Copy, PartialEq)]
enum Axis {
    /// Output channel first (dense, conv).
    First,
    /// Output channel last (depthwise).
    Last,
}

fn quantize_layer(
    axis: Axis,
    weights: &[f32],
    bias: Option<&[f32]>,
    channels: usize,
    input: QuantParams,
    output: QuantParams,
) -> Quantized {
    let mut w = vec![0i8; weights.len()];
    let mut b = vec![0i32; if bias.is_some() { channels } else { 0 }];
    let mut r = vec![Requantizer::ZERO; channels];
    let mut s = vec![0f32; channels];
    let f = match axis {
        Axis::First => quantize_conv_weights,
        Axis::Last => quantize_depthwise_weights,
    };
    f(
        weights, bias, channels, input, output, &mut w, &mut b, &mut r, &mut s,
    )
    .unwrap();
    Quantized {
        weights: w,
        bias: bias.map(|_| b),
        requant: r,
        scales: s,
    }
}

/// `scale[c] · q` for every weight, in f64 then f32.
fn dequantized_weights(axis: Axis, q: &Quantized) -> Vec<f32> {
    let channels = q.scales.len();
    let n = q.weights.len() / channels;
    q.weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let c = match axis {
                Axis::First => i / n,
                Axis::Last => i % channels,
            };
            (q.scales[c] as f64 * w as f64) as f32
        })
        .collect()
}

/// `bias · input_scale · scale[c]`.
fn dequantized_bias(q: &Quantized, input: QuantParams) -> Option<Vec<f32>> {
    q.bias.as_ref().map(|b| {
        b.iter()
            .zip(&q.scales)
            .map(|(&b, &s)| (b as f64 * input.scale as f64 * s as f64) as f32)
            .collect()
    })
}

fn random_act(rng: &mut SplitMix64) -> ActivationF32 {
    match rng.range_i64(0, 2) {
        0 => ActivationF32::NONE,
        1 => ActivationF32::RELU,
        _ => ActivationF32::RELU6,
    }
}

/// Channel-dependent weight magnitudes, so per-channel scales differ.
fn random_weights(rng: &mut SplitMix64, axis: Axis, len: usize, channels: usize) -> Vec<f32> {
    let mags: Vec<f64> = (0..channels).map(|_| rng.uniform(0.05, 1.0)).collect();
    let n = len / channels;
    (0..len)
        .map(|i| {
            let c = match axis {
                Axis::First => i / n,
                Axis::Last => i % channels,
            };
            rng.uniform(-mags[c], mags[c]) as f32
        })
        .collect()
}

/// Runs one agreement case. `run_f32(weights, bias, input, act, output)` is the f32 kernel;
/// `run_s8(quantized, input_q, output_q, act, input, output)` the int8 layer.
#[allow(clippy::too_many_arguments)]
fn agree(
    rng: &mut SplitMix64,
    axis: Axis,
    channels: usize,
    weights_len: usize,
    input_len: usize,
    output_len: usize,
    run_f32: impl Fn(&[f32], Option<&[f32]>, &[f32], ActivationF32, &mut [f32]),
    run_s8: impl Fn(&Quantized, QuantParams, QuantParams, ActivationS8, &[i8], &mut [i8]),
    what: &str,
) -> (usize, usize) {
    let w = random_weights(rng, axis, weights_len, channels);
    let bias: Option<Vec<f32>> =
        (rng.range_i64(0, 3) > 0).then(|| rng.f32_vec(channels, -0.5, 0.5));
    let (lo, hi) = (rng.uniform(-3.0, -0.5), rng.uniform(0.5, 3.0));
    let x = rng.f32_vec(input_len, lo, hi);
    let in_q = params_for(&x);
    let xq = quantize_all(&x, in_q);
    let xdq = dequantize_f32(&xq, in_q);
    // Output quantization from the float layer's range, narrowed a little so that some outputs
    // saturate.
    let mut y0 = vec![0f32; output_len];
    run_f32(&w, bias.as_deref(), &xdq, ActivationF32::NONE, &mut y0);
    let mut out_q = params_for(&y0);
    out_q.scale *= rng.uniform(0.8, 1.0) as f32;

    let act = random_act(rng);
    let q = quantize_layer(axis, &w, bias.as_deref(), channels, in_q, out_q);
    let wdq = dequantized_weights(axis, &q);
    let bdq = dequantized_bias(&q, in_q);
    let mut y = vec![0f32; output_len];
    run_f32(&wdq, bdq.as_deref(), &xdq, act, &mut y);
    let want = quantize_all(&y, out_q);

    let act_s8 = activation_range_s8(act, out_q).unwrap();
    let mut got = vec![0i8; output_len];
    run_s8(&q, in_q, out_q, act_s8, &xq, &mut got);
    assert_within_one_step(&got, &want, what);
    let exact = got.iter().zip(&want).filter(|(g, w)| g == w).count();
    (exact, got.len())
}

/// Most elements must agree exactly: guards against a reference that drifted into agreeing
/// only loosely.
fn assert_mostly_exact((exact, total): (usize, usize), what: &str) {
    assert!(
        exact as f64 >= 0.9 * total as f64,
        "{what}: only {exact} of {total} exact"
    );
}

#[test]
fn dense_s8_within_one_step_of_f32_dense_on_dequantized_weights() {
    let mut rng = SplitMix64::new(0xD1);
    let mut tally = (0, 0);
    for case in 0..60 {
        let batch = rng.range_i64(1, 3) as usize;
        let (n_in, n_out) = (rng.range_i64(1, 40) as usize, rng.range_i64(1, 12) as usize);
        let t = agree(
            &mut rng,
            Axis::First,
            n_out,
            n_in * n_out,
            batch * n_in,
            batch * n_out,
            |w, b, x, act, y| {
                let p = weights_then_bias(w, b);
                let layer = DenseConfig {
                    in_features: n_in,
                    out_features: n_out,
                    bias: b.is_some(),
                }
                .init(&p[..])
                .unwrap();
                run_then_clamp(&layer, batch, x, act, y);
            },
            |q, input, output, act, x, y| {
                let layer = DenseS8Config {
                    in_features: n_in,
                    out_features: n_out,
                    input,
                    output,
                    act,
                }
                .init(&q.weights, q.bias.as_deref(), &q.requant)
                .unwrap();
                assert_eq!((layer.input_len(), layer.output_len()), (n_in, n_out));
                layer.forward(batch, x, y).unwrap();
            },
            &format!("dense case {case}"),
        );
        tally = (tally.0 + t.0, tally.1 + t.1);
    }
    assert_mostly_exact(tally, "dense");
}

/// The f32 layers' parameter layout: the weights, then the bias if there is one.
fn weights_then_bias(w: &[f32], b: Option<&[f32]>) -> Vec<f32> {
    w.iter().chain(b.unwrap_or(&[])).copied().collect()
}

/// Inference through an f32 layer, then the fused clamp the int8 layer applies.
fn run_then_clamp<L: Layer>(layer: &L, batch: usize, x: &[f32], act: ActivationF32, y: &mut [f32]) {
    layer.forward(batch, x, y).unwrap();
    for v in y.iter_mut() {
        *v = act.clamp(*v);
    }
}

fn random_padding(rng: &mut SplitMix64) -> Padding {
    if rng.range_i64(0, 1) == 0 {
        Padding::Same
    } else {
        Padding::Valid
    }
}

#[test]
fn conv1d_s8_within_one_step_of_f32_conv1d_on_dequantized_weights() {
    let mut rng = SplitMix64::new(0xC1);
    let mut tally = (0, 0);
    for case in 0..50 {
        let batch = rng.range_i64(1, 2) as usize;
        let kernel = rng.range_i64(1, 4) as usize;
        let dilation = rng.range_i64(1, 2) as usize;
        let len = (kernel - 1) * dilation + rng.range_i64(1, 8) as usize;
        let (in_c, out_c) = (rng.range_i64(1, 5) as usize, rng.range_i64(1, 6) as usize);
        let shape = Conv1dShape {
            batch,
            len,
            in_c,
            out_c,
            kernel,
            stride: rng.range_i64(1, 3) as usize,
            dilation,
            padding: random_padding(&mut rng),
        };
        let out_len = shape.output_len().unwrap();
        let t = agree(
            &mut rng,
            Axis::First,
            out_c,
            out_c * kernel * in_c,
            batch * len * in_c,
            out_len,
            |w, b, x, act, y| {
                let p = weights_then_bias(w, b);
                let layer = Conv1dConfig {
                    len,
                    in_c,
                    out_c,
                    kernel,
                    stride: shape.stride,
                    dilation,
                    padding: shape.padding,
                    bias: b.is_some(),
                }
                .init(&p[..])
                .unwrap();
                run_then_clamp(&layer, batch, x, act, y);
            },
            |q, input, output, act, x, y| {
                let layer = Conv1dS8Config {
                    len,
                    in_c,
                    out_c,
                    kernel,
                    stride: shape.stride,
                    dilation,
                    padding: shape.padding,
                    input,
                    output,
                    act,
                }
                .init(&q.weights, q.bias.as_deref(), &q.requant)
                .unwrap();
                assert_eq!(layer.output_len() * batch, out_len);
                layer.forward(batch, x, y).unwrap();
            },
            &format!("conv1d case {case}"),
        );
        tally = (tally.0 + t.0, tally.1 + t.1);
    }
    assert_mostly_exact(tally, "conv1d");
}

/// A random 2-D geometry whose `VALID` windows fit.
fn random_geometry(rng: &mut SplitMix64) -> [usize; 8] {
    let (kh, kw) = (rng.range_i64(1, 3) as usize, rng.range_i64(1, 3) as usize);
    let (dh, dw) = (rng.range_i64(1, 2) as usize, rng.range_i64(1, 2) as usize);
    let in_h = (kh - 1) * dh + rng.range_i64(1, 5) as usize;
    let in_w = (kw - 1) * dw + rng.range_i64(1, 5) as usize;
    let (sh, sw) = (rng.range_i64(1, 2) as usize, rng.range_i64(1, 3) as usize);
    [in_h, in_w, kh, kw, sh, sw, dh, dw]
}

#[test]
fn conv2d_s8_within_one_step_of_f32_conv2d_on_dequantized_weights() {
    let mut rng = SplitMix64::new(0xC2);
    let mut tally = (0, 0);
    for case in 0..40 {
        let batch = rng.range_i64(1, 2) as usize;
        let [in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w] =
            random_geometry(&mut rng);
        let (in_c, out_c) = (rng.range_i64(1, 4) as usize, rng.range_i64(1, 5) as usize);
        let padding = random_padding(&mut rng);
        let shape = Conv2dShape {
            batch,
            in_h,
            in_w,
            in_c,
            out_c,
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            padding,
        };
        let out_len = shape.output_len().unwrap();
        let t = agree(
            &mut rng,
            Axis::First,
            out_c,
            out_c * kernel_h * kernel_w * in_c,
            batch * in_h * in_w * in_c,
            out_len,
            |w, b, x, act, y| {
                let p = weights_then_bias(w, b);
                let layer = Conv2dConfig {
                    in_h,
                    in_w,
                    in_c,
                    out_c,
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                    dilation_h,
                    dilation_w,
                    padding,
                    bias: b.is_some(),
                }
                .init(&p[..])
                .unwrap();
                run_then_clamp(&layer, batch, x, act, y);
            },
            |q, input, output, act, x, y| {
                let config = Conv2dS8Config {
                    in_h,
                    in_w,
                    in_c,
                    out_c,
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                    dilation_h,
                    dilation_w,
                    padding,
                    input,
                    output,
                    act,
                };
                assert_eq!(config.output_hw().unwrap(), shape.output_hw().unwrap());
                let layer = config
                    .init(&q.weights, q.bias.as_deref(), &q.requant)
                    .unwrap();
                layer.forward(batch, x, y).unwrap();
            },
            &format!("conv2d case {case}"),
        );
        tally = (tally.0 + t.0, tally.1 + t.1);
    }
    assert_mostly_exact(tally, "conv2d");
}

#[test]
fn depthwise_s8_within_one_step_of_f32_depthwise_on_dequantized_weights() {
    let mut rng = SplitMix64::new(0xDE);
    let mut tally = (0, 0);
    for case in 0..40 {
        let batch = rng.range_i64(1, 2) as usize;
        let [in_h, in_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w] =
            random_geometry(&mut rng);
        let (in_c, multiplier) = (rng.range_i64(1, 4) as usize, rng.range_i64(1, 3) as usize);
        let padding = random_padding(&mut rng);
        let shape = DepthwiseConv2dShape {
            batch,
            in_h,
            in_w,
            in_c,
            multiplier,
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
            dilation_h,
            dilation_w,
            padding,
        };
        let out_c = in_c * multiplier;
        let out_len = shape.output_len().unwrap();
        let t = agree(
            &mut rng,
            Axis::Last,
            out_c,
            kernel_h * kernel_w * out_c,
            batch * in_h * in_w * in_c,
            out_len,
            |w, b, x, act, y| {
                let p = weights_then_bias(w, b);
                let layer = DepthwiseConv2dConfig {
                    in_h,
                    in_w,
                    in_c,
                    multiplier,
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                    dilation_h,
                    dilation_w,
                    padding,
                    bias: b.is_some(),
                }
                .init(&p[..])
                .unwrap();
                run_then_clamp(&layer, batch, x, act, y);
            },
            |q, input, output, act, x, y| {
                let layer = DepthwiseConv2dS8Config {
                    in_h,
                    in_w,
                    in_c,
                    multiplier,
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                    dilation_h,
                    dilation_w,
                    padding,
                    input,
                    output,
                    act,
                }
                .init(&q.weights, q.bias.as_deref(), &q.requant)
                .unwrap();
                layer.forward(batch, x, y).unwrap();
            },
            &format!("depthwise case {case}"),
        );
        tally = (tally.0 + t.0, tally.1 + t.1);
    }
    assert_mostly_exact(tally, "depthwise");
}

#[test]
fn dense_per_tensor_requant_equals_per_channel_bit_exact_when_scales_equal() {
    let mut rng = SplitMix64::new(0xE0);
    for _ in 0..20 {
        let (n_in, n_out) = (rng.range_i64(2, 30) as usize, rng.range_i64(2, 8) as usize);
        // Every row holds ±0.8 somewhere and nothing larger: all channel scales are 0.8 / 127.
        let mut w = rng.f32_vec(n_in * n_out, -0.8, 0.8);
        for row in w.chunks_exact_mut(n_in) {
            let j = rng.range_i64(0, n_in as i64 - 1) as usize;
            row[j] = if rng.range_i64(0, 1) == 0 { 0.8 } else { -0.8 };
        }
        let bias = rng.f32_vec(n_out, -1.0, 1.0);
        let input = random_params(&mut rng);
        let output = QuantParams {
            scale: rng.uniform(0.02, 0.2) as f32,
            zero_point: rng.range_i64(-20, 20) as i32,
        };
        let q = quantize_layer(Axis::First, &w, Some(&bias), n_out, input, output);
        assert!(q.scales.iter().all(|&s| s == q.scales[0]));
        assert!(q.requant.iter().all(|&r| r == q.requant[0]));
        let config = DenseS8Config {
            in_features: n_in,
            out_features: n_out,
            input,
            output,
            act: ActivationS8::NONE,
        };
        let b = q.bias.as_deref();
        let per_channel = config.init(&q.weights, b, &q.requant).unwrap();
        let per_tensor = config.init(&q.weights, b, &q.requant[..1]).unwrap();
        let batch = 3;
        let x = rng.i8_vec(batch * n_in);
        let (mut y1, mut y2) = (vec![0i8; batch * n_out], vec![1i8; batch * n_out]);
        per_channel.forward(batch, &x, &mut y1).unwrap();
        per_tensor.forward(batch, &x, &mut y2).unwrap();
        assert_eq!(y1, y2);
        assert!(spread(&y1) > 0, "outputs must not be constant");
    }
}
