//! `Sequential` over `AnyLayer` with real layers: whole-model gradients against central
//! differences of an f64 re-implementation of the model (written here, independent of the
//! layers), the training-mode flag, frozen layers, and inference equal to running the layers
//! one by one.

#[path = "common_c/mod.rs"]
mod common_c;

use tinytune::kernels::Padding;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::batch_norm::BatchNormConfig;
use tinytune::layers::conv::Conv1dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::dropout::DropoutConfig;
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune::layers::pool::{Pool1dConfig, PoolKind};
use tinytune::layers::reshape::FlattenConfig;
use tinytune::layers::{AnyLayer, Layer, Sequential};
use tinytune::rng::{uniform_f32, SeedableRng, SeededRng};
use tinytune::train::optim::Sgd;
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::rng::SplitMix64;

const B: usize = 5;
const IN: usize = 6;
const H: usize = 8;
const OUT: usize = 4;
const RATE: f32 = 0.25;

fn dense(i: usize, o: usize) -> DenseConfig {
    DenseConfig {
        in_features: i,
        out_features: o,
        bias: true,
    }
}

/// `y[b, o] = bias[o] + Σ_i x[b, i] w[o, i]` in f64.
fn dense_f64(x: &[f64], w: &[f64], bias: &[f64], i: usize, o: usize) -> Vec<f64> {
    x.chunks(i)
        .flat_map(|row| {
            (0..o).map(move |k| bias[k] + (0..i).map(|j| row[j] * w[k * i + j]).sum::<f64>())
        })
        .collect()
}

fn softmax_rows(x: &[f64], depth: usize) -> Vec<f64> {
    x.chunks(depth)
        .flat_map(|row| {
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
            let s: f64 = e.iter().sum();
            e.into_iter().map(move |v| v / s)
        })
        .collect()
}

/// The MLP of `mlp_model` in f64, training mode: dense → batch norm (batch statistics) → ReLU →
/// dropout (the given mask) → dense → layer norm → tanh → dense → softmax. `p` holds every
/// parameter in the model's order.
fn mlp_f64(x: &[f64], p: &[f64], mask: &[f64]) -> Vec<f64> {
    let mut at = 0;
    let mut take = |n: usize| {
        let s = &p[at..at + n];
        at += n;
        s
    };
    let (w1, b1) = (take(H * IN), take(H));
    let (g1, be1) = (take(H), take(H));
    let (w2, b2) = (take(H * H), take(H));
    let (g2, be2) = (take(H), take(H));
    let (w3, b3) = (take(OUT * H), take(OUT));
    let h = dense_f64(x, w1, b1, IN, H);
    let h = common_c::bn_train(H, &h, g1, be1, 1e-5);
    let h: Vec<f64> = h.iter().zip(mask).map(|(v, m)| v.max(0.0) * m).collect();
    let h = dense_f64(&h, w2, b2, H, H);
    let h = common_c::layer_norm(H, &h, g2, be2, 1e-5);
    let h: Vec<f64> = h.iter().map(|v| v.tanh()).collect();
    let z = dense_f64(&h, w3, b3, H, OUT);
    softmax_rows(&z, OUT)
}

/// The dropout mask the model's dropout layer draws from `seed`: it is the only user of the
/// generator, and draws one uniform per value, keeping it when the draw is below `1 - rate`.
fn dropout_mask(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = SeededRng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            if uniform_f32(&mut rng) < 1.0 - RATE {
                1.0 / (1.0 - RATE as f64)
            } else {
                0.0
            }
        })
        .collect()
}

