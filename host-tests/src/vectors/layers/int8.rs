//! int8 layer cases: random f32 weights quantized on the host with the `layers::s8` helpers (as
//! a converter would), the layer built from them and run on random int8 inputs.

use super::{dims, scalar_f32};
use crate::emit::Emitter;
use crate::rng::SplitMix64;
use tinytune::kernels::generic::activation::LeakyReluParamsS8;
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationF32, ActivationS8, Padding};
use tinytune::layers::s8::{
    activation_range_s8, quantize_conv_weights, quantize_dense_weights, quantize_depthwise_weights,
    ActivationKindS8, ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config,
    DepthwiseConv2dS8Config, GlobalAvgPoolS8Config, LayerS8, Pool1dS8Config, Pool2dS8Config,
    PoolKindS8,
};
use tinytune::num::quant::{QuantParams, Requantizer};

/// Samples per batch of every int8 case.
const BATCH: usize = 2;

/// Quantization of the weighted layers' input.
const INPUT: QuantParams = QuantParams {
    scale: 0.05,
    zero_point: -3,
};

/// Quantization of the weighted layers' output.
const OUTPUT: QuantParams = QuantParams {
    scale: 0.08,
    zero_point: 7,
};

/// The quantized parameters of a weighted layer.
struct Quantized {
    weights: Vec<i8>,
    bias: Vec<i32>,
    requant: Vec<Requantizer>,
}

/// Which converter helper quantizes a layer's weights.
#[derive(Clone, Copy)]
enum Layout {
    /// `[out, in]`: `quantize_dense_weights`.
    Dense,
    /// Output channel first: `quantize_conv_weights`.
    Conv,
    /// Output channel last: `quantize_depthwise_weights`.
    Depthwise,
}

/// Random f32 weights in `[-0.5, 0.5)` and biases in `[-1, 1)`, quantized per channel.
fn quantize(rng: &mut SplitMix64, layout: Layout, weights_len: usize, out_c: usize) -> Quantized {
    let wf = rng.f32_vec(weights_len, -0.5, 0.5);
    let bf = rng.f32_vec(out_c, -1.0, 1.0);
    let mut q = Quantized {
        weights: vec![0; weights_len],
        bias: vec![0; out_c],
        requant: vec![Requantizer::ZERO; out_c],
    };
    let mut scales = vec![0.0; out_c];
    let f = match layout {
        Layout::Dense => quantize_dense_weights,
        Layout::Conv => quantize_conv_weights,
        Layout::Depthwise => quantize_depthwise_weights,
    };
    f(
        &wf,
        Some(&bf),
        out_c,
        INPUT,
        OUTPUT,
        &mut q.weights,
        &mut q.bias,
        &mut q.requant,
        &mut scales,
    )
    .expect("quantizable weights");
    q
}

/// Runs an int8 layer on `BATCH` random inputs; returns the input and the output.
fn run<L: LayerS8>(rng: &mut SplitMix64, layer: &L) -> (Vec<i8>, Vec<i8>) {
    let input = rng.i8_vec(BATCH * layer.input_len());
    let mut output = vec![0; BATCH * layer.output_len()];
    layer
        .forward(BATCH, &input, &mut output)
        .expect("valid forward");
    (input, output)
}

/// Writes a weighted case: quantization, clamp, input, parameters and output.
fn emit_weighted(e: &mut Emitter, act: ActivationS8, q: &Quantized, io: (Vec<i8>, Vec<i8>)) {
    e.scalar("BATCH", "usize", BATCH);
    emit_quant(e, "IN", INPUT);
    emit_quant(e, "OUT", OUTPUT);
    e.scalar("ACT_MIN", "i8", act.min);
    e.scalar("ACT_MAX", "i8", act.max);
    e.array("INPUT", "i8", &io.0);
    e.array("WEIGHTS", "i8", &q.weights);
    e.array("BIAS", "i32", &q.bias);
    let m: Vec<i32> = q.requant.iter().map(|r| r.multiplier).collect();
    let s: Vec<i32> = q.requant.iter().map(|r| r.shift).collect();
    e.array("MULTIPLIERS", "i32", &m);
    e.array("SHIFTS", "i32", &s);
    e.array("OUTPUT", "i8", &io.1);
}

/// `PREFIX_SCALE` and `PREFIX_ZP`.
fn emit_quant(e: &mut Emitter, prefix: &str, q: QuantParams) {
    scalar_f32(e, &format!("{prefix}_SCALE"), q.scale);
    e.scalar(&format!("{prefix}_ZP"), "i32", q.zero_point);
}

