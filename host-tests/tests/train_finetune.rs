//! `train::finetune`: the untuned fine-tuner is the model bit for bit; the f32 head on the
//! model's own weights agrees with the int8 model; one `learn` step is exactly `−lr·∇` of an
//! independent f64 head (itself checked by finite differences) in every mode, with and without
//! momentum; the thresholded rule and its counts; bias mode; learning a permuted task; memory;
//! errors.

mod model_common;

use model_common::{encode, scaler};
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::model::{Meta, Model, Op};
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::{FineTuner, FinetuneConfig, FinetuneLens, Trainable};
use tinytune::train::loss::ThresholdedConfig;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::finetune::cases::{cases, close};
use tinytune_host_tests::finetune::models::{
    digits_like, f64s, input_q, inputs, one_layer, s8_model,
};
use tinytune_host_tests::finetune::*;
use tinytune_host_tests::rng::SplitMix64;

/// Caller buffers of a fine-tuner, sized by `FineTuner::lens`.
struct Bufs {
    params: Vec<f32>,
    state: Vec<f32>,
    scratch: Vec<f32>,
    arena: Vec<u8>,
    requant: Vec<Requantizer>,
}

fn bufs(model: &Model<'_>, config: &FinetuneConfig) -> Bufs {
    let l = FineTuner::lens(model, config).unwrap();
    Bufs {
        params: vec![0.0; l.params],
        state: vec![0.0; l.state],
        scratch: vec![0.0; l.scratch],
        arena: vec![0; model.arena_len(1).unwrap()],
        requant: vec![Requantizer::ZERO; model.requant_len()],
    }
}

fn config(trainable: Trainable, lr: f32, margin: f32, momentum: f32) -> FinetuneConfig {
    FinetuneConfig {
        trainable,
        threshold: ThresholdedConfig {
            margin,
            smooth_k: None,
        },
        learning_rate: lr,
        momentum,
    }
}