#[test]
fn mlp_with_batch_norm_dropout_and_layer_norm_gradients_match_f64_finite_differences() {
    let mut data = SplitMix64::new(21);
    let x = data.f32_vec(B * IN, -1.0, 1.0);
    let g = data.f32_vec(B * OUT, -1.0, 1.0);
    let configs = [dense(IN, H), dense(H, H), dense(H, OUT)];
    let lens: Vec<usize> = configs.iter().map(|c| c.param_len().unwrap()).collect();
    let mut d1 = data.f32_vec(lens[0], -0.6, 0.6);
    let mut d2 = data.f32_vec(lens[1], -0.6, 0.6);
    let mut d3 = data.f32_vec(lens[2], -0.6, 0.6);
    let mut bn = data.f32_vec(2 * H, 0.5, 1.5);
    let mut bn_stats = [0.0f32; 2 * H];
    let mut ln = data.f32_vec(2 * H, 0.5, 1.5);
    let flat_params: Vec<f32> = [&d1[..], &bn, &d2, &ln, &d3].concat();

    let mut model = Sequential::new([
        AnyLayer::from(configs[0].init(&mut d1[..]).unwrap()),
        BatchNormConfig::new(1, H)
            .init(&mut bn[..], &mut bn_stats[..])
            .unwrap()
            .into(),
        ActivationConfig {
            kind: ActivationKind::Relu,
            len: H,
        }
        .init()
        .unwrap()
        .into(),
        DropoutConfig { len: H, rate: RATE }.init().unwrap().into(),
        configs[1].init(&mut d2[..]).unwrap().into(),
        LayerNormConfig::new(1, H).init(&mut ln[..]).unwrap().into(),
        ActivationConfig {
            kind: ActivationKind::Tanh,
            len: H,
        }
        .init()
        .unwrap()
        .into(),
        configs[2].init(&mut d3[..]).unwrap().into(),
        ActivationConfig {
            kind: ActivationKind::Softmax { depth: OUT },
            len: OUT,
        }
        .init()
        .unwrap()
        .into(),
    ])
    .unwrap();
    assert_eq!(model.param_len(), flat_params.len());

    let seed = 77;
    let mut cache = vec![0.0f32; model.cache_len(B)];
    let mut rng = SeededRng::seed_from_u64(seed);
    let y = model
        .forward_train(B, &x, &mut cache, &mut rng)
        .unwrap()
        .to_vec();
    let mask = dropout_mask(seed, B * H);
    assert!(mask.contains(&0.0), "the case must drop something");
    let x64 = to_f64(&x);
    let want = mlp_f64(&x64, &to_f64(&flat_params), &mask);
    common_c::assert_rel("model output", &y, &want, 1e-5);

    let mut grads = vec![0.0f32; model.param_len()];
    let mut scratch = vec![0.0f32; model.scratch_len(B)];
    model
        .backward(B, &x, &cache, &g, &mut grads, &mut scratch)
        .unwrap();
    let numeric = numeric_grad(&to_f64(&flat_params), |p| {
        weighted_sum(&g, &mlp_f64(&x64, p, &mask))
    });
    assert_close("model parameter gradients", &grads, &numeric);
}

