//! References for the fine-tuning tests: small dense models built as `.ttm` ops (f32, and int8
//! quantized from calibrated ranges), an f64 re-implementation of a dense head (forward,
//! softmax cross-entropy and its gradient), and the int8 arithmetic the
//! tests need to know a head's input and real weights.

pub mod cases;
pub mod models;

use crate::rng::SplitMix64;
use tinytune::kernels::generic::activation::relu_range_s8;
use tinytune::kernels::ActivationS8;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::s8::{quantize_dense_weights, DenseS8Config};
use tinytune::model::{Op, TensorsS8};
use tinytune::num::quant::{QuantParams, Requantizer};

/// Leaks a vector: the ops of a test model borrow for `'static`.
pub fn leak<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

/// An f32 dense layer of a test model: weights `[out, in]`, bias `[out]`, ReLU after it or not.
#[derive(Clone, Debug)]
pub struct DenseF {
    pub w: Vec<f32>,
    pub b: Vec<f32>,
    pub n_in: usize,
    pub n_out: usize,
    pub relu: bool,
}

/// A random MLP through `dims` (ReLU after every layer but the last), weights uniform in
/// `±sqrt(3 / fan_in)`, biases in `±0.2`.
pub fn random_mlp(rng: &mut SplitMix64, dims: &[usize]) -> Vec<DenseF> {
    let n = dims.len() - 1;
    (0..n)
        .map(|l| {
            let (n_in, n_out) = (dims[l], dims[l + 1]);
            let a = (3.0 / n_in as f64).sqrt();
            DenseF {
                w: rng.f32_vec(n_in * n_out, -a, a),
                b: rng.f32_vec(n_out, -0.2, 0.2),
                n_in,
                n_out,
                relu: l + 1 < n,
            }
        })
        .collect()
}

/// The f32 ops of `layers`: `Dense` (+ `Activation(Relu)`) per layer, and a softmax at the end
/// if `softmax`.
pub fn f32_ops(layers: &[DenseF], softmax: bool) -> Vec<Op<'static>> {
    let mut ops = Vec::new();
    for l in layers {
        let mut p = l.w.clone();
        p.extend_from_slice(&l.b);
        let c = DenseConfig {
            in_features: l.n_in,
            out_features: l.n_out,
            bias: true,
        };
        ops.push(Op::Dense(c, leak(p)));
        if l.relu {
            ops.push(Op::Activation(ActivationConfig {
                kind: ActivationKind::Relu,
                len: l.n_out,
            }));
        }
    }
    let classes = layers.last().unwrap().n_out;
    if softmax {
        ops.push(Op::Activation(ActivationConfig {
            kind: ActivationKind::Softmax { depth: classes },
            len: classes,
        }));
    }
    ops
}

/// f64 forward of `layers` on `x`: each layer's output (after its ReLU).
pub fn forward_f(layers: &[DenseF], x: &[f64]) -> Vec<Vec<f64>> {
    let refs: Vec<RefLayer> = layers.iter().map(RefLayer::from_dense).collect();
    ref_forward(&refs, x)
}

/// Quantizes `layers` for int8 inference: `Quantize` with `input`, one `DenseS8` per layer
/// (ReLU fused as the clamp at the output zero point), `Dequantize`, then a softmax if asked.
/// Each activation's parameters cover its range over the f64 forward of `calib`.
pub fn s8_ops(
    layers: &[DenseF],
    input: QuantParams,
    calib: &[Vec<f32>],
    softmax: bool,
) -> Vec<Op<'static>> {
    let n_in = layers[0].n_in;
    let mut ops = vec![Op::Quantize {
        len: n_in,
        params: input,
    }];
    let outs: Vec<Vec<Vec<f64>>> = calib
        .iter()
        .map(|x| forward_f(layers, &x.iter().map(|&v| v as f64).collect::<Vec<_>>()))
        .collect();
    let mut q_in = input;
    for (l, layer) in layers.iter().enumerate() {
        let (lo, hi) = outs
            .iter()
            .flat_map(|o| o[l].iter())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let q_out = QuantParams::asymmetric_from_min_max(lo as f32, hi as f32).unwrap();
        let mut w = vec![0i8; layer.w.len()];
        let mut b = vec![0i32; layer.n_out];
        let mut rq = vec![Requantizer::ZERO; layer.n_out];
        let mut scales = vec![0f32; layer.n_out];
        quantize_dense_weights(
            &layer.w,
            Some(&layer.b),
            layer.n_out,
            q_in,
            q_out,
            &mut w,
            &mut b,
            &mut rq,
            &mut scales,
        )
        .unwrap();
        let pairs: Vec<i32> = rq.iter().flat_map(|r| [r.multiplier, r.shift]).collect();
        let act = if layer.relu {
            relu_range_s8(q_out.zero_point)
        } else {
            ActivationS8::NONE
        };
        let c = DenseS8Config {
            in_features: layer.n_in,
            out_features: layer.n_out,
            input: q_in,
            output: q_out,
            act,
        };
        let t = TensorsS8 {
            weights: leak(w),
            bias: Some(leak(b)),
            requant: leak(pairs),
        };
        ops.push(Op::DenseS8(c, t));
        q_in = q_out;
    }
    let classes = layers.last().unwrap().n_out;
    ops.push(Op::Dequantize {
        len: classes,
        params: q_in,
    });
    if softmax {
        ops.push(Op::Activation(ActivationConfig {
            kind: ActivationKind::Softmax { depth: classes },
            len: classes,
        }));
    }
    ops
}