fn dense(e: &mut Emitter, rng: &mut SplitMix64) {
    let (inf, outf) = (12, 5);
    let q = quantize(rng, Layout::Dense, inf * outf, outf);
    let act = activation_range_s8(ActivationF32::NONE, OUTPUT).expect("valid range");
    let config = DenseS8Config {
        in_features: inf,
        out_features: outf,
        input: INPUT,
        output: OUTPUT,
        act,
    };
    let layer = config
        .init(&q.weights, Some(&q.bias), &q.requant)
        .expect("valid dense");
    let io = run(rng, &layer);
    e.open(
        "layer_dense_s8",
        "DenseS8 12 -> 5, per-channel, bias, no clamp, batch 2",
    );
    dims(e, &[("IN_FEATURES", inf), ("OUT_FEATURES", outf)]);
    emit_weighted(e, act, &q, io);
    e.close();
}

fn conv1d(e: &mut Emitter, rng: &mut SplitMix64) {
    let (len, in_c, out_c, kernel) = (9, 2, 3, 3);
    let q = quantize(rng, Layout::Conv, out_c * kernel * in_c, out_c);
    let act = activation_range_s8(ActivationF32::RELU, OUTPUT).expect("valid range");
    let config = Conv1dS8Config {
        len,
        in_c,
        out_c,
        kernel,
        stride: 1,
        dilation: 2,
        padding: Padding::Same,
        input: INPUT,
        output: OUTPUT,
        act,
    };
    let layer = config
        .init(&q.weights, Some(&q.bias), &q.requant)
        .expect("valid conv1d");
    let io = run(rng, &layer);
    e.open(
        "layer_conv1d_s8",
        "Conv1dS8, length 9, 2 -> 3 channels, kernel 3, dilation 2, SAME, ReLU, batch 2",
    );
    dims(
        e,
        &[
            ("LEN", len),
            ("IN_C", in_c),
            ("OUT_C", out_c),
            ("KERNEL", kernel),
            ("DILATION", 2),
        ],
    );
    emit_weighted(e, act, &q, io);
    e.close();
}

fn conv2d(e: &mut Emitter, rng: &mut SplitMix64) {
    let (in_h, in_w, in_c, out_c, k) = (5, 6, 2, 3, 3);
    let q = quantize(rng, Layout::Conv, out_c * k * k * in_c, out_c);
    let act = activation_range_s8(ActivationF32::RELU6, OUTPUT).expect("valid range");
    let config = Conv2dS8Config {
        in_h,
        in_w,
        in_c,
        out_c,
        kernel_h: k,
        kernel_w: k,
        stride_h: 2,
        stride_w: 2,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: INPUT,
        output: OUTPUT,
        act,
    };
    let layer = config
        .init(&q.weights, Some(&q.bias), &q.requant)
        .expect("valid conv2d");
    let io = run(rng, &layer);
    e.open(
        "layer_conv2d_s8",
        "Conv2dS8 5x6x2 -> 3 channels, kernel 3x3, stride 2, SAME, ReLU6, batch 2",
    );
    dims(
        e,
        &[
            ("IN_H", in_h),
            ("IN_W", in_w),
            ("IN_C", in_c),
            ("OUT_C", out_c),
            ("KERNEL", k),
            ("STRIDE", 2),
        ],
    );
    emit_weighted(e, act, &q, io);
    e.close();
}

fn depthwise(e: &mut Emitter, rng: &mut SplitMix64) {
    let (in_h, in_w, in_c, mult, k) = (5, 4, 2, 2, 3);
    let q = quantize(rng, Layout::Depthwise, k * k * in_c * mult, in_c * mult);
    let act = activation_range_s8(ActivationF32::NONE, OUTPUT).expect("valid range");
    let config = DepthwiseConv2dS8Config {
        in_h,
        in_w,
        in_c,
        multiplier: mult,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: INPUT,
        output: OUTPUT,
        act,
    };
    let layer = config
        .init(&q.weights, Some(&q.bias), &q.requant)
        .expect("valid depthwise");
    let io = run(rng, &layer);
    e.open(
        "layer_depthwise_conv2d_s8",
        "DepthwiseConv2dS8 5x4x2, multiplier 2, kernel 3x3, stride 1, SAME, batch 2",
    );
    dims(
        e,
        &[
            ("IN_H", in_h),
            ("IN_W", in_w),
            ("IN_C", in_c),
            ("MULTIPLIER", mult),
            ("KERNEL", k),
        ],
    );
    emit_weighted(e, act, &q, io);
    e.close();
}

/// Writes a case without parameters: clamp, input, output.
fn emit_plain(e: &mut Emitter, act: ActivationS8, io: (Vec<i8>, Vec<i8>)) {
    e.scalar("BATCH", "usize", BATCH);
    e.scalar("ACT_MIN", "i8", act.min);
    e.scalar("ACT_MAX", "i8", act.max);
    e.array("INPUT", "i8", &io.0);
    e.array("OUTPUT", "i8", &io.1);
}

