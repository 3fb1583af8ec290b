//! Transformer models for the model tests: a per-position embedding (kernel-1 convolution), a
//! positional encoding, one encoder block, mean pooling over the positions and a dense head; in
//! f32 and in int8. Needs `mod model_common;` next to it.
#![allow(dead_code)]

use crate::model_common::{f32s, leak, q, requant};
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::attention::{
    SequenceConfig, SinusoidalEncodingConfig, TransformerEncoderConfig,
};
use tinytune::layers::conv::Conv1dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::pool::GlobalAvgPoolConfig;
use tinytune::layers::s8::attention::{
    encoder_f32_param_len, encoder_s8_storage_len, quantize_encoder, EncoderRanges,
    EncoderS8Storage, EncoderShapeS8, PositionalAddS8Config, TransformerEncoderS8Config,
};
use tinytune::layers::s8::{Conv1dS8Config, DenseS8Config, GlobalAvgPoolS8Config};
use tinytune::model::{EncoderTensorsS8, Op, TensorsS8};
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune_host_tests::rng::SplitMix64;

/// The shape of a test transformer.
#[derive(Clone, Copy, Debug)]
pub struct Dims {
    /// Positions.
    pub seq: usize,
    /// Features per position in the input.
    pub features: usize,
    /// Model width.
    pub width: usize,
    /// Attention heads.
    pub heads: usize,
    /// Feed-forward width.
    pub ff: usize,
    /// Outputs.
    pub classes: usize,
    /// Causal attention.
    pub causal: bool,
}

/// The model of the run tests: seq 8, 8 features, width 16, 2 heads, ff 32, 10 classes.
pub const MAIN: Dims = Dims {
    seq: 8,
    features: 8,
    width: 16,
    heads: 2,
    ff: 32,
    classes: 10,
    causal: false,
};

/// A small causal one, for the mutation tests (a short file).
pub const SMALL: Dims = Dims {
    seq: 4,
    features: 3,
    width: 8,
    heads: 2,
    ff: 12,
    classes: 3,
    causal: true,
};

/// The f32 encoder configuration of `d`.
pub fn encoder_config(d: Dims) -> TransformerEncoderConfig {
    TransformerEncoderConfig {
        causal: d.causal,
        ..TransformerEncoderConfig::new(d.seq, d.width, d.heads, d.ff)
    }
}

/// f32 encoder parameters in the layer's layout: layer-norm scales near 1, shifts near 0, the
/// rest uniform in `±1/√fan_in`.
pub fn encoder_params(rng: &mut SplitMix64, d: Dims) -> Vec<f32> {
    let (w, f) = (d.width, d.ff);
    let u = |rng: &mut SplitMix64, n: usize, fan: usize| {
        let a = 1.0 / (fan as f64).sqrt();
        rng.f32_vec(n, -a, a)
    };
    let ln = |rng: &mut SplitMix64| {
        let mut v = rng.f32_vec(w, 0.8, 1.2);
        v.extend(rng.f32_vec(w, -0.1, 0.1));
        v
    };
    let mut p = ln(rng);
    for _ in 0..4 {
        p.extend(u(rng, w * w, w));
        p.extend(u(rng, w, w));
    }
    p.extend(ln(rng));
    p.extend(u(rng, f * w, w));
    p.extend(u(rng, f, w));
    p.extend(u(rng, w * f, f));
    p.extend(u(rng, w, f));
    assert_eq!(p.len(), encoder_f32_param_len(w, f).unwrap());
    p
}

fn conv1d(d: Dims) -> Conv1dConfig {
    Conv1dConfig {
        len: d.seq,
        in_c: d.features,
        out_c: d.width,
        kernel: 1,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        bias: true,
    }
}

/// Conv1d (kernel 1) → SinusoidalEncoding (or a learned table) → TransformerEncoder →
/// GlobalAvgPool → Dense.
pub fn f32_model(seed: u64, d: Dims, learned: bool) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let (w, s) = (d.width, d.seq);
    let conv = conv1d(d);
    let conv_params = f32s(&mut rng, conv.param_len().unwrap());
    let position = if learned {
        Op::LearnedPositionalEncoding(SequenceConfig { seq: s, width: w }, f32s(&mut rng, s * w))
    } else {
        Op::SinusoidalEncoding(SinusoidalEncodingConfig { seq: s, width: w })
    };
    let enc = leak(encoder_params(&mut rng, d));
    let head = DenseConfig {
        in_features: w,
        out_features: d.classes,
        bias: true,
    };
    vec![
        Op::Conv1d(conv, conv_params),
        position,
        Op::TransformerEncoder(encoder_config(d), enc),
        Op::GlobalAvgPool(GlobalAvgPoolConfig {
            positions: s,
            channels: w,
        }),
        Op::Dense(head, f32s(&mut rng, w * d.classes + d.classes)),
    ]
}

