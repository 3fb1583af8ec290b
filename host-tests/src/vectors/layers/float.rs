//! f32 layer cases: each layer built on the host from random parameters, run forward, in
//! training mode and backward (see [`run_f32`](super::run_f32)).

use super::{dims, emit_f32_run, run_f32, scalar_f32};
use crate::emit::Emitter;
use crate::rng::SplitMix64;
use tinytune::kernels::Padding;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::batch_norm::BatchNormConfig;
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::dropout::DropoutConfig;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig, PoolKind};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::Layer;

/// Samples per batch of every f32 case but batch norm's.
const BATCH: usize = 2;

/// Runs `layer` on `BATCH` random inputs in `[lo, hi)` and writes the case.
fn layer_case<L: Layer>(
    e: &mut Emitter,
    rng: &mut SplitMix64,
    layer: &mut L,
    params: &[f32],
    (lo, hi): (f64, f64),
) {
    let input = rng.f32_vec(BATCH * layer.input_len(), lo, hi);
    let seed = rng.next_u64();
    let r = run_f32(layer, BATCH, &input, seed, rng);
    emit_f32_run(e, BATCH, seed, &input, params, &r);
}

fn dense(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = DenseConfig {
        in_features: 7,
        out_features: 5,
        bias: true,
    };
    let mut params = rng.f32_vec(config.param_len().expect("small"), -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid dense");
    e.open("layer_dense_f32", "Dense 7 -> 5 with bias, batch 2");
    dims(e, &[("IN_FEATURES", 7), ("OUT_FEATURES", 5)]);
    layer_case(e, rng, &mut layer, &before, (-1.0, 1.0));
    e.close();
}

fn conv1d(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = Conv1dConfig {
        len: 9,
        in_c: 2,
        out_c: 3,
        kernel: 3,
        stride: 1,
        dilation: 2,
        padding: Padding::Same,
        bias: true,
    };
    let mut params = rng.f32_vec(config.param_len().expect("small"), -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid conv1d");
    e.open(
        "layer_conv1d_f32",
        "Conv1d, length 9, 2 -> 3 channels, kernel 3, dilation 2, SAME, bias, batch 2",
    );
    dims(
        e,
        &[
            ("LEN", 9),
            ("IN_C", 2),
            ("OUT_C", 3),
            ("KERNEL", 3),
            ("STRIDE", 1),
            ("DILATION", 2),
        ],
    );
    layer_case(e, rng, &mut layer, &before, (-1.0, 1.0));
    e.close();
}

fn conv2d(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = Conv2dConfig {
        in_h: 5,
        in_w: 6,
        in_c: 2,
        out_c: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 2,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    };
    let mut params = rng.f32_vec(config.param_len().expect("small"), -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid conv2d");
    e.open(
        "layer_conv2d_f32",
        "Conv2d 5x6x2 -> 3 channels, kernel 3x3, stride 2, SAME, bias, batch 2",
    );
    dims(
        e,
        &[
            ("IN_H", 5),
            ("IN_W", 6),
            ("IN_C", 2),
            ("OUT_C", 3),
            ("KERNEL", 3),
            ("STRIDE", 2),
        ],
    );
    layer_case(e, rng, &mut layer, &before, (-1.0, 1.0));
    e.close();
}

fn depthwise(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = DepthwiseConv2dConfig {
        in_h: 5,
        in_w: 4,
        in_c: 2,
        multiplier: 2,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    };
    let mut params = rng.f32_vec(config.param_len().expect("small"), -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid depthwise");
    e.open(
        "layer_depthwise_conv2d_f32",
        "DepthwiseConv2d 5x4x2, multiplier 2, kernel 3x3, stride 1, SAME, bias, batch 2",
    );
    dims(
        e,
        &[
            ("IN_H", 5),
            ("IN_W", 4),
            ("IN_C", 2),
            ("MULTIPLIER", 2),
            ("KERNEL", 3),
        ],
    );
    layer_case(e, rng, &mut layer, &before, (-1.0, 1.0));
    e.close();
}

fn pool2d(e: &mut Emitter, rng: &mut SplitMix64, kind: PoolKind, name: &str) {
    let config = Pool2dConfig {
        kind,
        in_h: 5,
        in_w: 6,
        channels: 2,
        window_h: 3,
        window_w: 2,
        stride_h: 2,
        stride_w: 2,
        padding: Padding::Same,
    };
    let mut layer = config.init().expect("valid pool2d");
    e.open(
        name,
        "Pool2d 5x6x2, window 3x2, stride 2, SAME (padding excluded), batch 2",
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
    layer_case(e, rng, &mut layer, &[], (-2.0, 2.0));
    e.close();
}

fn pool1d(e: &mut Emitter, rng: &mut SplitMix64, kind: PoolKind, name: &str) {
    let config = Pool1dConfig {
        kind,
        len: 9,
        channels: 3,
        window: 3,
        stride: 2,
        padding: Padding::Same,
    };
    let mut layer = config.init().expect("valid pool1d");
    e.open(
        name,
        "Pool1d, length 9, 3 channels, window 3, stride 2, SAME, batch 2",
    );
    dims(
        e,
        &[("LEN", 9), ("CHANNELS", 3), ("WINDOW", 3), ("STRIDE", 2)],
    );
    layer_case(e, rng, &mut layer, &[], (-2.0, 2.0));
    e.close();
}

fn global_and_reshape(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = GlobalAvgPoolConfig {
        positions: 6,
        channels: 3,
    };
    let mut layer = config.init().expect("valid global pool");
    e.open(
        "layer_global_avg_pool_f32",
        "GlobalAvgPool, 6 positions, 3 channels, batch 2",
    );
    dims(e, &[("POSITIONS", 6), ("CHANNELS", 3)]);
    layer_case(e, rng, &mut layer, &[], (-2.0, 2.0));
    e.close();

    let mut layer = ReshapeConfig { len: 10 }.init().expect("valid reshape");
    e.open("layer_reshape_f32", "Reshape of 10 values, batch 2");
    dims(e, &[("LEN", 10)]);
    layer_case(e, rng, &mut layer, &[], (-2.0, 2.0));
    e.close();
}

fn activations(e: &mut Emitter, rng: &mut SplitMix64) {
    let len = 12;
    let kinds = [
        ("layer_activation_relu_f32", ActivationKind::Relu),
        ("layer_activation_relu6_f32", ActivationKind::Relu6),
        (
            "layer_activation_leaky_relu_f32",
            ActivationKind::LeakyRelu { alpha: 0.1 },
        ),
        ("layer_activation_sigmoid_f32", ActivationKind::Sigmoid),
        ("layer_activation_tanh_f32", ActivationKind::Tanh),
        ("layer_activation_gelu_f32", ActivationKind::Gelu),
        (
            "layer_activation_softmax_f32",
            ActivationKind::Softmax { depth: 4 },
        ),
    ];
    for (name, kind) in kinds {
        let mut layer = ActivationConfig { kind, len }
            .init()
            .expect("valid activation");
        e.open(
            name,
            "Activation over 12 values (leaky alpha 0.1, softmax depth 4), inputs in [-8, 8), batch 2",
        );
        dims(e, &[("LEN", len), ("DEPTH", 4)]);
        scalar_f32(e, "ALPHA", 0.1);
        layer_case(e, rng, &mut layer, &[], (-8.0, 8.0));
        e.close();
    }
}

fn dropout(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = DropoutConfig {
        len: 16,
        rate: 0.25,
    };
    let mut layer = config.init().expect("valid dropout");
    e.open(
        "layer_dropout_f32",
        "Dropout rate 0.25 over 16 values, batch 2; the mask comes from SeededRng(SEED)",
    );
    dims(e, &[("LEN", 16)]);
    scalar_f32(e, "RATE", 0.25);
    layer_case(e, rng, &mut layer, &[], (-2.0, 2.0));
    e.close();
}

fn batch_norm(e: &mut Emitter, rng: &mut SplitMix64) {
    let (batch, positions, channels) = (3, 2, 3);
    let config = BatchNormConfig::new(positions, channels);
    let mut params = rng.f32_vec(2 * channels, -1.0, 1.0);
    let mut stats = rng.f32_vec(channels, -1.0, 1.0);
    stats.extend(rng.f32_vec(channels, 0.5, 2.0));
    let (params_before, stats_before) = (params.clone(), stats.clone());
    let mut layer = config
        .init(&mut params[..], &mut stats[..])
        .expect("valid batch norm");
    let input = rng.f32_vec(batch * positions * channels, -2.0, 2.0);
    let seed = rng.next_u64();
    let r = run_f32(&mut layer, batch, &input, seed, rng);
    let stats_after = layer.stats().to_vec();
    e.open(
        "layer_batch_norm_f32",
        "BatchNorm, 2 positions x 3 channels, batch 3, eps 1e-5, momentum 0.1; \
         forward on the running stats, forward_train updates them",
    );
    dims(e, &[("POSITIONS", positions), ("CHANNELS", channels)]);
    scalar_f32(e, "EPS", config.eps);
    scalar_f32(e, "MOMENTUM", config.momentum);
    e.array_f32("STATS", &stats_before);
    e.array_f32("STATS_AFTER", &stats_after);
    emit_f32_run(e, batch, seed, &input, &params_before, &r);
    e.close();
}

fn layer_norm(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = LayerNormConfig::new(2, 5);
    let mut params = rng.f32_vec(10, -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid layer norm");
    e.open(
        "layer_layer_norm_f32",
        "LayerNorm, 2 rows of 5 per sample, eps 1e-5, batch 2",
    );
    dims(e, &[("POSITIONS", 2), ("DIM", 5)]);
    scalar_f32(e, "EPS", config.eps);
    layer_case(e, rng, &mut layer, &before, (-2.0, 2.0));
    e.close();
}

fn embedding(e: &mut Emitter, rng: &mut SplitMix64) {
    let config = EmbeddingConfig {
        vocab: 6,
        dim: 3,
        seq_len: 4,
    };
    let mut params = rng.f32_vec(18, -1.0, 1.0);
    let before = params.clone();
    let mut layer = config.init(&mut params[..]).expect("valid embedding");
    // Ids as f32; 8 draws from 6 ids repeat some, so the table gradient accumulates.
    let input: Vec<f32> = (0..BATCH * 4).map(|_| rng.range_i64(0, 5) as f32).collect();
    let seed = rng.next_u64();
    let r = run_f32(&mut layer, BATCH, &input, seed, rng);
    e.open(
        "layer_embedding_f32",
        "Embedding, vocab 6, dim 3, 4 ids per sample (as f32), batch 2",
    );
    dims(e, &[("VOCAB", 6), ("DIM", 3), ("SEQ_LEN", 4)]);
    emit_f32_run(e, BATCH, seed, &input, &before, &r);
    e.close();
}

/// Appends the f32 layer cases to `e`.
pub fn emit(e: &mut Emitter, rng: &mut SplitMix64) {
    dense(e, rng);
    conv1d(e, rng);
    conv2d(e, rng);
    depthwise(e, rng);
    pool2d(e, rng, PoolKind::Max, "layer_pool2d_max_f32");
    pool2d(e, rng, PoolKind::Avg, "layer_pool2d_avg_f32");
    pool1d(e, rng, PoolKind::Max, "layer_pool1d_max_f32");
    pool1d(e, rng, PoolKind::Avg, "layer_pool1d_avg_f32");
    global_and_reshape(e, rng);
    activations(e, rng);
    dropout(e, rng);
    batch_norm(e, rng);
    layer_norm(e, rng);
    embedding(e, rng);
}
