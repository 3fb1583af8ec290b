//! Gradient clipping, learning-rate schedules and L1/L2 regularisation: hand-worked values,
//! f64 formulas written here, and deterministic sparse-regression runs.

use tinytune::train::optim::regularize::penalty_grad;
use tinytune::train::optim::{
    add_penalty_grad, clip_grad_norm, penalty, Adam, Clipped, LearningRate, LrSchedule, Optimizer,
    Schedule, Scheduled, Sgd, Warmup,
};
use tinytune::Error;
use tinytune_host_tests::rng::SplitMix64;

#[test]
fn clip_hand_cases() {
    // ‖(3, 4)‖ = 5 → scaled to norm 1: (0.6, 0.8).
    let mut g = [3.0f32, 4.0];
    assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
    assert!((g[0] - 0.6).abs() < 1e-7 && (g[1] - 0.8).abs() < 1e-7);
    // Below (and at) the threshold: unchanged.
    let mut g = [3.0f32, 4.0];
    assert_eq!(clip_grad_norm(&mut g, 5.0), 5.0);
    assert_eq!(g, [3.0, 4.0]);
    assert_eq!(clip_grad_norm(&mut g, 10.0), 5.0);
    assert_eq!(g, [3.0, 4.0]);
    // Empty and all-zero gradients: norm 0.
    assert_eq!(clip_grad_norm(&mut [], 1.0), 0.0);
    assert_eq!(clip_grad_norm(&mut [0.0; 3], 1.0), 0.0);
    // max_norm 0 zeroes; inf never clips.
    let mut g = [1.0f32, -2.0];
    clip_grad_norm(&mut g, 0.0);
    assert_eq!(g, [0.0, -0.0]);
    let mut g = [1.0f32, -2.0];
    clip_grad_norm(&mut g, f32::INFINITY);
    assert_eq!(g, [1.0, -2.0]);
}

#[test]
fn clip_non_finite_gradients_report_the_norm_and_change_nothing() {
    let mut g = [1.0f32, f32::NAN, 2.0];
    assert!(clip_grad_norm(&mut g, 1.0).is_nan());
    assert_eq!((g[0], g[2]), (1.0, 2.0));
    let mut g = [1.0f32, f32::NEG_INFINITY];
    assert_eq!(clip_grad_norm(&mut g, 1.0), f32::INFINITY);
    assert_eq!(g, [1.0, f32::NEG_INFINITY]);
    let mut g = [3.0f32, 4.0];
    assert_eq!(clip_grad_norm(&mut g, f32::NAN), 5.0);
    assert_eq!(g, [3.0, 4.0]);
}

/// Random vectors (norms from 1e-30 to 1e30, no overflow or underflow): the returned norm equals
/// the f64 norm, the clipped norm is `max_norm` and the direction is kept (cosine 1 within 1e-6).
#[test]
fn clip_keeps_direction_and_reaches_max_norm_on_random_vectors() {
    let mut rng = SplitMix64::new(7);
    for (k, scale) in [1e-30f64, 1e-3, 1.0, 1e3, 1e30].into_iter().enumerate() {
        let g0: Vec<f64> = (0..50).map(|_| rng.uniform(-1.0, 1.0) * scale).collect();
        let mut g: Vec<f32> = g0.iter().map(|&x| x as f32).collect();
        let g0: Vec<f64> = g.iter().map(|&x| x as f64).collect();
        let norm0 = g0.iter().map(|x| x * x).sum::<f64>().sqrt();
        let max = norm0 * 0.25;
        let got = clip_grad_norm(&mut g, max as f32) as f64;
        assert!(
            (got - norm0).abs() <= 1e-6 * norm0,
            "case {k}: {got} vs {norm0}"
        );
        let norm1 = g.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt();
        assert!(
            (norm1 - max).abs() <= 1e-5 * max,
            "case {k}: clipped norm {norm1} vs {max}"
        );
        let dot: f64 = g.iter().zip(&g0).map(|(&a, b)| a as f64 * b).sum();
        assert!((dot / (norm0 * norm1) - 1.0).abs() < 1e-6, "case {k}");
    }
}