/// `clamp(round(x / scale) + zp)` then back to real, as a `Quantize` + `Dequantize` pair
/// (rounding half away from zero, f32 division, NaN to the zero point).
pub fn fake_quant(p: QuantParams, x: f32) -> f64 {
    let r = (x / p.scale).round();
    let r = if r.is_nan() { 0 } else { r as i64 };
    let q = (r + p.zero_point as i64).clamp(-128, 127);
    p.scale as f64 * (q - p.zero_point as i64) as f64
}

/// The real layer an int8 `DenseS8` op represents, from its own integers in f64:
/// `w = q · w_scale[o]` with `w_scale[o] = M·2^(shift−31) · out_scale / in_scale`,
/// `b = b_int · in_scale · w_scale[o]`. `relu` from the fused clamp.
pub fn real_s8(op: &Op<'_>) -> RefLayer {
    let Op::DenseS8(c, t) = *op else {
        panic!("not a DenseS8")
    };
    let (n_in, n_out) = (c.in_features, c.out_features);
    let scale = |o: usize| {
        let at = if t.requant.len() == 2 { 0 } else { 2 * o };
        let (m, s) = (t.requant[at] as f64, t.requant[at + 1] as f64);
        m * 2f64.powf(s - 31.0) * c.output.scale as f64 / c.input.scale as f64
    };
    let w = (0..n_out * n_in)
        .map(|k| t.weights[k] as f64 * scale(k / n_in))
        .collect();
    let b = (0..n_out)
        .map(|o| t.bias.map_or(0.0, |b| b[o] as f64) * c.input.scale as f64 * scale(o))
        .collect();
    RefLayer {
        w,
        b,
        n_in,
        n_out,
        relu: c.act.min as i32 == c.output.zero_point && c.act.max == 127,
    }
}

/// A dense layer of the f64 reference head.
#[derive(Clone, Debug)]
pub struct RefLayer {
    pub w: Vec<f64>,
    pub b: Vec<f64>,
    pub n_in: usize,
    pub n_out: usize,
    pub relu: bool,
}

impl RefLayer {
    pub fn from_dense(d: &DenseF) -> Self {
        RefLayer {
            w: d.w.iter().map(|&v| v as f64).collect(),
            b: d.b.iter().map(|&v| v as f64).collect(),
            n_in: d.n_in,
            n_out: d.n_out,
            relu: d.relu,
        }
    }
}

/// Each layer's output (after its ReLU).
pub fn ref_forward(layers: &[RefLayer], x: &[f64]) -> Vec<Vec<f64>> {
    let mut outs: Vec<Vec<f64>> = Vec::new();
    for l in layers {
        let input = outs.last().map_or(x, |o| o.as_slice());
        assert_eq!(input.len(), l.n_in);
        let y = (0..l.n_out)
            .map(|o| {
                let s = l.b[o]
                    + (0..l.n_in)
                        .map(|i| l.w[o * l.n_in + i] * input[i])
                        .sum::<f64>();
                if l.relu {
                    s.max(0.0)
                } else {
                    s
                }
            })
            .collect();
        outs.push(y);
    }
    outs
}

/// `softmax(z)`.
pub fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Cross-entropy of the head's logits for `label`.
pub fn ref_loss(layers: &[RefLayer], x: &[f64], label: usize) -> f64 {
    let outs = ref_forward(layers, x);
    let z = outs.last().unwrap();
    let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln() - z[label]
}

/// Gradient of [`ref_loss`] with respect to every layer's weights and bias, flattened as the
/// fine-tuner lays out its parameters (per layer `W [out, in]` then `b [out]`).
pub fn ref_grad(layers: &[RefLayer], x: &[f64], label: usize) -> Vec<f64> {
    let outs = ref_forward(layers, x);
    let mut g: Vec<f64> = softmax(outs.last().unwrap());
    g[label] -= 1.0;
    let mut per_layer: Vec<Vec<f64>> = vec![Vec::new(); layers.len()];
    for l in (0..layers.len()).rev() {
        let layer = &layers[l];
        if layer.relu {
            for (g, &y) in g.iter_mut().zip(&outs[l]) {
                if y <= 0.0 {
                    *g = 0.0;
                }
            }
        }
        let input = if l == 0 { x } else { outs[l - 1].as_slice() };
        let mut flat = Vec::with_capacity(layer.n_out * (layer.n_in + 1));
        for &g_o in &g {
            flat.extend(input.iter().map(|&x_i| g_o * x_i));
        }
        flat.extend_from_slice(&g);
        per_layer[l] = flat;
        g = (0..layer.n_in)
            .map(|i| {
                (0..layer.n_out)
                    .map(|o| layer.w[o * layer.n_in + i] * g[o])
                    .sum()
            })
            .collect();
    }
    per_layer.concat()
}

/// `layers` with their weights and biases replaced by the flat `params` (as [`ref_grad`]).
pub fn with_params(layers: &[RefLayer], params: &[f64]) -> Vec<RefLayer> {
    let mut at = 0;
    layers
        .iter()
        .map(|l| {
            let nw = l.n_out * l.n_in;
            let w = params[at..at + nw].to_vec();
            let b = params[at + nw..at + nw + l.n_out].to_vec();
            at += nw + l.n_out;
            RefLayer { w, b, ..l.clone() }
        })
        .collect()
}

/// Flat `W, b` of every layer (the inverse of [`with_params`]).
pub fn flat_params(layers: &[RefLayer]) -> Vec<f64> {
    layers
        .iter()
        .flat_map(|l| l.w.iter().chain(&l.b).copied())
        .collect()
}