fn run(model: &Model<'_>, x: &[f32]) -> Vec<f32> {
    let mut arena = vec![0; model.arena_len(1).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let mut out = vec![0.0; model.output_len()];
    model.run(1, x, &mut arena, &mut requant, &mut out).unwrap();
    out
}

/// `logits` and `predict` of an untuned `t` are `Model::run` and `Model::predict` bit for bit.
fn same_as_model(
    t: &mut FineTuner<'_, '_>,
    model: &Model<'_>,
    xs: &[Vec<f32>],
    arena: &mut [u8],
    requant: &mut [Requantizer],
) {
    assert!(!t.is_tuned());
    let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
    for x in xs {
        let want = run(model, x);
        let mut got = vec![0.0; model.output_len()];
        t.logits(x, arena, requant, &mut got).unwrap();
        assert_eq!(bits(&got), bits(&want));
        let p = t.predict(x, arena, requant).unwrap();
        assert_eq!(p, model.predict(x, arena, requant).unwrap());
    }
}

#[test]
fn untuned_outputs_are_the_models_bit_for_bit() {
    let mut rng = SplitMix64::new(1);
    let f32_layers = random_mlp(&mut rng, &[6, 8, 4]);
    let f32_meta = Meta {
        scaler: Some(scaler(&mut rng, 6)),
        ..Meta::default()
    };
    let cases = [
        (f32_ops(&f32_layers, true), f32_meta, 6),
        (s8_model(2, &[6, 8, 4], true), Meta::default(), 6),
        (digits_like(3), Meta::default(), 64),
    ];
    for (ops, meta, n_in) in cases {
        let file = encode(&ops, &meta);
        let model = Model::from_bytes(file.bytes()).unwrap();
        for trainable in [
            Trainable::Bias,
            Trainable::LastLayer,
            Trainable::LastLayers(2),
        ] {
            let cfg = config(trainable, 0.1, 1.0, 0.0);
            if n_in == 64 && trainable == Trainable::LastLayers(2) {
                continue; // the convolution would be in the head (checked in `errors`)
            }
            let mut b = bufs(&model, &cfg);
            let mut t =
                FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
            let initial = t.params().to_vec();
            let xs = inputs(&mut rng, 20, n_in);
            same_as_model(&mut t, &model, &xs, &mut b.arena, &mut b.requant);
            // Learn (margin 1: every sample updates), then reset: the model again.
            let o = t.learn(&xs[0], 1, &mut b.arena, &mut b.requant).unwrap();
            assert!(o.updated && t.is_tuned());
            assert_ne!(t.params(), &initial[..]);
            t.reset();
            assert_eq!(t.params(), &initial[..]);
            assert_eq!(t.stats().seen, 0);
            same_as_model(&mut t, &model, &xs, &mut b.arena, &mut b.requant);
        }
    }
}

#[test]
fn f32_head_on_dequantized_weights_agrees_with_the_int8_model() {
    let ops = s8_model(10, &[64, 128, 10], false);
    let out_q = match ops[3] {
        Op::Dequantize { params, .. } => params,
        _ => unreachable!(),
    };
    // An int8 logit at either end of the range is saturated: the f32 head is not, so those
    // are left out of the step count (their argmax still counts).
    let saturated = |w: f32| {
        let code = (w / out_q.scale).round() as i32 + out_q.zero_point;
        code <= -128 || code >= 127
    };
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(11);
    let xs = inputs(&mut rng, 1000, 64);
    for (trainable, min_agree, max_steps) in [
        // One layer: the f32 head is the int8 layer before its output rounding, so it is off
        // by at most half a step. Two layers: the hidden layer's rounding adds to that.
        (Trainable::LastLayer, 0.95, 0.51),
        (Trainable::LastLayers(2), 0.95, 8.0),
    ] {
        let cfg = config(trainable, 0.1, 0.6, 0.0);
        let mut b = bufs(&model, &cfg);
        let mut t =
            FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        // The model's own weights, now run by the f32 head.
        let own = t.params().to_vec();
        t.load_params(&own).unwrap();
        assert!(t.is_tuned());
        let (mut agree, mut worst, mut sum) = (0, 0f64, 0f64);
        for x in &xs {
            let want = run(&model, x);
            let mut got = vec![0.0; 10];
            t.logits(x, &mut b.arena, &mut b.requant, &mut got).unwrap();
            let steps = got
                .iter()
                .zip(&want)
                .filter(|(_, &w)| !saturated(w))
                .map(|(g, w)| ((g - w) / out_q.scale).abs() as f64)
                .fold(0.0, f64::max);
            worst = worst.max(steps);
            sum += steps;
            let p = t.predict(x, &mut b.arena, &mut b.requant).unwrap();
            agree += usize::from(p == model.predict(x, &mut b.arena, &mut b.requant).unwrap());
        }
        let rate = agree as f64 / xs.len() as f64;
        eprintln!(
            "{trainable:?}: argmax agreement {:.1} %, logit error (unsaturated) mean of max {:.2} / max {:.2} output steps",
            100.0 * rate,
            sum / xs.len() as f64,
            worst
        );
        assert!(rate >= min_agree, "{trainable:?}: agreement {rate}");
        assert!(worst <= max_steps, "{trainable:?}: {worst} steps");
    }
}

#[test]
fn a_learn_step_is_minus_lr_times_the_gradient() {
    let mut rng = SplitMix64::new(23);
    for case in cases() {
        let file = encode(&case.ops, &Meta::default());
        let model = Model::from_bytes(file.bytes()).unwrap();
        let lr = 0.5;
        // Margin 1: λ = 1 for every sample, plain cross-entropy.
        let cfg = config(case.trainable, lr, 1.0, 0.0);
        let mut b = bufs(&model, &cfg);
        let mut t =
            FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        // The initial parameters are the model's own weights (dequantized).
        close(&f64s(t.params()), &case.own, 1e-6, case.name);
        for _ in 0..3 {
            let x = rng.f32_vec(case.n_in, -1.0, 1.0);
            let label = rng.range_i64(0, model.output_len() as i64 - 1) as usize;
            let p0 = f64s(t.params());
            let x0 = (case.x0)(&x);
            let g = case.grad(&p0, &x0, label);
            // The reference gradient against finite differences of the reference loss.
            close(&case.finite_diff(&p0, &x0, label), &g, 1e-5, case.name);
            let o = t
                .learn(&x, label as u32, &mut b.arena, &mut b.requant)
                .unwrap();
            assert!(o.updated, "{}", case.name);
            let delta: Vec<f64> = f64s(t.params())
                .iter()
                .zip(&p0)
                .map(|(a, b)| a - b)
                .collect();
            let want: Vec<f64> = g.iter().map(|g| -lr as f64 * g).collect();
            close(&delta, &want, 1e-5, case.name);
        }
    }
}

#[test]
fn momentum_steps_follow_the_heavy_ball_rule() {
    let mut rng = SplitMix64::new(24);
    // f32 LastLayer, int8 Bias, int8 LastLayers(2).
    let names = ["f32 LastLayer", "int8 Bias", "int8 LastLayers(2)"];
    for case in cases().into_iter().filter(|c| names.contains(&c.name)) {
        let file = encode(&case.ops, &Meta::default());
        let model = Model::from_bytes(file.bytes()).unwrap();
        let (lr, mu) = (0.3f64, 0.9f64);
        let cfg = config(case.trainable, lr as f32, 1.0, mu as f32);
        let mut b = bufs(&model, &cfg);
        assert_eq!(b.state.len(), b.params.len());
        let mut t =
            FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        let classes = model.output_len() as i64;
        let mut v: Vec<f64> = vec![0.0; t.params().len()];
        for _ in 0..2 {
            let x = rng.f32_vec(case.n_in, -1.0, 1.0);
            let label = rng.range_i64(0, classes - 1) as usize;
            let p = f64s(t.params());
            let g = case.grad(&p, &(case.x0)(&x), label);
            for (v, g) in v.iter_mut().zip(&g) {
                *v = mu * *v + g;
            }
            t.learn(&x, label as u32, &mut b.arena, &mut b.requant)
                .unwrap();
            let delta: Vec<f64> = f64s(t.params())
                .iter()
                .zip(&p)
                .map(|(a, b)| a - b)
                .collect();
            let want: Vec<f64> = v.iter().map(|v| -lr * v).collect();
            close(&delta, &want, 1e-5, case.name);
        }
    }
}

#[test]
fn confident_samples_are_skipped_and_counted() {
    let (layer, ops) = one_layer(30, 4, 3, 4.0);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let m = 0.7;
    let cfg = config(Trainable::LastLayer, 0.05, m as f32, 0.0);
    let mut b = bufs(&model, &cfg);
    let mut t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    let mut rng = SplitMix64::new(31);
    let (mut seen, mut updated, mut skipped) = (0, 0, 0);
    while seen < 60 {
        let x = rng.f32_vec(4, -1.0, 1.0);
        let label = rng.range_i64(0, 2) as usize;
        let p0 = t.params().to_vec();
        let head = with_params(std::slice::from_ref(&layer), &f64s(&p0));
        let z = ref_forward(&head, &f64s(&x)).remove(0);
        let p_ref = softmax(&z)[label];
        if (p_ref - m).abs() < 1e-4 {
            continue; // too close to the margin to say which side f32 lands on
        }
        let o = t
            .learn(&x, label as u32, &mut b.arena, &mut b.requant)
            .unwrap();
        seen += 1;
        assert!((o.p_true as f64 - p_ref).abs() < 1e-5);
        let argmax = (0..3).fold(0, |a, k| if z[k] > z[a] { k } else { a });
        assert_eq!(o.predicted, argmax);
        if p_ref > m {
            skipped += 1;
            assert!(!o.updated);
            assert_eq!(
                t.params(),
                &p0[..],
                "a skipped sample changed the parameters"
            );
        } else {
            updated += 1;
            assert!(o.updated);
            assert_ne!(t.params(), &p0[..]);
        }
        let s = t.stats();
        assert_eq!((s.seen, s.updated, s.skipped), (seen, updated, skipped));
    }
    assert!(
        updated >= 5 && skipped >= 5,
        "{updated} updated, {skipped} skipped"
    );
}

#[test]
fn the_smooth_step_scales_the_step_by_lambda() {
    let (layer, ops) = one_layer(32, 4, 3, 2.0);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let (m, k, lr) = (0.6f64, 10.0f64, 0.2f64);
    let mut cfg = config(Trainable::LastLayer, lr as f32, m as f32, 0.0);
    cfg.threshold.smooth_k = Some(k as f32);
    let mut b = bufs(&model, &cfg);
    let mut t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    let mut rng = SplitMix64::new(33);
    for _ in 0..5 {
        let x = rng.f32_vec(4, -1.0, 1.0);
        let label = rng.range_i64(0, 2) as usize;
        let p0 = f64s(t.params());
        let head = with_params(std::slice::from_ref(&layer), &p0);
        let p = softmax(&ref_forward(&head, &f64s(&x))[0])[label];
        let s = |v: f64| 1.0 / (1.0 + (-k * v).exp());
        let lambda = 1.0 - s(1.0 - m) * s(p - m) - s(-m) * s(1.0 - m - p);
        let g = ref_grad(&head, &f64s(&x), label);
        t.learn(&x, label as u32, &mut b.arena, &mut b.requant)
            .unwrap();
        let delta: Vec<f64> = f64s(t.params())
            .iter()
            .zip(&p0)
            .map(|(a, b)| a - b)
            .collect();
        let want: Vec<f64> = g.iter().map(|g| -lr * lambda * g).collect();
        close(&delta, &want, 1e-4, "smooth step");
    }
}

#[test]
fn bias_mode_changes_only_biases_and_can_flip_the_prediction() {
    // Identity weights, zero bias: x = (0.6, 0.4) is class 0; one step towards class 1 with
    // lr 1 moves the biases by ∓0.5498 (= p_0), and class 1 wins.
    let d = DenseConfig {
        in_features: 2,
        out_features: 2,
        bias: true,
    };
    let ops = vec![Op::Dense(d, leak(vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]))];
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let cfg = config(Trainable::Bias, 1.0, 0.6, 0.0);
    let mut b = bufs(&model, &cfg);
    let mut t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    assert_eq!(t.params(), &[0.0, 0.0]);
    let x = [0.6f32, 0.4];
    assert_eq!(t.predict(&x, &mut b.arena, &mut b.requant).unwrap(), 0);
    let o = t.learn(&x, 1, &mut b.arena, &mut b.requant).unwrap();
    assert!(o.updated && t.is_tuned());
    let p0 = 1.0 / (1.0 + (-0.2f64).exp());
    close(&f64s(t.params()), &[-p0, p0], 1e-6, "biases");
    assert_eq!(t.predict(&x, &mut b.arena, &mut b.requant).unwrap(), 1);
    let mut z = [0.0; 2];
    t.logits(&x, &mut b.arena, &mut b.requant, &mut z).unwrap();
    close(&f64s(&z), &[0.6 - p0, 0.4 + p0], 1e-6, "logits");

    // int8: the weights stay the file's, the logits are `W_real x0 + b` with the new biases.
    let ops = s8_model(34, &[8, 4], false);
    let w = real_s8(&ops[1]);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let cfg = config(Trainable::Bias, 0.5, 0.6, 0.0);
    let mut b = bufs(&model, &cfg);
    let mut t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    assert_eq!(t.params().len(), 4);
    let mut rng = SplitMix64::new(35);
    let x = rng.f32_vec(8, -1.0, 1.0);
    let x0: Vec<f64> = x.iter().map(|&v| fake_quant(input_q(), v)).collect();
    let before = t.predict(&x, &mut b.arena, &mut b.requant).unwrap();
    let target = (before + 1) % 4;
    let mut flipped = false;
    for _ in 0..40 {
        t.learn(&x, target as u32, &mut b.arena, &mut b.requant)
            .unwrap();
        let head = vec![RefLayer {
            b: f64s(t.params()),
            ..w.clone()
        }];
        let mut z = [0.0; 4];
        t.logits(&x, &mut b.arena, &mut b.requant, &mut z).unwrap();
        close(
            &f64s(&z),
            &ref_forward(&head, &x0)[0],
            1e-5,
            "int8 bias-mode logits",
        );
        if t.predict(&x, &mut b.arena, &mut b.requant).unwrap() == target {
            flipped = true;
            break;
        }
    }
    assert!(flipped, "the bias updates never reached class {target}");
}