/// `Clipped` clips the whole step's gradient (global norm), then runs the inner optimizer: with
/// SGD lr 1 and gradient (6, 8) clipped to norm 2, the parameters move by (−1.2, −1.6).
#[test]
fn clipped_wrapper_clips_in_begin_step_and_keeps_inner_state_layout() {
    let mut opt = Clipped::new(Sgd::new(1.0), 2.0).unwrap();
    let mut g = [6.0f32, 8.0];
    opt.begin_step(&mut g);
    assert_eq!(opt.last_norm(), 10.0);
    let mut p = [0.0f32; 2];
    opt.update(&mut p[..1], &g[..1], &mut []);
    opt.update(&mut p[1..], &g[1..], &mut []);
    assert!(
        (p[0] + 1.2).abs() < 1e-6 && (p[1] + 1.6).abs() < 1e-6,
        "{p:?}"
    );
    let adam = Clipped::new(Adam::new(0.1), 1.0).unwrap();
    assert_eq!(adam.state_len(4), 8);
    assert_eq!(Clipped::new(Sgd::new(1.0), -1.0).err(), Some(Error::Config));
    assert_eq!(
        Clipped::new(Sgd::new(1.0), f32::NAN).err(),
        Some(Error::Config)
    );
}

fn close(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() <= 1e-6 * b.abs().max(1e-3)
}

#[test]
fn schedules_match_hand_computed_values() {
    let c = Schedule::Constant { lr: 0.3 };
    assert!([0, 1, 1000].iter().all(|&s| c.lr_at(s) == 0.3));
    let s = Schedule::StepDecay {
        lr: 1.0,
        gamma: 0.5,
        every: 3,
    };
    let want = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125];
    for (t, w) in want.iter().enumerate() {
        assert!(close(s.lr_at(t as u32), *w), "step decay {t}");
    }
    assert!(close(s.lr_at(30), 0.5f64.powi(10)));
    assert_eq!(
        Schedule::StepDecay {
            lr: 1.0,
            gamma: 0.5,
            every: 0
        }
        .lr_at(9),
        1.0
    );
    let cos = Schedule::Cosine {
        lr: 1.0,
        min_lr: 0.1,
        steps: 10,
    };
    for t in 0..=12u32 {
        let want = if t >= 10 {
            0.1
        } else {
            0.1 + 0.9 * 0.5 * (1.0 + (std::f64::consts::PI * t as f64 / 10.0).cos())
        };
        assert!(
            close(cos.lr_at(t), want),
            "cosine {t}: {} vs {want}",
            cos.lr_at(t)
        );
    }
    // Hand values: start 1.0, half-way 0.55, end 0.1.
    assert!(close(cos.lr_at(0), 1.0) && close(cos.lr_at(5), 0.55) && close(cos.lr_at(10), 0.1));
    assert_eq!(
        Schedule::Cosine {
            lr: 1.0,
            min_lr: 0.2,
            steps: 0
        }
        .lr_at(0),
        0.2
    );
    let w = Warmup {
        steps: 4,
        then: cos,
    };
    let want = [0.25, 0.5, 0.75, 1.0, 1.0];
    for (t, v) in want.iter().enumerate() {
        assert!(close(w.lr_at(t as u32), *v), "warmup {t}");
    }
    assert!(close(w.lr_at(9), 0.55));
    assert_eq!(Warmup { steps: 0, then: c }.lr_at(0), 0.3);
}

/// `Scheduled` sets the rate from the schedule at each `begin_step`: SGD on a constant gradient
/// 1 moves the parameter by the sum of the scheduled rates.
#[test]
fn scheduled_wrapper_applies_the_rate_of_each_step() {
    let sched = Warmup {
        steps: 2,
        then: Schedule::StepDecay {
            lr: 0.4,
            gamma: 0.5,
            every: 2,
        },
    };
    let mut opt = Scheduled::new(Clipped::new(Sgd::new(123.0), 10.0).unwrap(), sched);
    let mut p = [0.0f32];
    let mut lrs = vec![];
    for _ in 0..6 {
        let mut g = [1.0f32];
        opt.begin_step(&mut g);
        lrs.push(opt.lr());
        opt.update(&mut p, &g, &mut []);
    }
    let want = [0.2, 0.4, 0.4, 0.4, 0.2, 0.2];
    for (a, b) in lrs.iter().zip(want) {
        assert!(close(*a, b), "{lrs:?}");
    }
    assert!(close(-p[0], want.iter().sum()), "{p:?}");
    assert_eq!(opt.step(), 6);
}

#[test]
fn penalty_value_and_gradient_follow_the_half_l2_convention() {
    let p = [1.0f32, -2.0, 0.0, 0.5];
    // l1 Σ|p| = 0.1 · 3.5; l2/2 Σp² = 0.2 · 5.25.
    assert!((penalty(&p, 0.1, 0.4) - (0.35 + 1.05)).abs() < 1e-6);
    let mut g = [0.0f32; 4];
    add_penalty_grad(&p, &mut g, 0.1, 0.4);
    let want = [0.1 + 0.4, -0.1 - 0.8, 0.0, 0.1 + 0.2];
    for (a, b) in g.iter().zip(want) {
        assert!((a - b).abs() < 1e-6, "{g:?}");
    }
    // The gradient is the derivative of the value (central differences away from 0).
    for &x in &[1.0f32, -2.0, 0.5] {
        let h = 1e-2f32;
        let d = (penalty(&[x + h], 0.1, 0.4) - penalty(&[x - h], 0.1, 0.4)) / (2.0 * h);
        assert!((d - penalty_grad(x, 0.1, 0.4)).abs() < 1e-3);
    }
    assert!(penalty_grad(f32::NAN, 0.1, 0.0).is_nan());
    assert_eq!(penalty_grad(f32::INFINITY, 0.0, 0.0), 0.0);
}

