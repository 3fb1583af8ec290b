//! Joint teacher–student training (Rocket Launching): gradients against f64 central
//! differences of the documented loss with stop-gradient, the gradient block on the teacher
//! head, the shared optimizer step, and the deployable student/teacher forward passes.

mod train_distill_common;

use tinytune::layers::Layer;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{
    joint_buffer_lens, joint_grads, joint_step, stacked_param_len, student_forward,
    student_scratch_len, teacher_forward, teacher_scratch_len, write_stacked_params, JointConfig,
    JointLoss, KdConfig,
};
use tinytune::train::optim::{Adam, Sgd};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad};
use train_distill_common::*;

/// Runs `joint_grads` from zeroed gradients; returns the loss and the flat gradients
/// `[bottom | teacher head | student head]`.
fn grads_of(p: &Tiny, x: &[f32], y: &[u32], config: &JointConfig) -> (JointLoss, Vec<f32>) {
    let mut p = p.clone();
    let (mut b, mut t, mut s) = p.build();
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &s, y.len(), &Sgd::new(0.1)));
    let mut rng = SeededRng::seed_from_u64(0);
    let loss = joint_grads(
        &mut b,
        &mut t,
        &mut s,
        x,
        y,
        &mut v.bufs(),
        &mut rng,
        config,
    )
    .unwrap();
    (loss, v.grads)
}

const N_B: usize = IN * HID + HID;
const N_T: usize = HID * THID + THID + THID * K + K;

fn split(g: &[f32]) -> (&[f32], &[f32], &[f32]) {
    let (b, rest) = g.split_at(N_B);
    let (t, s) = rest.split_at(N_T);
    (b, t, s)
}

fn kd_tuple(c: &JointConfig) -> Option<(f64, f64)> {
    c.kd.map(|k| (k.temperature as f64, k.alpha as f64))
}

/// Every parameter of all three parts against central differences of
/// `CE(z_t) + S(z_s) + γ‖z̄_t − z_s‖²/B` with `z̄_t` held at its current value, for the default
/// γ, a large γ, and γ with Hinton KD; loss parts against the f64 forward (1e-5 relative).
#[test]
fn joint_gradients_match_f64_central_differences_with_stopgrad() {
    let configs = [
        JointConfig::default(),
        JointConfig {
            gamma: 1.0,
            kd: None,
        },
        JointConfig {
            gamma: 0.5,
            kd: Some(KdConfig {
                temperature: 2.0,
                alpha: 0.7,
            }),
        },
    ];
    let mut checked = 0;
    for seed in 1..=6u64 {
        for batch in [1usize, 3] {
            let p = Tiny::random(seed);
            let (x, y) = data(seed + 100, batch);
            let (pb, pt, ps, x64) = (f64s(&p.b), f64s(&p.t()), f64s(&p.s), f64s(&x));
            let f = forward64(&pb, &pt, &ps, &x64, batch);
            if f.min_kink() < 1e-3 {
                continue; // too close to a ReLU kink for central differences
            }
            for c in &configs {
                let (loss, g) = grads_of(&p, &x, &y, c);
                let (gamma, kd) = (c.gamma as f64, kd_tuple(c));
                let zt0 = &f.zt;
                let r = joint_loss64(&pb, &pt, &ps, &x64, &y, zt0, gamma, kd);
                assert_rel("total", loss.total, r.0, 1e-5);
                assert_rel("teacher_ce", loss.teacher_ce, r.1, 1e-5);
                assert_rel("student_ce", loss.student_ce, r.2, 1e-5);
                assert_rel("matching", loss.matching, r.3, 1e-5);
                // KL is a small difference of O(1) terms: absolute error ~1e-7 in f32.
                assert_rel("kd", loss.kd, r.4, 1e-4);
                let (gb, gt, gs) = split(&g);
                let l = |pb: &[f64], pt: &[f64], ps: &[f64]| {
                    joint_loss64(pb, pt, ps, &x64, &y, zt0, gamma, kd).0
                };
                assert_close("bottom", gb, &numeric_grad(&pb, |v| l(v, &pt, &ps)));
                assert_close("teacher head", gt, &numeric_grad(&pt, |v| l(&pb, v, &ps)));
                assert_close("student head", gs, &numeric_grad(&ps, |v| l(&pb, &pt, v)));
                checked += 1;
            }
        }
    }
    assert!(checked >= 24, "only {checked} cases away from the kinks");
}

