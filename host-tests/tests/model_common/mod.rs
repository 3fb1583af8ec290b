//! Shared helpers of the model tests: aligned buffers, and models that use every op kind.
#![allow(dead_code)]

use tinytune::data::preprocess::{Scaler, ScalerKind};
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::batch_norm::BatchNormConfig;
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2dConfig, PoolKind};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::s8::{
    ActivationKindS8, ActivationS8Config, Conv1dS8Config, Conv2dS8Config, DenseS8Config,
    DepthwiseConv2dS8Config, GlobalAvgPoolS8Config, Pool1dS8Config, Pool2dS8Config, PoolKindS8,
};
use tinytune::model::{Aligned, Meta, Op, TensorsS8};
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune_host_tests::rng::SplitMix64;

/// Capacity of an [`AlignedBuf`].
pub const CAP: usize = 1 << 16;

/// A heap buffer at an 8-byte aligned address.
pub struct AlignedBuf {
    inner: Box<Aligned<[u8; CAP]>>,
    pub len: usize,
}

impl AlignedBuf {
    pub fn zeroed(len: usize) -> Self {
        assert!(len <= CAP);
        AlignedBuf {
            inner: Box::new(Aligned([0; CAP])),
            len,
        }
    }
    pub fn from(bytes: &[u8]) -> Self {
        let mut b = Self::zeroed(bytes.len());
        b.bytes_mut().copy_from_slice(bytes);
        b
    }
    pub fn bytes(&self) -> &[u8] {
        &self.inner.0[..self.len]
    }
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.inner.0[..self.len]
    }
    /// The whole capacity (to write with a slack, or to shift by one byte).
    pub fn all(&self) -> &[u8] {
        &self.inner.0[..]
    }
}

/// Leaks a vector: the ops of a test model borrow for `'static`.
pub fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

pub fn q(scale: f32, zero_point: i32) -> QuantParams {
    QuantParams::new(scale, zero_point).unwrap()
}

/// Requantizer pairs for `n` channels, multipliers around `real`.
pub fn requant(rng: &mut SplitMix64, n: usize, real: f64) -> &'static [i32] {
    let mut v = Vec::new();
    for _ in 0..n {
        let r = Requantizer::from_real(real * rng.uniform(0.5, 1.5)).unwrap();
        v.push(r.multiplier);
        v.push(r.shift);
    }
    leak(v)
}

pub fn f32s(rng: &mut SplitMix64, n: usize) -> &'static [f32] {
    leak(rng.f32_vec(n, -1.0, 1.0))
}

/// Positive values (batch-norm variances).
pub fn positive(rng: &mut SplitMix64, n: usize) -> &'static [f32] {
    leak(rng.f32_vec(n, 0.5, 2.0))
}

pub fn tensors_s8(
    rng: &mut SplitMix64,
    weights: usize,
    channels: usize,
    bias: bool,
    per_channel: bool,
) -> TensorsS8<'static> {
    let b: Vec<i32> = (0..channels)
        .map(|_| rng.range_i64(-300, 300) as i32)
        .collect();
    TensorsS8 {
        weights: leak(rng.i8_vec(weights)),
        bias: if bias { Some(leak(b)) } else { None },
        requant: requant(rng, if per_channel { channels } else { 1 }, 0.004),
    }
}

fn conv2d(in_h: usize, in_w: usize, in_c: usize, out_c: usize, k: usize) -> Conv2dConfig {
    Conv2dConfig {
        in_h,
        in_w,
        in_c,
        out_c,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    }
}

fn act(kind: ActivationKind, len: usize) -> Op<'static> {
    Op::Activation(ActivationConfig { kind, len })
}

/// f32 part of the all-kinds model: `[4, 4, 2]` image (32 values) in, 8 values out.
pub fn f32_ops(rng: &mut SplitMix64) -> Vec<Op<'static>> {
    let c2 = conv2d(4, 4, 2, 3, 3);
    let dw = DepthwiseConv2dConfig {
        in_h: 4,
        in_w: 4,
        in_c: 3,
        multiplier: 1,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        bias: true,
    };
    let bn = BatchNormConfig::new(16, 3);
    let mut bn_stats = f32s(rng, 3).to_vec();
    bn_stats.extend_from_slice(positive(rng, 3));
    let c1 = Conv1dConfig {
        len: 4,
        in_c: 3,
        out_c: 2,
        kernel: 2,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        bias: true,
    };
    let ln = LayerNormConfig::new(1, 2);
    let dense = DenseConfig {
        in_features: 2,
        out_features: 8,
        bias: true,
    };
    vec![
        Op::Conv2d(c2, f32s(rng, c2.param_len().unwrap())),
        Op::DepthwiseConv2d(dw, f32s(rng, dw.param_len().unwrap())),
        Op::BatchNorm(bn, positive(rng, 6), leak(bn_stats)),
        Op::Pool2d(Pool2dConfig {
            kind: PoolKind::Max,
            in_h: 4,
            in_w: 4,
            channels: 3,
            window_h: 2,
            window_w: 2,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Valid,
        }),
        act(ActivationKind::Relu, 12),
        act(ActivationKind::Relu6, 12),
        act(ActivationKind::LeakyRelu { alpha: 0.1 }, 12),
        act(ActivationKind::Gelu, 12),
        Op::Reshape(ReshapeConfig { len: 12 }),
        Op::Conv1d(c1, f32s(rng, c1.param_len().unwrap())),
        Op::Pool1d(Pool1dConfig {
            kind: PoolKind::Avg,
            len: 3,
            channels: 2,
            window: 2,
            stride: 1,
            padding: Padding::Valid,
        }),
        Op::GlobalAvgPool(GlobalAvgPoolConfig {
            positions: 2,
            channels: 2,
        }),
        Op::LayerNorm(ln, f32s(rng, ln.param_len().unwrap())),
        Op::Dense(dense, f32s(rng, dense.param_len().unwrap())),
        act(ActivationKind::Tanh, 8),
    ]
}