fn pools(e: &mut Emitter, rng: &mut SplitMix64) {
    for (name, kind, act) in [
        (
            "layer_pool2d_max_s8",
            PoolKindS8::Max,
            ActivationS8 {
                min: -100,
                max: 100,
            },
        ),
        ("layer_pool2d_avg_s8", PoolKindS8::Avg, ActivationS8::NONE),
    ] {
        let config = Pool2dS8Config {
            in_h: 5,
            in_w: 6,
            channels: 2,
            window_h: 3,
            window_w: 2,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Same,
            kind,
            act,
        };
        let io = run(rng, &config.init().expect("valid pool2d"));
        e.open(
            name,
            "Pool2dS8 5x6x2, window 3x2, stride 2, SAME (padding excluded), batch 2",
        );
        dims(
            e,
            &[
                ("IN_H", 5),
                ("IN_W", 6),
                ("CHANNELS", 2),
                ("WINDOW_H", 3),
                ("WINDOW_W", 2),
                ("STRIDE", 2),
            ],
        );
        emit_plain(e, act, io);
        e.close();
    }
    for (name, kind, act) in [
        ("layer_pool1d_max_s8", PoolKindS8::Max, ActivationS8::NONE),
        (
            "layer_pool1d_avg_s8",
            PoolKindS8::Avg,
            ActivationS8 { min: -64, max: 64 },
        ),
    ] {
        let config = Pool1dS8Config {
            len: 9,
            channels: 3,
            window: 3,
            stride: 2,
            padding: Padding::Same,
            kind,
            act,
        };
        let io = run(rng, &config.init().expect("valid pool1d"));
        e.open(
            name,
            "Pool1dS8, length 9, 3 channels, window 3, stride 2, SAME, batch 2",
        );
        dims(
            e,
            &[("LEN", 9), ("CHANNELS", 3), ("WINDOW", 3), ("STRIDE", 2)],
        );
        emit_plain(e, act, io);
        e.close();
    }
    let act = ActivationS8::NONE;
    let config = GlobalAvgPoolS8Config {
        spatial: 6,
        channels: 3,
        act,
    };
    let io = run(rng, &config.init().expect("valid global pool"));
    e.open(
        "layer_global_avg_pool_s8",
        "GlobalAvgPoolS8, 6 positions, 3 channels, batch 2",
    );
    dims(e, &[("SPATIAL", 6), ("CHANNELS", 3)]);
    emit_plain(e, act, io);
    e.close();
}

fn activations(e: &mut Emitter, rng: &mut SplitMix64) {
    let (len, depth, alpha, beta) = (16, 8, 0.1f32, 1.0f32);
    let input = QuantParams {
        scale: 0.05,
        zero_point: 3,
    };
    let output = QuantParams {
        scale: 0.04,
        zero_point: -10,
    };
    let leaky = LeakyReluParamsS8::new(
        input.scale,
        input.zero_point,
        alpha,
        output.scale,
        output.zero_point,
    )
    .expect("valid leaky relu");
    let softmax = SoftmaxParamsS8::new(input.scale, beta).expect("valid softmax");
    let kinds = [
        (
            "layer_activation_relu_s8",
            ActivationKindS8::Relu { quant: input },
        ),
        (
            "layer_activation_relu6_s8",
            ActivationKindS8::Relu6 { quant: input },
        ),
        (
            "layer_activation_leaky_relu_s8",
            ActivationKindS8::LeakyRelu(leaky),
        ),
        (
            "layer_activation_sigmoid_s8",
            ActivationKindS8::Sigmoid { input },
        ),
        ("layer_activation_tanh_s8", ActivationKindS8::Tanh { input }),
        (
            "layer_activation_gelu_s8",
            ActivationKindS8::Gelu { input, output },
        ),
        (
            "layer_activation_softmax_s8",
            ActivationKindS8::Softmax {
                params: softmax,
                depth,
            },
        ),
    ];
    for (name, kind) in kinds {
        let layer = ActivationS8Config { len, kind }
            .init()
            .expect("valid activation");
        let io = run(rng, &layer);
        e.open(
            name,
            "ActivationS8Layer over 16 values; the device rebuilds the kind (tables, leaky and \
             softmax parameters) from the scalars here. Batch 2",
        );
        dims(e, &[("LEN", len), ("DEPTH", depth)]);
        emit_quant(e, "IN", input);
        emit_quant(e, "OUT", output);
        scalar_f32(e, "ALPHA", alpha);
        scalar_f32(e, "BETA", beta);
        e.scalar("BATCH", "usize", BATCH);
        e.array("INPUT", "i8", &io.0);
        e.array("OUTPUT", "i8", &io.1);
        e.close();
    }
}

/// Appends the int8 layer cases to `e`.
pub fn emit(e: &mut Emitter, rng: &mut SplitMix64) {
    dense(e, rng);
    conv1d(e, rng);
    conv2d(e, rng);
    depthwise(e, rng);
    pools(e, rng);
    activations(e, rng);
}
