//! f32 layers on target: forward, training forward and backward against the host's results.

use crate::check::{close, f32_case};
use defmt::{assert, unwrap};
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
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune_test_vectors as v;

pub fn dense() {
    use v::layer_dense_f32 as c;
    let mut params = c::PARAMS;
    let config = DenseConfig {
        in_features: c::IN_FEATURES,
        out_features: c::OUT_FEATURES,
        bias: true,
    };
    let mut layer = unwrap!(config.init(&mut params));
    f32_case!(layer_dense_f32, &mut layer);
}

pub fn conv1d() {
    use v::layer_conv1d_f32 as c;
    let mut params = c::PARAMS;
    let config = Conv1dConfig {
        len: c::LEN,
        in_c: c::IN_C,
        out_c: c::OUT_C,
        kernel: c::KERNEL,
        stride: c::STRIDE,
        dilation: c::DILATION,
        padding: Padding::Same,
        bias: true,
    };
    let mut layer = unwrap!(config.init(&mut params));
    f32_case!(layer_conv1d_f32, &mut layer);
}

pub fn conv2d() {
    use v::layer_conv2d_f32 as c;
    let mut params = c::PARAMS;
    let config = Conv2dConfig {
        in_h: c::IN_H,
        in_w: c::IN_W,
        in_c: c::IN_C,
        out_c: c::OUT_C,
        kernel_h: c::KERNEL,
        kernel_w: c::KERNEL,
        stride_h: c::STRIDE,
        stride_w: c::STRIDE,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    };
    let mut layer = unwrap!(config.init(&mut params));
    f32_case!(layer_conv2d_f32, &mut layer);
}

pub fn depthwise_conv2d() {
    use v::layer_depthwise_conv2d_f32 as c;
    let mut params = c::PARAMS;
    let config = DepthwiseConv2dConfig {
        in_h: c::IN_H,
        in_w: c::IN_W,
        in_c: c::IN_C,
        multiplier: c::MULTIPLIER,
        kernel_h: c::KERNEL,
        kernel_w: c::KERNEL,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    };
    let mut layer = unwrap!(config.init(&mut params));
    f32_case!(layer_depthwise_conv2d_f32, &mut layer);
}

/// The pool2d configuration of the f32 pooling cases (both modules share the geometry).
fn pool2d_config(kind: PoolKind) -> Pool2dConfig {
    use v::layer_pool2d_max_f32 as c;
    Pool2dConfig {
        kind,
        in_h: c::IN_H,
        in_w: c::IN_W,
        channels: c::CHANNELS,
        window_h: c::WINDOW_H,
        window_w: c::WINDOW_W,
        stride_h: c::STRIDE,
        stride_w: c::STRIDE,
        padding: Padding::Same,
    }
}

pub fn pool2d_max() {
    let mut layer = unwrap!(pool2d_config(PoolKind::Max).init());
    f32_case!(layer_pool2d_max_f32, &mut layer);
}

pub fn pool2d_avg() {
    let mut layer = unwrap!(pool2d_config(PoolKind::Avg).init());
    f32_case!(layer_pool2d_avg_f32, &mut layer);
}

/// The pool1d configuration of the f32 pooling cases (both modules share the geometry).
fn pool1d_config(kind: PoolKind) -> Pool1dConfig {
    use v::layer_pool1d_max_f32 as c;
    Pool1dConfig {
        kind,
        len: c::LEN,
        channels: c::CHANNELS,
        window: c::WINDOW,
        stride: c::STRIDE,
        padding: Padding::Same,
    }
}

pub fn pool1d_max() {
    let mut layer = unwrap!(pool1d_config(PoolKind::Max).init());
    f32_case!(layer_pool1d_max_f32, &mut layer);
}

pub fn pool1d_avg() {
    let mut layer = unwrap!(pool1d_config(PoolKind::Avg).init());
    f32_case!(layer_pool1d_avg_f32, &mut layer);
}

pub fn global_avg_pool() {
    use v::layer_global_avg_pool_f32 as c;
    let config = GlobalAvgPoolConfig {
        positions: c::POSITIONS,
        channels: c::CHANNELS,
    };
    let mut layer = unwrap!(config.init());
    f32_case!(layer_global_avg_pool_f32, &mut layer);
}