/// int8 part: 8 f32 values in (quantized here), 4 f32 values out (dequantized).
pub fn s8_ops(rng: &mut SplitMix64) -> Vec<Op<'static>> {
    let qa = q(0.02, -3);
    let qb = q(0.05, 4);
    let c2 = Conv2dS8Config {
        in_h: 2,
        in_w: 2,
        in_c: 2,
        out_c: 2,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: qa,
        output: qb,
        act: ActivationS8::NONE,
    };
    let dw = DepthwiseConv2dS8Config {
        in_h: 2,
        in_w: 2,
        in_c: 2,
        multiplier: 1,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: qb,
        output: qa,
        act: ActivationS8 {
            min: -100,
            max: 120,
        },
    };
    let c1 = Conv1dS8Config {
        len: 4,
        in_c: 2,
        out_c: 2,
        kernel: 1,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        input: qa,
        output: qb,
        act: ActivationS8::NONE,
    };
    let dense = DenseS8Config {
        in_features: 2,
        out_features: 4,
        input: qb,
        output: qa,
        act: ActivationS8::NONE,
    };
    let s8act = |kind| Op::ActivationS8(ActivationS8Config { len: 2, kind });
    vec![
        Op::Quantize { len: 8, params: qa },
        Op::Conv2dS8(c2, tensors_s8(rng, 16, 2, true, true)),
        Op::DepthwiseConv2dS8(dw, tensors_s8(rng, 8, 2, false, false)),
        Op::Pool2dS8(Pool2dS8Config {
            in_h: 2,
            in_w: 2,
            channels: 2,
            window_h: 2,
            window_w: 2,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
            kind: PoolKindS8::Max,
            act: ActivationS8::NONE,
        }),
        Op::Conv1dS8(c1, tensors_s8(rng, 4, 2, true, false)),
        Op::Pool1dS8(Pool1dS8Config {
            len: 4,
            channels: 2,
            window: 2,
            stride: 2,
            padding: Padding::Valid,
            kind: PoolKindS8::Avg,
            act: ActivationS8::NONE,
        }),
        Op::GlobalAvgPoolS8(GlobalAvgPoolS8Config {
            spatial: 2,
            channels: 2,
            act: ActivationS8::NONE,
        }),
        s8act(ActivationKindS8::Relu { quant: qb }),
        s8act(ActivationKindS8::Relu6 { quant: qb }),
        s8act(ActivationKindS8::Gelu {
            input: qb,
            output: qb,
        }),
        s8act(ActivationKindS8::Tanh { input: qb }),
        s8act(ActivationKindS8::Sigmoid {
            input: q(1.0 / 128.0, 0),
        }),
        Op::Reshape(ReshapeConfig { len: 2 }),
        Op::DenseS8(dense, tensors_s8(rng, 8, 4, true, true)),
        Op::ActivationS8(ActivationS8Config {
            len: 4,
            kind: ActivationKindS8::Softmax {
                params: SoftmaxParamsS8::new(0.02, 1.0).unwrap(),
                depth: 4,
            },
        }),
        Op::Dequantize {
            len: 4,
            params: q(1.0 / 256.0, -128),
        },
        act(ActivationKind::Sigmoid, 4),
        act(ActivationKind::Softmax { depth: 2 }, 4),
    ]
}

/// A model using every op kind except embedding: 32 f32 in, 4 out.
pub fn all_kinds(seed: u64) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let mut ops = f32_ops(&mut rng);
    ops.extend(s8_ops(&mut rng));
    ops
}

/// Embedding (5 × 3 table, 2 ids) then dense to 3 classes.
pub fn embedding_model(seed: u64) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let e = EmbeddingConfig {
        vocab: 5,
        dim: 3,
        seq_len: 2,
    };
    let d = DenseConfig {
        in_features: 6,
        out_features: 3,
        bias: false,
    };
    vec![
        Op::Embedding(e, f32s(&mut rng, 15)),
        Op::Dense(d, f32s(&mut rng, 18)),
    ]
}

/// A standard scaler over `features` values.
pub fn scaler(rng: &mut SplitMix64, features: usize) -> Scaler<'static> {
    let mut p = rng.f32_vec(features, -0.5, 0.5);
    p.extend(rng.f32_vec(features, 0.5, 2.0));
    Scaler::new(ScalerKind::Standard, features, leak(p)).unwrap()
}

/// Writes `ops` with `meta` into an aligned buffer.
pub fn encode(ops: &[Op<'_>], meta: &Meta<'_>) -> AlignedBuf {
    let len = tinytune::model::encoded_len(ops, meta).unwrap();
    let mut buf = AlignedBuf::zeroed(len);
    assert_eq!(
        tinytune::model::write(ops, meta, buf.bytes_mut()).unwrap(),
        len
    );
    buf
}