/// Arbitrary valid activation ranges of an encoder block.
pub fn ranges() -> EncoderRanges {
    EncoderRanges {
        input: (-3.0, 3.0),
        ln1: (-3.5, 3.5),
        q: (-2.5, 2.5),
        k: (-2.5, 2.0),
        v: (-2.0, 2.5),
        attn: (-2.0, 2.0),
        mha: (-1.5, 1.5),
        resid: (-4.0, 4.0),
        ln2: (-3.5, 3.5),
        ff1: (-3.0, 3.0),
        gelu: (-0.2, 3.0),
        ff2: (-1.5, 1.5),
        output: (-5.0, 5.0),
    }
}

/// The int8 block quantized by `quantize_encoder` from f32 parameters and [`ranges`]; the
/// requantizers both as the layer takes them and as the file's pairs.
pub fn encoder_s8(
    rng: &mut SplitMix64,
    d: Dims,
) -> (
    TransformerEncoderS8Config,
    EncoderTensorsS8<'static>,
    &'static [Requantizer],
) {
    let p = encoder_params(rng, d);
    let (lens, scales) = encoder_s8_storage_len(d.width, d.ff).unwrap();
    let mut weights = vec![0i8; lens.weights];
    let mut bias = vec![0i32; lens.bias];
    let mut rq = vec![Requantizer::ZERO; lens.bias];
    let mut ln_multiplier = vec![0i32; lens.ln];
    let mut ln_offset = vec![0i64; lens.ln];
    let mut scales = vec![0f32; scales];
    let shape = EncoderShapeS8 {
        seq: d.seq,
        width: d.width,
        heads: d.heads,
        ff: d.ff,
        causal: d.causal,
        eps: 1e-5,
    };
    let storage = EncoderS8Storage {
        weights: &mut weights,
        bias: &mut bias,
        requant: &mut rq,
        ln_multiplier: &mut ln_multiplier,
        ln_offset: &mut ln_offset,
        scales: &mut scales,
    };
    let config = quantize_encoder(shape, &p, &ranges(), storage).unwrap();
    let pairs: Vec<i32> = rq.iter().flat_map(|r| [r.multiplier, r.shift]).collect();
    let t = EncoderTensorsS8 {
        weights: leak(weights),
        bias: leak(bias),
        requant: leak(pairs),
        ln_multiplier: leak(ln_multiplier),
        ln_offset: leak(ln_offset),
    };
    (config, t, leak(rq))
}

/// The sinusoidal table `[seq, width]` (f64) quantized with `p`.
fn sinusoid_table(seq: usize, width: usize, p: QuantParams) -> Vec<i8> {
    let mut t = Vec::with_capacity(seq * width);
    for pos in 0..seq {
        for col in 0..width {
            let omega = 10000f64.powf(-((col / 2 * 2) as f64) / width as f64);
            let a = pos as f64 * omega;
            let v = if col % 2 == 0 { a.sin() } else { a.cos() };
            t.push(p.quantize(v as f32));
        }
    }
    t
}

/// Quantize → Conv1dS8 (kernel 1) → PositionalAddS8 → TransformerEncoderS8 →
/// GlobalAvgPoolS8 → DenseS8 → Dequantize.
pub fn s8_model(seed: u64, d: Dims) -> Vec<Op<'static>> {
    let mut rng = SplitMix64::new(seed);
    let (w, s) = (d.width, d.seq);
    let q_in = q(0.02, 3);
    let q_emb = q(0.015, -4);
    let q_table = QuantParams::asymmetric_from_min_max(-1.0, 1.0).unwrap();
    let (enc, t, _) = encoder_s8(&mut rng, d);
    let conv = Conv1dS8Config {
        len: s,
        in_c: d.features,
        out_c: w,
        kernel: 1,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        input: q_in,
        output: q_emb,
        act: ActivationS8::NONE,
    };
    let conv_t = TensorsS8 {
        weights: leak(rng.i8_vec(w * d.features)),
        bias: Some(leak(
            (0..w).map(|_| rng.range_i64(-500, 500) as i32).collect(),
        )),
        requant: requant(&mut rng, w, 0.02 * 0.01 / 0.015),
    };
    let add = PositionalAddS8Config {
        seq: s,
        width: w,
        input: q_emb,
        table: q_table,
        output: enc.quant.input,
    };
    let q_out = q(0.08, -6);
    let head = DenseS8Config {
        in_features: w,
        out_features: d.classes,
        input: enc.quant.output,
        output: q_out,
        act: ActivationS8::NONE,
    };
    let head_t = TensorsS8 {
        weights: leak(rng.i8_vec(w * d.classes)),
        bias: Some(leak(
            (0..d.classes)
                .map(|_| rng.range_i64(-300, 300) as i32)
                .collect(),
        )),
        requant: requant(&mut rng, 1, enc.quant.output.scale as f64 * 0.01 / 0.08),
    };
    vec![
        Op::Quantize {
            len: s * d.features,
            params: q_in,
        },
        Op::Conv1dS8(conv, conv_t),
        Op::PositionalAddS8(add, leak(sinusoid_table(s, w, q_table))),
        Op::TransformerEncoderS8(enc, t),
        Op::GlobalAvgPoolS8(GlobalAvgPoolS8Config {
            spatial: s,
            channels: w,
            act: ActivationS8::NONE,
        }),
        Op::DenseS8(head, head_t),
        Op::Dequantize {
            len: d.classes,
            params: q_out,
        },
    ]
}