/// The gradient block: the teacher head's gradient is bit-identical for every γ and with or
/// without KD, while the bottom's and the student head's change with γ.
#[test]
fn teacher_head_gradient_is_the_same_whatever_gamma_or_kd() {
    for seed in 1..=4u64 {
        let p = Tiny::random(seed);
        let (x, y) = data(seed + 7, 4);
        let (_, g0) = grads_of(
            &p,
            &x,
            &y,
            &JointConfig {
                gamma: 0.0,
                kd: None,
            },
        );
        for c in [
            JointConfig::default(),
            JointConfig {
                gamma: 10.0,
                kd: None,
            },
            JointConfig {
                gamma: 3.0,
                kd: Some(KdConfig {
                    temperature: 4.0,
                    alpha: 0.9,
                }),
            },
        ] {
            let (_, g) = grads_of(&p, &x, &y, &c);
            assert_eq!(split(&g).1, split(&g0).1, "teacher head gradient, {c:?}");
        }
        let (_, g10) = grads_of(
            &p,
            &x,
            &y,
            &JointConfig {
                gamma: 10.0,
                kd: None,
            },
        );
        let max_diff = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
        };
        assert!(
            max_diff(split(&g10).0, split(&g0).0) > 1e-3,
            "bottom ignores γ"
        );
        assert!(
            max_diff(split(&g10).2, split(&g0).2) > 1e-3,
            "student ignores γ"
        );
    }
}

/// The hint alone: `(grads(γ) − grads(0)) / γ` is zero on the teacher head and, on the bottom
/// and the student head, the central-difference gradient of `‖z̄_t − z_s(θ)‖²/B` (z̄_t
/// constant): the hint reaches the shared layers, through the student only.
#[test]
fn matching_term_alone_reaches_the_bottom_through_the_student_only() {
    let gamma = 4.0f32;
    for seed in 11..=14u64 {
        let p = Tiny::random(seed);
        let (x, y) = data(seed, 3);
        let (pb, pt, ps, x64) = (f64s(&p.b), f64s(&p.t()), f64s(&p.s), f64s(&x));
        let f = forward64(&pb, &pt, &ps, &x64, 3);
        assert!(f.min_kink() > 1e-3, "seed {seed} too close to a kink");
        let (_, g0) = grads_of(
            &p,
            &x,
            &y,
            &JointConfig {
                gamma: 0.0,
                kd: None,
            },
        );
        let (_, g) = grads_of(&p, &x, &y, &JointConfig { gamma, kd: None });
        let hint: Vec<f32> = g.iter().zip(&g0).map(|(a, b)| (a - b) / gamma).collect();
        let (hb, ht, hs) = split(&hint);
        assert!(ht.iter().all(|&v| v == 0.0), "hint moved the teacher head");
        let m = |pb: &[f64], ps: &[f64]| {
            let f2 = forward64(pb, &pt, ps, &x64, 3);
            matching64(&f2.zs, &f.zt, 3)
        };
        let nb = numeric_grad(&pb, |v| m(v, &ps));
        assert!(nb.iter().any(|v| v.abs() > 1e-3), "hint gradient vanishes");
        // f32 differences of O(1) gradients: a looser 1e-2 absolute floor is enough here.
        for (i, (&a, &n)) in hb.iter().zip(&nb).enumerate() {
            assert!(
                (a as f64 - n).abs() <= 2e-3 * n.abs().max(1.0),
                "bottom[{i}] {a} vs {n}"
            );
        }
        let ns = numeric_grad(&ps, |v| m(&pb, v));
        for (i, (&a, &n)) in hs.iter().zip(&ns).enumerate() {
            assert!(
                (a as f64 - n).abs() <= 2e-3 * n.abs().max(1.0),
                "student[{i}] {a} vs {n}"
            );
        }
    }
}

/// `joint_grads` adds into the gradient buffer: twice gives double.
#[test]
fn joint_grads_accumulate() {
    let mut p = Tiny::random(3);
    let (x, y) = data(5, 2);
    let (mut b, mut t, mut s) = p.build();
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &s, 2, &Sgd::new(0.1)));
    let mut rng = SeededRng::seed_from_u64(0);
    let c = JointConfig::default();
    joint_grads(&mut b, &mut t, &mut s, &x, &y, &mut v.bufs(), &mut rng, &c).unwrap();
    let once = v.grads.clone();
    joint_grads(&mut b, &mut t, &mut s, &x, &y, &mut v.bufs(), &mut rng, &c).unwrap();
    for (a, o) in v.grads.iter().zip(&once) {
        assert!((a - 2.0 * o).abs() <= 1e-6 * o.abs().max(1.0));
    }
}