/// The convolutional stack of `conv_model` in f64: conv1d (SAME, no bias) → GELU → average
/// pooling (window 2, stride 2) → flatten → dense → sigmoid.
fn conv_f64(x: &[f64], p: &[f64], len: usize, in_c: usize, out_c: usize, k: usize) -> Vec<f64> {
    let (w, rest) = p.split_at(out_c * k * in_c);
    let pooled = len / 2;
    let (wd, bd) = rest.split_at(pooled * out_c * 2);
    let pad = (k - 1) / 2;
    let gelu =
        |v: f64| 0.5 * v * (1.0 + tinytune_host_tests::reference::activation::erf(v / 2f64.sqrt()));
    x.chunks(len * in_c)
        .flat_map(|seq| {
            let mut conv = vec![0.0; len * out_c];
            for t in 0..len {
                for o in 0..out_c {
                    let mut acc = 0.0;
                    for j in 0..k {
                        let src = t as isize + j as isize - pad as isize;
                        if src < 0 || src >= len as isize {
                            continue;
                        }
                        for c in 0..in_c {
                            acc += seq[src as usize * in_c + c] * w[(o * k + j) * in_c + c];
                        }
                    }
                    conv[t * out_c + o] = gelu(acc);
                }
            }
            let mut pool = vec![0.0; pooled * out_c];
            for t in 0..pooled {
                for o in 0..out_c {
                    pool[t * out_c + o] =
                        0.5 * (conv[2 * t * out_c + o] + conv[(2 * t + 1) * out_c + o]);
                }
            }
            dense_f64(&pool, wd, bd, pooled * out_c, 2)
                .into_iter()
                .map(|z| 1.0 / (1.0 + (-z).exp()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn conv_pool_dense_stack_gradients_match_f64_finite_differences() {
    let (len, in_c, out_c, k) = (8, 2, 3, 3);
    let mut data = SplitMix64::new(22);
    let batch = 3;
    let x = data.f32_vec(batch * len * in_c, -1.0, 1.0);
    let conv = Conv1dConfig {
        len,
        in_c,
        out_c,
        kernel: k,
        stride: 1,
        dilation: 1,
        padding: Padding::Same,
        bias: false,
    };
    let head = dense(len / 2 * out_c, 2);
    let mut pc = data.f32_vec(conv.param_len().unwrap(), -0.7, 0.7);
    let mut ph = data.f32_vec(head.param_len().unwrap(), -0.7, 0.7);
    let flat: Vec<f32> = [&pc[..], &ph].concat();
    let model = Sequential::new([
        AnyLayer::from(conv.init(&mut pc[..]).unwrap()),
        ActivationConfig {
            kind: ActivationKind::Gelu,
            len: len * out_c,
        }
        .init()
        .unwrap()
        .into(),
        Pool1dConfig {
            kind: PoolKind::Avg,
            len,
            channels: out_c,
            window: 2,
            stride: 2,
            padding: Padding::Valid,
        }
        .init()
        .unwrap()
        .into(),
        FlattenConfig {
            len: len / 2 * out_c,
        }
        .init()
        .unwrap()
        .into(),
        head.init(&mut ph[..]).unwrap().into(),
        ActivationConfig {
            kind: ActivationKind::Sigmoid,
            len: 2,
        }
        .init()
        .unwrap()
        .into(),
    ]);
    let mut model = model.unwrap();
    let g = data.f32_vec(batch * 2, -1.0, 1.0);
    let mut cache = vec![0.0f32; model.cache_len(batch)];
    let mut rng = SeededRng::seed_from_u64(0);
    let y = model
        .forward_train(batch, &x, &mut cache, &mut rng)
        .unwrap()
        .to_vec();
    let x64 = to_f64(&x);
    let want = conv_f64(&x64, &to_f64(&flat), len, in_c, out_c, k);
    common_c::assert_rel("model output", &y, &want, 1e-5);
    let mut grads = vec![0.0f32; model.param_len()];
    let mut scratch = vec![0.0f32; model.scratch_len(batch)];
    model
        .backward(batch, &x, &cache, &g, &mut grads, &mut scratch)
        .unwrap();
    let numeric = numeric_grad(&to_f64(&flat), |p| {
        weighted_sum(&g, &conv_f64(&x64, p, len, in_c, out_c, k))
    });
    assert_close("conv model parameter gradients", &grads, &numeric);
}

/// Inference (`forward`) equals running each layer's own `forward` in turn; dropout is the
/// identity and batch norm uses its running statistics, which only `forward_train` changes.
#[test]
fn inference_is_layer_by_layer_forward_and_training_flag_switches_dropout_and_batch_norm() {
    let mut data = SplitMix64::new(23);
    let x = data.f32_vec(B * IN, -1.0, 1.0);
    let mut p1 = data.f32_vec(dense(IN, H).param_len().unwrap(), -0.5, 0.5);
    let mut bn = [1.0f32; 2 * H];
    bn[H..].fill(0.0);
    let mut stats: Vec<f32> = [vec![0.1f32; H], vec![2.0f32; H]].concat();
    let mut model = Sequential::new([
        AnyLayer::from(dense(IN, H).init(&mut p1[..]).unwrap()),
        BatchNormConfig::new(1, H)
            .init(&mut bn[..], &mut stats[..])
            .unwrap()
            .into(),
        DropoutConfig { len: H, rate: 0.5 }.init().unwrap().into(),
    ])
    .unwrap();

    let mut out = vec![0.0f32; B * H];
    let mut scratch = vec![0.0f32; model.scratch_len(B)];
    model.forward(B, &x, &mut out, &mut scratch).unwrap();
    let mut a = vec![0.0f32; B * H];
    let mut b = vec![0.0f32; B * H];
    let mut c = vec![0.0f32; B * H];
    model.layers()[0].forward(B, &x, &mut a).unwrap();
    model.layers()[1].forward(B, &a, &mut b).unwrap();
    model.layers()[2].forward(B, &b, &mut c).unwrap();
    assert_eq!(out, c);
    assert_eq!(out, b, "dropout is the identity in inference");

    // Training mode: dropout zeroes about half, and the running statistics move.
    let mut cache = vec![0.0f32; model.cache_len(B)];
    let mut rng = SeededRng::seed_from_u64(5);
    let y = model.forward_train(B, &x, &mut cache, &mut rng).unwrap();
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    assert!(
        (8..=32).contains(&zeros),
        "{zeros} of 40 dropped at rate 0.5"
    );
    let AnyLayer::BatchNorm(bn_layer) = &model.layers()[1] else {
        unreachable!()
    };
    assert!(bn_layer.running_mean().iter().all(|&m| m != 0.1));
    let mut again = vec![0.0f32; B * H];
    model.forward(B, &x, &mut again, &mut scratch).unwrap();
    assert_ne!(again, out, "inference uses the updated running statistics");
}

/// A frozen (flash-resident) backbone and a trainable head: only the head has gradient slots,
/// and training changes only the head.
#[test]
fn frozen_backbone_keeps_its_weights_while_the_head_trains() {
    let mut data = SplitMix64::new(24);
    let backbone = data.f32_vec(dense(IN, H).param_len().unwrap(), -0.5, 0.5);
    let mut head = data.f32_vec(dense(H, OUT).param_len().unwrap(), -0.5, 0.5);
    let head_before = head.clone();
    let x = data.f32_vec(B * IN, -1.0, 1.0);
    let labels: Vec<u32> = (0..B as u32).map(|i| i % OUT as u32).collect();
    let mut model = Sequential::new([
        AnyLayer::from(dense(IN, H).init(&backbone[..]).unwrap()),
        ActivationConfig {
            kind: ActivationKind::Relu,
            len: H,
        }
        .init()
        .unwrap()
        .into(),
        dense(H, OUT).init(&mut head[..]).unwrap().into(),
    ])
    .unwrap();
    assert_eq!(model.param_len(), H * OUT + OUT);
    let lens = model.train_buffer_lens(B);
    let (mut c, mut go, mut gr, mut s) = (
        vec![0.0; lens.cache],
        vec![0.0; lens.grad_output],
        vec![0.0; lens.grads],
        vec![0.0; lens.scratch],
    );
    let mut bufs = tinytune::layers::TrainBuffers {
        cache: &mut c,
        grad_output: &mut go,
        grads: &mut gr,
        scratch: &mut s,
        opt_state: &mut [],
    };
    let mut rng = SeededRng::seed_from_u64(1);
    let first = model
        .train_epoch(
            &x,
            &labels,
            B,
            &mut bufs,
            &mut rng,
            |z, y, g| tinytune::train::loss::softmax_cross_entropy(OUT, z, y, g),
            &mut Sgd::new(0.5),
        )
        .unwrap();
    let mut last = first;
    for _ in 0..300 {
        last = model
            .train_epoch(
                &x,
                &labels,
                B,
                &mut bufs,
                &mut rng,
                |z, y, g| tinytune::train::loss::softmax_cross_entropy(OUT, z, y, g),
                &mut Sgd::new(0.5),
            )
            .unwrap();
    }
    assert!(last < 0.5 * first, "loss {first} -> {last}");
    assert_eq!(model.layers()[0].params(), &backbone[..]);
    assert_ne!(model.layers()[2].params(), &head_before[..]);
}