/// Accuracy of `t` on `(x, label)` pairs.
fn accuracy(
    t: &mut FineTuner<'_, '_>,
    data: &[(Vec<f32>, u32)],
    arena: &mut [u8],
    requant: &mut [Requantizer],
) -> f64 {
    let hits = data
        .iter()
        .filter(|(x, y)| t.predict(x, arena, requant).unwrap() == *y as usize)
        .count();
    hits as f64 / data.len() as f64
}

#[test]
fn learning_fixes_a_head_whose_labels_moved() {
    // The true label is the int8 model's own class shifted by one (mod 4): the deployed head is
    // wrong on every sample, and a linear head can represent the fix (permuted rows).
    let ops = s8_model(40, &[16, 24, 4], false);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(41);
    let mut arena = vec![0; model.arena_len(1).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let mut data = |n: usize| -> Vec<(Vec<f32>, u32)> {
        (0..n)
            .map(|_| {
                let x = rng.f32_vec(16, -1.0, 1.0);
                let c = model.predict(&x, &mut arena, &mut requant).unwrap();
                (x, ((c + 1) % 4) as u32)
            })
            .collect()
    };
    let (train, test) = (data(3000), data(500));
    for (trainable, lr, momentum, min) in [
        (Trainable::LastLayer, 0.1, 0.0, 0.9),
        (Trainable::LastLayer, 0.01, 0.9, 0.9),
        (Trainable::LastLayers(2), 0.03, 0.0, 0.85),
    ] {
        let cfg = config(trainable, lr, 0.9, momentum);
        let mut b = bufs(&model, &cfg);
        let mut t =
            FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        let before = accuracy(&mut t, &test, &mut b.arena, &mut b.requant);
        // Two passes over the stream.
        for (x, y) in train.iter().chain(&train) {
            t.learn(x, *y, &mut b.arena, &mut b.requant).unwrap();
        }
        let after = accuracy(&mut t, &test, &mut b.arena, &mut b.requant);
        let s = t.stats();
        eprintln!(
            "{trainable:?} momentum {momentum}: accuracy {:.1} % -> {:.1} %, {} updates / {} skipped",
            100.0 * before,
            100.0 * after,
            s.updated,
            s.skipped
        );
        assert_eq!(before, 0.0);
        assert!(after >= min, "{trainable:?}: {after}");
        assert_eq!(s.seen, 6000);
        assert_eq!(s.updated + s.skipped, 6000);
    }
}

#[test]
fn memory_of_each_mode_matches_the_documented_table() {
    let file = encode(&digits_like(60), &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    // The digits student's last layer: 128 → 10. Params `in·out + out` (bias mode `out`);
    // state as params with momentum; scratch `out` (logits) + `out` (gradient), plus `out`
    // weight scales in bias mode over int8 weights.
    let (n_in, out) = (128, 10);
    let full = n_in * out + out;
    let rows = [
        ("Bias", Trainable::Bias, 0.0, out, 0, 3 * out, 160),
        ("Bias", Trainable::Bias, 0.9, out, out, 3 * out, 200),
        (
            "LastLayer",
            Trainable::LastLayer,
            0.0,
            full,
            0,
            2 * out,
            5240,
        ),
        (
            "LastLayer",
            Trainable::LastLayer,
            0.9,
            full,
            full,
            2 * out,
            10400,
        ),
        (
            "LastLayers(1)",
            Trainable::LastLayers(1),
            0.0,
            full,
            0,
            2 * out,
            5240,
        ),
        (
            "LastLayers(1)",
            Trainable::LastLayers(1),
            0.9,
            full,
            full,
            2 * out,
            10400,
        ),
    ];
    eprintln!("| mode | momentum | params | state | scratch | RAM |");
    for (name, trainable, momentum, params, state, scratch, bytes) in rows {
        let cfg = config(trainable, 0.01, 0.6, momentum);
        let lens = FineTuner::lens(&model, &cfg).unwrap();
        let want = FinetuneLens {
            params,
            state,
            scratch,
        };
        assert_eq!(lens, want, "{name} momentum {momentum}");
        assert_eq!(lens.ram_bytes(), 4 * (params + state + scratch));
        assert_eq!(lens.ram_bytes(), bytes, "{name} momentum {momentum}");
        let mut b = bufs(&model, &cfg);
        let t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        assert_eq!(t.ram_bytes(), bytes);
        eprintln!("| {name} | {momentum} | {params} | {state} | {scratch} | {bytes} B |");
    }
    // Deeper heads: Σ (in·out + out) params, Σ out + 2 · max out scratch.
    let mut rng = SplitMix64::new(61);
    let file = encode(
        &f32_ops(&random_mlp(&mut rng, &[5, 7, 6, 3]), false),
        &Meta::default(),
    );
    let model = Model::from_bytes(file.bytes()).unwrap();
    for (n, params, scratch) in [
        (2, 7 * 6 + 6 + 6 * 3 + 3, 6 + 3 + 2 * 6),
        (3, 5 * 7 + 7 + 7 * 6 + 6 + 6 * 3 + 3, 7 + 6 + 3 + 2 * 7),
    ] {
        let cfg = config(Trainable::LastLayers(n), 0.01, 0.6, 0.0);
        let lens = FineTuner::lens(&model, &cfg).unwrap();
        assert_eq!(
            (lens.params, lens.state, lens.scratch),
            (params, 0, scratch)
        );
    }
}

fn expect_config(model: &Model<'_>, cfg: FinetuneConfig, what: &str) {
    assert_eq!(FineTuner::lens(model, &cfg), Err(Error::Config), "{what}");
    let (mut p, mut s, mut x) = (vec![0.0; 4096], vec![0.0; 4096], vec![0.0; 4096]);
    let r = FineTuner::new(*model, cfg, &mut p, &mut s, &mut x);
    assert_eq!(r.err(), Some(Error::Config), "{what}");
}

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn unsupported_heads_and_bad_configs_are_config_errors() {
    let lr = |trainable| config(trainable, 0.1, 0.6, 0.0);
    // The convolution of the digits student would be in the head.
    let file = encode(&digits_like(70), &Meta::default());
    let digits = Model::from_bytes(file.bytes()).unwrap();
    expect_config(&digits, lr(Trainable::LastLayers(2)), "conv in head");
    expect_config(
        &digits,
        lr(Trainable::LastLayers(3)),
        "more layers than the model",
    );
    expect_config(&digits, lr(Trainable::LastLayers(0)), "zero layers");
    let bad = [
        config(Trainable::LastLayer, f32::NAN, 0.6, 0.0),
        config(Trainable::LastLayer, -0.1, 0.6, 0.0),
        config(Trainable::LastLayer, f32::INFINITY, 0.6, 0.0),
        config(Trainable::LastLayer, 0.1, 0.6, 1.0),
        config(Trainable::LastLayer, 0.1, 0.6, -0.5),
        config(Trainable::LastLayer, 0.1, 0.6, f32::NAN),
        config(Trainable::LastLayer, 0.1, 0.3, 0.0),
        config(Trainable::LastLayer, 0.1, 1.5, 0.0),
    ];
    for cfg in bad {
        expect_config(&digits, cfg, "bad config");
    }
    // f32 heads through activations the head cannot train through.
    let mut rng = SplitMix64::new(71);
    let f = random_mlp(&mut rng, &[4, 5, 3]);
    let act = |kind, len| Op::Activation(ActivationConfig { kind, len });
    let mut tanh_between = f32_ops(&f, false);
    tanh_between[1] = act(ActivationKind::Tanh, 5);
    let mut tanh_after = f32_ops(&f, false);
    tanh_after.push(act(ActivationKind::Tanh, 3));
    let mut partial_softmax = f32_ops(&f[..1], false);
    partial_softmax.push(act(ActivationKind::Softmax { depth: 1 }, 5));
    let mut softmax_then_relu = f32_ops(&f, true);
    softmax_then_relu.push(act(ActivationKind::Relu, 3));
    let cases = [
        (
            tanh_between.clone(),
            Trainable::LastLayers(2),
            "tanh between",
        ),
        (tanh_after, Trainable::LastLayer, "tanh after"),
        (partial_softmax, Trainable::LastLayer, "softmax over part"),
        (softmax_then_relu, Trainable::LastLayer, "op after softmax"),
    ];
    for (ops, trainable, what) in cases {
        let file = encode(&ops, &Meta::default());
        let model = Model::from_bytes(file.bytes()).unwrap();
        expect_config(&model, lr(trainable), what);
    }
    // The tanh before the head is fine: it is backbone.
    let file = encode(&tanh_between, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    assert!(FineTuner::lens(&model, &lr(Trainable::LastLayer)).is_ok());
    // An int8 layer clamped to ReLU6 in the head.
    let mut ops = s8_model(72, &[4, 5, 3], false);
    if let Op::DenseS8(c, _) = &mut ops[1] {
        c.act.max = (c.output.zero_point + 40) as i8;
    }
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    expect_config(&model, lr(Trainable::LastLayers(2)), "relu6 clamp");
    assert!(FineTuner::lens(&model, &lr(Trainable::LastLayer)).is_ok());
}

#[test]
fn wrong_buffers_labels_and_non_finite_inputs_have_defined_results() {
    let ops = s8_model(80, &[6, 5, 4], true);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let cfg = config(Trainable::LastLayers(2), 0.1, 0.6, 0.5);
    let l = FineTuner::lens(&model, &cfg).unwrap();
    let (mut p, mut s, mut x) = (
        vec![0.0; l.params],
        vec![0.0; l.state],
        vec![0.0; l.scratch],
    );
    let mut p1 = vec![0.0; l.params + 1];
    let r = FineTuner::new(model, cfg, &mut p1, &mut s, &mut x);
    assert_eq!(
        r.err(),
        Some(len_err(Buffer::Params, l.params, l.params + 1))
    );
    let mut s1 = vec![0.0; l.state - 1];
    let r = FineTuner::new(model, cfg, &mut p, &mut s1, &mut x);
    assert_eq!(
        r.err(),
        Some(len_err(Buffer::OptimizerState, l.state, l.state - 1))
    );
    let mut x1 = vec![0.0; l.scratch - 1];
    let r = FineTuner::new(model, cfg, &mut p, &mut s, &mut x1);
    assert_eq!(
        r.err(),
        Some(len_err(Buffer::Scratch, l.scratch, l.scratch - 1))
    );
    // A longer scratch is fine.
    let mut x2 = vec![0.0; l.scratch + 7];
    assert!(FineTuner::new(model, cfg, &mut p, &mut s, &mut x2).is_ok());

    let mut t = FineTuner::new(model, cfg, &mut p, &mut s, &mut x).unwrap();
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let x6 = [0.1f32; 6];
    assert_eq!(
        t.learn(&x6, 4, &mut arena, &mut requant),
        Err(Error::Index {
            position: 0,
            len: 4
        })
    );
    assert_eq!(
        t.learn(&[0.1; 5], 0, &mut arena, &mut requant).err(),
        Some(len_err(Buffer::Input, 6, 5))
    );
    let short = model.arena_len(1).unwrap() - 1;
    assert!(matches!(
        t.learn(&x6, 0, &mut arena[..short], &mut requant),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Scratch,
            ..
        }))
    ));
    let r = t.learn(&x6, 0, &mut arena, &mut requant[..model.requant_len() - 1]);
    assert!(matches!(
        r,
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Requant,
            ..
        }))
    ));
    assert_eq!(t.stats().seen, 0, "errors are not counted");
    assert!(!t.is_tuned());
    for tuned in [false, true] {
        let mut out = [0.0; 3];
        let r = t.logits(&x6, &mut arena, &mut requant, &mut out);
        assert_eq!(r, Err(len_err(Buffer::Output, 4, 3)), "tuned {tuned}");
        assert_eq!(
            t.predict(&[0.0; 7], &mut arena, &mut requant).err(),
            Some(len_err(Buffer::Input, 6, 7))
        );
        let own = t.params().to_vec();
        t.load_params(&own).unwrap();
    }

    // Non-finite inputs: no update, NaN p_true, counted as seen and skipped.
    let before = t.params().to_vec();
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut xb = x6;
        xb[2] = bad;
        let o = t.learn(&xb, 1, &mut arena, &mut requant).unwrap();
        assert!(!o.updated && o.p_true.is_nan() && o.predicted < 4);
        assert!(t.predict(&xb, &mut arena, &mut requant).unwrap() < 4);
    }
    assert_eq!(t.params(), &before[..]);
    let st = t.stats();
    assert_eq!((st.seen, st.updated, st.skipped), (3, 0, 3));

    // load_params: wrong length or non-finite values change nothing.
    t.reset();
    let own = t.params().to_vec();
    assert_eq!(
        t.load_params(&own[1..]),
        Err(len_err(Buffer::Params, own.len(), own.len() - 1))
    );
    let mut nan = own.clone();
    nan[0] = f32::NAN;
    assert_eq!(t.load_params(&nan), Err(Error::Config));
    assert!(!t.is_tuned());
    assert_eq!(t.params(), &own[..]);

    // restore (in place, as from flash): success tunes; a failed read or a non-finite value
    // puts the model's own weights back and leaves the head untuned.
    let shifted: Vec<f32> = own.iter().map(|v| v + 0.25).collect();
    let r: Result<u8, &str> = t.restore(
        |p| {
            p.copy_from_slice(&shifted);
            Ok(7)
        },
        "bad",
    );
    assert_eq!(r, Ok(7));
    assert!(t.is_tuned());
    assert_eq!(t.params(), &shifted[..]);
    let r: Result<u8, &str> = t.restore(
        |p| {
            p.fill(1.0); // a reader that fails half-way through
            Err("flash")
        },
        "bad",
    );
    assert_eq!(r, Err("flash"));
    assert!(!t.is_tuned());
    assert_eq!(t.params(), &own[..]);
    let r: Result<u8, &str> = t.restore(
        |p| {
            p[0] = f32::INFINITY;
            Ok(1)
        },
        "bad",
    );
    assert_eq!(r, Err("bad"));
    assert!(!t.is_tuned());
    assert_eq!(t.params(), &own[..]);

    // An f32 model: NaN reaches the logits; the same defined result.
    let mut rng = SplitMix64::new(81);
    let file = encode(
        &f32_ops(&random_mlp(&mut rng, &[3, 4, 2]), false),
        &Meta::default(),
    );
    let model = Model::from_bytes(file.bytes()).unwrap();
    let cfg = config(Trainable::LastLayer, 0.1, 0.6, 0.0);
    let mut b = bufs(&model, &cfg);
    let mut t = FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    let o = t
        .learn(&[f32::NAN, 0.0, 1.0], 0, &mut b.arena, &mut b.requant)
        .unwrap();
    assert!(!o.updated && o.p_true.is_nan());
    assert_eq!(o.predicted, 0, "all-NaN logits predict class 0");
    assert_eq!(t.stats().skipped, 1);
}