/// One SGD joint step moves every parameter by `−lr·g`; the teacher head ends identical under
/// γ = 0 and γ = 10 while the bottom does not; Adam's step count advances once per joint step
/// (one `begin_step` for the three parameter sets).
#[test]
fn joint_step_updates_all_three_sets_with_one_optimizer_step() {
    let p0 = Tiny::random(8);
    let (x, y) = data(9, 4);
    let lr = 0.1f32;
    let step = |gamma: f32| -> Tiny {
        let mut p = p0.clone();
        {
            let (mut b, mut t, mut s) = p.build();
            let mut opt = Sgd::new(lr);
            let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &s, 4, &opt));
            let mut rng = SeededRng::seed_from_u64(0);
            let c = JointConfig { gamma, kd: None };
            let r = joint_step(
                &mut b,
                &mut t,
                &mut s,
                &x,
                &y,
                &mut v.bufs(),
                &mut rng,
                &c,
                &mut opt,
            );
            r.unwrap();
        }
        p
    };
    let (p_g0, p_g10) = (step(0.0), step(10.0));
    assert_eq!(p_g0.t(), p_g10.t(), "teacher head depends on γ");
    assert_ne!(p_g0.b, p_g10.b, "bottom ignores γ");
    let (_, g) = grads_of(
        &p0,
        &x,
        &y,
        &JointConfig {
            gamma: 10.0,
            kd: None,
        },
    );
    let before = [p0.b.clone(), p0.t(), p0.s.clone()].concat();
    let after = [p_g10.b.clone(), p_g10.t(), p_g10.s.clone()].concat();
    for ((a, b0), g) in after.iter().zip(&before).zip(&g) {
        assert!((a - (b0 - lr * g)).abs() <= 1e-6);
    }

    let mut p = p0.clone();
    let (mut b, mut t, mut s) = p.build();
    let mut opt = Adam::new(1e-2);
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &s, 4, &opt));
    assert_eq!(v.opt.len(), 2 * (N_B + N_T + HID * K + K));
    let mut rng = SeededRng::seed_from_u64(0);
    let c = JointConfig::default();
    for k in 1..=2u32 {
        joint_step(
            &mut b,
            &mut t,
            &mut s,
            &x,
            &y,
            &mut v.bufs(),
            &mut rng,
            &c,
            &mut opt,
        )
        .unwrap();
        assert_eq!(opt.step(), k);
    }
}

/// The deployable student (bottom then student head) and teacher match the f64 forward, and
/// their parameters are written as the bottom's then the head's.
#[test]
fn deployed_student_and_teacher_match_reference_and_parameter_layout() {
    let mut p = Tiny::random(21);
    let (pb, pt, ps) = (f64s(&p.b), f64s(&p.t()), f64s(&p.s));
    let expected_student = [p.b.clone(), p.s.clone()].concat();
    let expected_teacher = [p.b.clone(), p.t()].concat();
    let (x, _) = data(22, 5);
    let f = forward64(&pb, &pt, &ps, &f64s(&x), 5);
    let (b, t, s) = p.build();
    let mut scratch = vec![0.0; student_scratch_len(&b, &s, 5)];
    assert_eq!(
        scratch.len(),
        5 * HID + b.scratch_len(5).max(s.scratch_len(5))
    );
    let mut out = vec![0.0; 5 * K];
    student_forward(&b, &s, 5, &x, &mut out, &mut scratch).unwrap();
    for (o, r) in out.iter().zip(&f.zs) {
        assert_rel("student logit", *o, *r, 1e-5);
    }
    let mut scratch = vec![0.0; teacher_scratch_len(&b, &t, 5)];
    teacher_forward(&b, &t, 5, &x, &mut out, &mut scratch).unwrap();
    for (o, r) in out.iter().zip(&f.zt) {
        assert_rel("teacher logit", *o, *r, 1e-5);
    }
    let mut flat = vec![0.0; stacked_param_len(&b, &s)];
    assert_eq!(write_stacked_params(&b, &s, &mut flat), Ok(flat.len()));
    assert_eq!(flat, expected_student);
    let mut flat = vec![0.0; stacked_param_len(&b, &t)];
    write_stacked_params(&b, &t, &mut flat).unwrap();
    assert_eq!(flat, expected_teacher);
    assert_eq!(
        b.layers()[0].params().len() + s.layers()[0].params().len(),
        43
    );
}