/// Sparse linear regression: `n` samples, 10 features, only features 0 and 3 matter
/// (y = 2 x₀ − 1.5 x₃ + noise · u, u uniform in [−1, 1]), full-batch gradient of the half mean
/// squared error.
fn sparse_fit(opt: &mut dyn Optimizer, n: usize, noise: f64, steps: usize) -> Vec<f32> {
    const D: usize = 10;
    let mut rng = SplitMix64::new(11);
    let x: Vec<f64> = (0..n * D).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let y: Vec<f64> = x
        .chunks(D)
        .map(|r| 2.0 * r[0] - 1.5 * r[3] + noise * rng.uniform(-1.0, 1.0))
        .collect();
    let mut w = vec![0.0f32; D];
    let mut s = vec![0.0f32; opt.state_len(D)];
    for _ in 0..steps {
        let mut g = vec![0.0f32; D];
        for (r, &t) in x.chunks(D).zip(&y) {
            let e = r.iter().zip(&w).map(|(a, &b)| a * b as f64).sum::<f64>() - t;
            for (gi, a) in g.iter_mut().zip(r) {
                *gi += (e * a / n as f64) as f32;
            }
        }
        opt.begin_step(&mut g);
        opt.update(&mut w, &g, &mut s);
    }
    w
}

fn max_irrelevant(w: &[f32]) -> f32 {
    w.iter()
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 3)
        .map(|(_, x)| x.abs())
        .fold(0.0, f32::max)
}

/// 20 noisy samples (noise 0.5): least squares fits the noise with the 8 irrelevant weights
/// (largest |w| above 0.05 without a penalty). With L1 (λ = 0.1) and SGD whose rate anneals
/// (cosine) from 0.05 to 5e-4, all 8 end within 1e-3 of zero: the subgradient step oscillates
/// around 0 by at most `lr · (λ + |data gradient|)`, about 1e-4 at the final rate. The two
/// relevant weights stay above 1 in magnitude.
#[test]
fn l1_drives_irrelevant_weights_within_1e_3_of_zero_on_noisy_sparse_regression() {
    let plain = sparse_fit(&mut Sgd::new(0.05), 20, 0.5, 4000);
    assert!(max_irrelevant(&plain) > 0.05, "{plain:?}");
    let anneal = Schedule::Cosine {
        lr: 0.05,
        min_lr: 5e-4,
        steps: 4000,
    };
    let w = sparse_fit(
        &mut Scheduled::new(Sgd::new(0.0).with_l1(0.1), anneal),
        20,
        0.5,
        4000,
    );
    assert!(max_irrelevant(&w) <= 1e-3, "{w:?}");
    assert!(w[0] > 1.0 && w[3] < -1.0, "{w:?}");
}

/// 40 noise-free samples: L2 (λ = 0.5) shrinks the weight norm: the fit
/// without it recovers ‖w‖ = 2.5; with it the norm is below 2.0 (ridge shrinkage factor
/// E[x²] / (E[x²] + λ) ≈ 0.4 per direction), for SGD and coupled Adam alike.
#[test]
fn l2_shrinks_the_weight_norm_below_2_from_2_5() {
    let norm = |w: &[f32]| w.iter().map(|x| x * x).sum::<f32>().sqrt();
    let plain = sparse_fit(&mut Sgd::new(0.2), 40, 0.0, 3000);
    assert!((norm(&plain) - 2.5).abs() < 1e-3, "{plain:?}");
    let sgd = sparse_fit(&mut Sgd::new(0.2).with_weight_decay(0.5), 40, 0.0, 3000);
    let adam = sparse_fit(&mut Adam::new(0.01).with_weight_decay(0.5), 40, 0.0, 3000);
    assert!(norm(&sgd) < 2.0, "{sgd:?}");
    assert!(norm(&adam) < 2.0, "{adam:?}");
    // Both minimise the same ridge objective: same solution within 1e-2.
    for (a, b) in sgd.iter().zip(&adam) {
        assert!((a - b).abs() < 1e-2, "{sgd:?} {adam:?}");
    }
}