#[test]
fn random_buffer_lengths_never_panic() {
    let ops = s8_model(90, &[6, 5, 4], false);
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let mut rng = SplitMix64::new(91);
    for trainable in [
        Trainable::Bias,
        Trainable::LastLayer,
        Trainable::LastLayers(2),
    ] {
        let cfg = config(trainable, 0.1, 0.9, 0.5);
        let l = FineTuner::lens(&model, &cfg).unwrap();
        let mut b = bufs(&model, &cfg);
        let mut t =
            FineTuner::new(model, cfg, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
        for _ in 0..200 {
            let mut len = |n: usize| rng.range_i64(0, 2 * n as i64 + 1) as usize;
            let x = vec![0.3f32; len(6)];
            let mut arena = vec![0u8; len(model.arena_len(1).unwrap())];
            let mut requant = vec![Requantizer::ZERO; len(model.requant_len())];
            let mut out = vec![0.0; len(4)];
            let label = len(4) as u32;
            let _ = t.learn(&x, label, &mut arena, &mut requant);
            let _ = t.logits(&x, &mut arena, &mut requant, &mut out);
            let _ = t.predict(&x, &mut arena, &mut requant);
            let p = vec![0.5; len(l.params)];
            let _ = t.load_params(&p);
        }
    }
}

#[test]
fn run_prefix_stops_where_asked() {
    let mut rng = SplitMix64::new(100);
    let meta = Meta {
        scaler: Some(scaler(&mut rng, 6)),
        ..Meta::default()
    };
    let ops = s8_model(101, &[6, 5, 4], false);
    let file = encode(&ops, &meta);
    let model = Model::from_bytes(file.bytes()).unwrap();
    let x = rng.f32_vec(6, -1.0, 1.0);
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    // 0 ops: the scaled input (the scaler's own transform as reference).
    let mut scaled = x.clone();
    meta.scaler.unwrap().transform(&mut scaled).unwrap();
    let (dt, bytes) = model
        .run_prefix(0, 1, &x, &mut arena, &mut requant)
        .unwrap();
    assert_eq!(dt, tinytune::model::DType::F32);
    let got: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got, scaled);
    // 1 op: the quantized input.
    let (dt, bytes) = model
        .run_prefix(1, 1, &x, &mut arena, &mut requant)
        .unwrap();
    assert_eq!(dt, tinytune::model::DType::S8);
    let want: Vec<u8> = scaled
        .iter()
        .map(|&v| input_q().quantize(v) as u8)
        .collect();
    assert_eq!(bytes, &want[..]);
    // All ops: the output of `run`.
    let (dt, bytes) = model
        .run_prefix(model.len(), 1, &x, &mut arena, &mut requant)
        .unwrap();
    assert_eq!(dt, tinytune::model::DType::F32);
    let got: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(got, run(&model, &x));
    let r = model.run_prefix(model.len() + 1, 1, &x, &mut arena, &mut requant);
    assert_eq!(r.err(), Some(Error::Config));
}
