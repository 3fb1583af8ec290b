//! SGD (plain, momentum, Nesterov, L1/L2), Adam and AdamW against f64 re-implementations of
//! PyTorch's update rules written here, over several steps; convergence on a convex quadratic;
//! and the optimizers driven by `Sequential::train_batch`.

use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Layer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::Init;
use tinytune::train::optim::{Adam, AdamW, Optimizer, Sgd};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

/// `sign(p)` with `sign(0) = 0`.
fn sign(p: f64) -> f64 {
    if p > 0.0 {
        1.0
    } else if p < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// PyTorch SGD (dampening 0) with an added L1 term, in f64; `v` is the momentum buffer.
#[allow(clippy::too_many_arguments)]
fn sgd_ref(
    p: &mut [f64],
    v: &mut [f64],
    g: &[f64],
    lr: f64,
    mu: f64,
    nest: bool,
    wd: f64,
    l1: f64,
) {
    for i in 0..p.len() {
        let d = g[i] + wd * p[i] + l1 * sign(p[i]);
        let step = if mu == 0.0 {
            d
        } else {
            v[i] = mu * v[i] + d;
            if nest {
                d + mu * v[i]
            } else {
                v[i]
            }
        };
        p[i] -= lr * step;
    }
}

/// Adam / AdamW step `t` (1-based) in f64, textbook form `lr · m̂ / (√v̂ + eps)`.
#[allow(clippy::too_many_arguments)]
fn adam_ref(
    p: &mut [f64],
    m: &mut [f64],
    v: &mut [f64],
    g: &[f64],
    t: i32,
    lr: f64,
    wd: f64,
    decoupled: bool,
) {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    for i in 0..p.len() {
        let d = if decoupled {
            p[i] *= 1.0 - lr * wd;
            g[i]
        } else {
            g[i] + wd * p[i]
        };
        m[i] = b1 * m[i] + (1.0 - b1) * d;
        v[i] = b2 * v[i] + (1.0 - b2) * d * d;
        let mh = m[i] / (1.0 - b1.powi(t));
        let vh = v[i] / (1.0 - b2.powi(t));
        p[i] -= lr * mh / (vh.sqrt() + eps);
    }
}

fn uniform(rng: &mut SplitMix64, n: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..n).map(|_| rng.uniform(lo, hi)).collect()
}