pub fn reshape() {
    use v::layer_reshape_f32 as c;
    let mut layer = unwrap!(ReshapeConfig { len: c::LEN }.init());
    f32_case!(layer_reshape_f32, &mut layer);
}

/// An activation layer of `kind` over the activation cases' length.
fn activation(kind: ActivationKind) -> tinytune::layers::activation::Activation {
    let len = v::layer_activation_relu_f32::LEN;
    unwrap!(ActivationConfig { kind, len }.init())
}

pub fn relu() {
    f32_case!(
        layer_activation_relu_f32,
        &mut activation(ActivationKind::Relu)
    );
}

pub fn relu6() {
    f32_case!(
        layer_activation_relu6_f32,
        &mut activation(ActivationKind::Relu6)
    );
}

pub fn leaky_relu() {
    let alpha = v::layer_activation_leaky_relu_f32::ALPHA;
    f32_case!(
        layer_activation_leaky_relu_f32,
        &mut activation(ActivationKind::LeakyRelu { alpha })
    );
}

pub fn sigmoid() {
    f32_case!(
        layer_activation_sigmoid_f32,
        &mut activation(ActivationKind::Sigmoid)
    );
}

pub fn tanh() {
    f32_case!(
        layer_activation_tanh_f32,
        &mut activation(ActivationKind::Tanh)
    );
}

pub fn gelu() {
    f32_case!(
        layer_activation_gelu_f32,
        &mut activation(ActivationKind::Gelu)
    );
}

pub fn softmax() {
    let depth = v::layer_activation_softmax_f32::DEPTH;
    f32_case!(
        layer_activation_softmax_f32,
        &mut activation(ActivationKind::Softmax { depth })
    );
}

/// Inference is the identity; the training mask drawn from `SeededRng(SEED)` drops exactly the
/// values the host's did (checked on the zero pattern, then on the values and gradients).
pub fn dropout() {
    use v::layer_dropout_f32 as c;
    let config = DropoutConfig {
        len: c::LEN,
        rate: c::RATE,
    };
    let mut layer = unwrap!(config.init());
    let mut out = [0f32; c::OUTPUT_LEN];
    unwrap!(layer.forward(c::BATCH, &c::INPUT, &mut out));
    assert!(out == c::INPUT, "inference is not the identity");
    let mut cache = [0f32; c::CACHE_LEN];
    let mut rng = SeededRng::seed_from_u64(c::SEED);
    unwrap!(layer.forward_train(c::BATCH, &c::INPUT, &mut out, &mut cache, &mut rng));
    for (i, (g, w)) in out.iter().zip(c::OUTPUT_TRAIN.iter()).enumerate() {
        assert!((*g == 0.0) == (*w == 0.0), "mask differs at element {}", i);
    }
    f32_case!(layer_dropout_f32, &mut layer);
}

/// Inference on the running statistics, training on the batch's, the updated running statistics,
/// and the training-mode backward.
pub fn batch_norm() {
    use v::layer_batch_norm_f32 as c;
    let mut params = c::PARAMS;
    let mut stats = c::STATS;
    let config = BatchNormConfig {
        positions: c::POSITIONS,
        channels: c::CHANNELS,
        eps: c::EPS,
        momentum: c::MOMENTUM,
    };
    let mut layer = unwrap!(config.init(&mut params, &mut stats));
    f32_case!(layer_batch_norm_f32, &mut layer);
    close("running stats", layer.stats(), &c::STATS_AFTER);
}

pub fn layer_norm() {
    use v::layer_layer_norm_f32 as c;
    let mut params = c::PARAMS;
    let config = LayerNormConfig {
        positions: c::POSITIONS,
        dim: c::DIM,
        eps: c::EPS,
    };
    let mut layer = unwrap!(config.init(&mut params));
    f32_case!(layer_layer_norm_f32, &mut layer);
}

/// Ids given as f32; the backward adds each output-gradient row into its id's table row.
pub fn embedding() {
    use v::layer_embedding_f32 as c;
    let mut params = c::PARAMS;
    let config = EmbeddingConfig {
        vocab: c::VOCAB,
        dim: c::DIM,
        seq_len: c::SEQ_LEN,
    };
    let mut layer = unwrap!(config.init(&mut params));
    assert!(layer.input_len() == c::SEQ_LEN);
    f32_case!(layer_embedding_f32, &mut layer);
}