fn assert_near(got: &[f32], want: &[f64], rel: f64, what: &str) {
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (g as f64 - w).abs();
        assert!(
            err <= rel * w.abs().max(1e-2),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// Runs `opt` for `steps` steps of fixed random gradients and compares with `reference`.
fn check_steps<O: Optimizer>(
    mut opt: O,
    seed: u64,
    reference: impl Fn(&mut [f64], &mut [f64], &mut [f64], &[f64], i32),
    what: &str,
) {
    const N: usize = 7;
    let mut rng = SplitMix64::new(seed);
    let p0 = uniform(&mut rng, N, -2.0, 2.0);
    let mut p: Vec<f32> = p0.iter().map(|&x| x as f32).collect();
    let mut state = vec![0.0f32; opt.state_len(N)];
    let (mut pr, mut s1, mut s2) = (p0.clone(), vec![0.0; N], vec![0.0; N]);
    for t in 1..=6 {
        let g = uniform(&mut rng, N, -1.5, 1.5);
        let mut g32: Vec<f32> = g.iter().map(|&x| x as f32).collect();
        opt.begin_step(&mut g32);
        opt.update(&mut p, &g32, &mut state);
        reference(&mut pr, &mut s1, &mut s2, &g, t);
        assert_near(&p, &pr, 1e-5, &format!("{what} step {t}"));
    }
}

#[test]
fn sgd_variants_match_f64_reference_over_six_steps() {
    let cases = [
        (Sgd::new(0.1), 0.0, false, 0.0, 0.0),
        (Sgd::new(0.05).with_momentum(0.9), 0.9, false, 0.0, 0.0),
        (
            Sgd::new(0.05).with_momentum(0.8).nesterov(),
            0.8,
            true,
            0.0,
            0.0,
        ),
        (Sgd::new(0.1).with_weight_decay(0.3), 0.0, false, 0.3, 0.0),
        (
            Sgd::new(0.05)
                .with_momentum(0.9)
                .nesterov()
                .with_weight_decay(0.1)
                .with_l1(0.2),
            0.9,
            true,
            0.1,
            0.2,
        ),
    ];
    for (k, (opt, mu, nest, wd, l1)) in cases.into_iter().enumerate() {
        assert_eq!(opt.state_per_param(), usize::from(mu != 0.0));
        let lr = opt.lr as f64;
        check_steps(
            opt,
            10 + k as u64,
            |p, v, _, g, _| sgd_ref(p, v, g, lr, mu, nest, wd, l1),
            &format!("sgd case {k}"),
        );
    }
}

#[test]
fn nesterov_differs_from_heavy_ball_after_the_first_step() {
    let (mut a, mut b) = ([1.0f32], [1.0f32]);
    let (mut sa, mut sb) = ([0.0f32], [0.0f32]);
    let mut heavy = Sgd::new(0.1).with_momentum(0.5);
    let mut nest = Sgd::new(0.1).with_momentum(0.5).nesterov();
    heavy.update(&mut a, &[1.0], &mut sa);
    nest.update(&mut b, &[1.0], &mut sb);
    // Heavy ball: v = 1, p = 1 − 0.1. Nesterov: v = 1, p = 1 − 0.1 · (1 + 0.5).
    assert!((a[0] - 0.9).abs() < 1e-7 && (b[0] - 0.85).abs() < 1e-7);
}

#[test]
fn adam_coupled_and_adamw_decoupled_match_f64_reference_over_six_steps() {
    for (k, wd) in [0.0f64, 0.1, 0.5].into_iter().enumerate() {
        let adam = Adam::new(0.01).with_weight_decay(wd as f32);
        assert_eq!(adam.state_len(5), 10);
        check_steps(
            adam,
            20 + k as u64,
            |p, m, v, g, t| adam_ref(p, m, v, g, t, 0.01, wd, false),
            &format!("adam wd {wd}"),
        );
        check_steps(
            AdamW::new(0.01, wd as f32),
            30 + k as u64,
            |p, m, v, g, t| adam_ref(p, m, v, g, t, 0.01, wd, true),
            &format!("adamw wd {wd}"),
        );
    }
}

/// First Adam step moves every parameter by `lr` against the gradient sign (m̂ / √v̂ = ±1):
/// bias correction at work (without it the step would be `0.1 / √0.001 · lr ≈ 3.2 lr`).
#[test]
fn adam_first_step_is_lr_times_gradient_sign() {
    let mut adam = Adam::new(0.01);
    let mut p = [1.0f32, -1.0, 0.5];
    let mut g = [3.0f32, -0.2, 1e-3];
    let mut s = [0.0f32; 6];
    adam.begin_step(&mut g);
    adam.update(&mut p, &g, &mut s);
    assert_eq!(adam.step(), 1);
    let want = [0.99f32, -0.99, 0.49];
    for (a, b) in p.iter().zip(want) {
        assert!((a - b).abs() < 2e-6, "{p:?}");
    }
}

#[test]
fn adamw_and_adam_differ_with_weight_decay_and_agree_without() {
    let run = |opt: &mut dyn Optimizer| {
        let mut p = [2.0f32, -1.0];
        let mut s = [0.0f32; 4];
        for _ in 0..3 {
            let mut g = [0.5f32, 0.25];
            opt.begin_step(&mut g);
            opt.update(&mut p, &g, &mut s);
        }
        p
    };
    assert_eq!(run(&mut Adam::new(0.1)), run(&mut AdamW::new(0.1, 0.0)));
    let (a, w) = (
        run(&mut Adam::new(0.1).with_weight_decay(0.5)),
        run(&mut AdamW::new(0.1, 0.5)),
    );
    assert!((a[0] - w[0]).abs() > 1e-3, "{a:?} {w:?}");
}

/// Minimises `f(p) = Σ aᵢ (pᵢ − cᵢ)²` (aᵢ from 0.5 to 5, condition number 10) from a fixed start;
/// each optimizer gets within `tol` of `c` (max abs error) in the stated number of steps.
#[test]
fn each_optimizer_minimises_an_ill_conditioned_quadratic() {
    let a = [0.5f32, 1.0, 2.0, 3.5, 5.0];
    let c = [1.0f32, -2.0, 0.5, 3.0, -0.7];
    let mut cases: Vec<(&str, Box<dyn Optimizer>, usize, f32)> = vec![
        ("sgd", Box::new(Sgd::new(0.09)), 300, 1e-4),
        (
            "momentum",
            Box::new(Sgd::new(0.02).with_momentum(0.9)),
            300,
            1e-4,
        ),
        (
            "nesterov",
            Box::new(Sgd::new(0.02).with_momentum(0.9).nesterov()),
            300,
            1e-4,
        ),
        ("adam", Box::new(Adam::new(0.05)), 1000, 1e-3),
        ("adamw wd 0", Box::new(AdamW::new(0.05, 0.0)), 1000, 1e-3),
    ];
    for (name, opt, steps, tol) in cases.iter_mut() {
        let mut p = [0.0f32; 5];
        let mut s = vec![0.0f32; opt.state_len(5)];
        for _ in 0..*steps {
            let mut g: Vec<f32> = (0..5).map(|i| 2.0 * a[i] * (p[i] - c[i])).collect();
            opt.begin_step(&mut g);
            opt.update(&mut p, &g, &mut s);
        }
        let err = p
            .iter()
            .zip(c)
            .map(|(p, c)| (p - c).abs())
            .fold(0.0, f32::max);
        assert!(
            err < *tol,
            "{name}: max error {err} after {steps} steps, p = {p:?}"
        );
    }
}

fn model<'a>(p1: &'a mut [f32], p2: &'a mut [f32]) -> Sequential<AnyLayer<'a>, 3> {
    let d1 = DenseConfig {
        in_features: 3,
        out_features: 4,
        bias: true,
    };
    let d2 = DenseConfig {
        in_features: 4,
        out_features: 2,
        bias: true,
    };
    let act = ActivationConfig {
        kind: ActivationKind::Tanh,
        len: 4,
    };
    let mut m = Sequential::new([
        AnyLayer::from(d1.init(p1).unwrap()),
        act.init().unwrap().into(),
        d2.init(p2).unwrap().into(),
    ])
    .unwrap();
    m.init_params(Init::XavierUniform, &mut SeededRng::seed_from_u64(3))
        .unwrap();
    m
}

/// Half squared error, mean over the batch; fills the gradient.
fn mse(out: &[f32], target: &[f32], grad: &mut [f32], batch: usize) -> Result<f32, Error> {
    let mut l = 0.0;
    for ((o, t), g) in out.iter().zip(target).zip(grad.iter_mut()) {
        *g = (o - t) / batch as f32;
        l += 0.5 * (o - t) * (o - t) / batch as f32;
    }
    Ok(l)
}

/// `train_batch` with Adam equals forward/backward plus the f64 Adam reference applied to the
/// concatenated parameters (so the per-layer split of the interleaved state is right), over
/// four steps; a state of the wrong length is rejected before anything changes.
#[test]
fn sequential_train_batch_with_adam_matches_reference_and_checks_state_length() {
    let (mut a1, mut a2, mut b1, mut b2) = ([0.0f32; 16], [0.0f32; 10], [0.0f32; 16], [0.0f32; 10]);
    let mut ma = model(&mut a1, &mut a2);
    let mut mb = model(&mut b1, &mut b2);
    let n = ma.param_len();
    let mut opt = Adam::new(0.05).with_weight_decay(0.01);
    let lens = ma.train_buffer_lens(2);
    let (mut cache, mut go, mut grads, mut scratch) = (
        vec![0.0; lens.cache],
        vec![0.0; lens.grad_output],
        vec![0.0; n],
        vec![0.0; lens.scratch],
    );
    let mut state = vec![0.0f32; opt.state_len(n)];
    assert_eq!(state.len(), 2 * n);
    let x = [0.3f32, -0.8, 1.1, -0.4, 0.9, 0.2];
    let y = [0.5f32, -0.5, -1.0, 1.0];
    let flat = |m: &Sequential<AnyLayer, 3>| -> Vec<f64> {
        m.layers()
            .iter()
            .flat_map(|l| l.params().iter().map(|&v| v as f64))
            .collect()
    };
    let (mut pr, mut mr, mut vr) = (flat(&mb), vec![0.0; n], vec![0.0; n]);
    let mut rng = SeededRng::seed_from_u64(0);
    for t in 1..=4 {
        let mut bufs = TrainBuffers {
            cache: &mut cache,
            grad_output: &mut go,
            grads: &mut grads,
            scratch: &mut scratch,
            opt_state: &mut state,
        };
        ma.train_batch(
            2,
            &x,
            &mut bufs,
            &mut rng,
            |o, g| mse(o, &y, g, 2),
            &mut opt,
        )
        .unwrap();
        // Model b: gradients only, then the reference update.
        let mut g = vec![0.0f32; n];
        let mut c = vec![0.0f32; lens.cache];
        let mut gout = vec![0.0f32; 4];
        let out = mb.forward_train(2, &x, &mut c, &mut rng).unwrap().to_vec();
        mse(&out, &y, &mut gout, 2).unwrap();
        mb.backward(2, &x, &c, &gout, &mut g, &mut scratch).unwrap();
        let g64: Vec<f64> = g.iter().map(|&v| v as f64).collect();
        adam_ref(&mut pr, &mut mr, &mut vr, &g64, t, 0.05, 0.01, false);
        let mut i = 0;
        for l in mb.layers_mut().iter_mut() {
            if let Some(p) = l.params_mut() {
                for v in p.iter_mut() {
                    *v = pr[i] as f32;
                    i += 1;
                }
            }
        }
        let got: Vec<f32> = flat(&ma).iter().map(|&v| v as f32).collect();
        assert_near(&got, &pr, 1e-4, &format!("step {t}"));
    }
    let before = flat(&ma);
    let mut short = vec![0.0f32; 2 * n - 1];
    let mut bufs = TrainBuffers {
        cache: &mut cache,
        grad_output: &mut go,
        grads: &mut grads,
        scratch: &mut scratch,
        opt_state: &mut short,
    };
    let err = ma.train_batch(
        2,
        &x,
        &mut bufs,
        &mut rng,
        |o, g| mse(o, &y, g, 2),
        &mut opt,
    );
    let want = ShapeError::Length {
        buffer: Buffer::OptimizerState,
        expected: 2 * n,
        actual: 2 * n - 1,
    };
    assert_eq!(err, Err(Error::Shape(want)));
    assert_eq!(flat(&ma), before);
    // Plain SGD needs no state: an empty slice is right, a non-empty one is an error.
    let mut sgd = Sgd::new(0.1);
    assert_eq!(sgd.state_len(n), 0);
    assert!(ma.apply(&mut grads, &mut sgd, &mut []).is_ok());
    let err = ma.apply(&mut grads, &mut sgd, &mut [0.0; 1]);
    assert!(matches!(
        err,
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::OptimizerState,
            ..
        }))
    ));
}

#[test]
fn validate_rejects_out_of_domain_fields() {
    assert!(Sgd::new(0.1).with_momentum(0.9).validate().is_ok());
    assert_eq!(Sgd::new(f32::NAN).validate(), Err(Error::Config));
    assert_eq!(
        Sgd::new(0.1).with_momentum(1.0).validate(),
        Err(Error::Config)
    );
    assert_eq!(Sgd::new(0.1).with_l1(-1.0).validate(), Err(Error::Config));
    assert!(Adam::default().validate().is_ok());
    assert_eq!(
        Adam::new(0.1).with_betas(0.9, 1.0).validate(),
        Err(Error::Config)
    );
    assert_eq!(
        Adam::new(0.1).with_eps(-1e-8).validate(),
        Err(Error::Config)
    );
    assert_eq!(
        AdamW::new(0.1, f32::INFINITY).validate(),
        Err(Error::Config)
    );
}
