//! Two-stage distillation against an f64 reference, and end-to-end sanity of joint training
//! on Gaussian blobs.

mod train_distill_common;

use tinytune::layers::{Layer, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{
    distill_buffer_lens, distill_epoch, distill_step, joint_buffer_lens, joint_epoch,
    student_forward, student_scratch_len, teacher_forward, teacher_scratch_len, DistillBuffers,
    JointConfig, KdConfig,
};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::argmax;
use tinytune::train::optim::{Adam, Sgd};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad};
use tinytune_host_tests::rng::SplitMix64;
use train_distill_common::*;

/// The two-stage models: separate teacher and student `Sequential`s reading the input.
mod two_stage {
    use super::*;
    use tinytune::layers::activation::{ActivationConfig, ActivationKind};
    use tinytune::layers::dense::DenseConfig;
    use tinytune::layers::{AnyLayer, Sequential};

    pub fn dense(i: usize, o: usize, p: &mut [f32]) -> AnyLayer<'_> {
        DenseConfig {
            in_features: i,
            out_features: o,
            bias: true,
        }
        .init(p)
        .unwrap()
        .into()
    }

    pub fn relu(len: usize) -> AnyLayer<'static> {
        ActivationConfig {
            kind: ActivationKind::Relu,
            len,
        }
        .init()
        .unwrap()
        .into()
    }

    /// Teacher Dense 4→6 → ReLU → Dense 6→3.
    pub fn teacher<'a>(t1: &'a mut [f32], t2: &'a mut [f32]) -> Sequential<AnyLayer<'a>, 3> {
        Sequential::new([dense(IN, THID, t1), relu(THID), dense(THID, K, t2)]).unwrap()
    }

    /// Student Dense 4→5 → ReLU → Dense 5→3.
    pub fn student<'a>(s1: &'a mut [f32], s2: &'a mut [f32]) -> Sequential<AnyLayer<'a>, 3> {
        Sequential::new([dense(IN, HID, s1), relu(HID), dense(HID, K, s2)]).unwrap()
    }
}

/// Owned two-stage buffers.
struct DistillVecs(Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>);

impl DistillVecs {
    fn new(l: tinytune::train::distill::DistillBufferLens, opt_state: usize) -> Self {
        let t = l.train;
        DistillVecs(
            vec![0.0; t.cache],
            vec![0.0; t.grad_output],
            vec![0.0; t.grads],
            vec![0.0; t.scratch],
            vec![0.0; opt_state],
            vec![0.0; l.teacher_logits],
        )
    }

    fn bufs(&mut self) -> DistillBuffers<'_> {
        DistillBuffers {
            train: TrainBuffers {
                cache: &mut self.0,
                grad_output: &mut self.1,
                grads: &mut self.2,
                scratch: &mut self.3,
                opt_state: &mut self.4,
            },
            teacher_logits: &mut self.5,
        }
    }
}

/// f64 student 4→5→3 and teacher 4→6→3 logits.
fn two_stage_logits(s: &[f64], t: &[f64], x: &[f64], batch: usize) -> (Vec<f64>, Vec<f64>) {
    let (s1, s2) = s.split_at(IN * HID + HID);
    let (t1, t2) = t.split_at(IN * THID + THID);
    let zs = dense64(&relu64(&dense64(x, batch, IN, HID, s1)), batch, HID, K, s2);
    let zt = dense64(
        &relu64(&dense64(x, batch, IN, THID, t1)),
        batch,
        THID,
        K,
        t2,
    );
    (zs, zt)
}

/// The student's gradient after `distill_step` equals central differences of the f64
/// `α·T²·KL + (1 − α)·CE` with the teacher's logits; the teacher's parameters are untouched
/// (bit for bit) and the student moved by `−lr·g`.
#[test]
fn distill_step_student_gradient_matches_f64_reference_and_teacher_is_untouched() {
    for (seed, kd) in [
        (
            1u64,
            KdConfig {
                temperature: 2.0,
                alpha: 0.7,
            },
        ),
        (
            2,
            KdConfig {
                temperature: 4.0,
                alpha: 1.0,
            },
        ),
        (
            3,
            KdConfig {
                temperature: 1.0,
                alpha: 0.0,
            },
        ),
        (
            4,
            KdConfig {
                temperature: 3.0,
                alpha: 0.5,
            },
        ),
    ] {
        let mut r = SplitMix64::new(seed);
        let (mut s1, mut s2) = (
            r.f32_vec(IN * HID + HID, -0.8, 0.8),
            r.f32_vec(HID * K + K, -0.8, 0.8),
        );
        let (mut t1, mut t2) = (
            r.f32_vec(IN * THID + THID, -1.0, 1.0),
            r.f32_vec(THID * K + K, -1.0, 1.0),
        );
        let (x, y) = data(seed + 50, 4);
        let s0 = f64s(&[s1.clone(), s2.clone()].concat());
        let t_before = [t1.clone(), t2.clone()].concat();
        let t0 = f64s(&t_before);
        let x64 = f64s(&x);
        let lr = 0.05f32;
        let (loss, grads) = {
            let teacher = two_stage::teacher(&mut t1, &mut t2);
            let mut student = two_stage::student(&mut s1, &mut s2);
            let mut opt = Sgd::new(lr);
            let lens = distill_buffer_lens(&teacher, &student, 4);
            let mut v = DistillVecs::new(lens, 0);
            let mut rng = SeededRng::seed_from_u64(0);
            let l = distill_step(
                &teacher,
                &mut student,
                &x,
                &y,
                &kd,
                &mut v.bufs(),
                &mut rng,
                &mut opt,
            )
            .unwrap();
            (l, v.2)
        };
        assert_eq!(
            [t1.clone(), t2.clone()].concat(),
            t_before,
            "teacher changed"
        );
        let (t, a) = (kd.temperature as f64, kd.alpha as f64);
        let f = |s: &[f64]| {
            let (zs, zt) = two_stage_logits(s, &t0, &x64, 4);
            a * kd_soft64(&zs, &zt, t, 4) + (1.0 - a) * ce64(&zs, &y)
        };
        let (zs, _) = two_stage_logits(&s0, &t0, &x64, 4);
        assert_rel("loss", loss.loss, f(&s0), 1e-4);
        assert_rel("hard", loss.hard, ce64(&zs, &y), 1e-5);
        assert_close("student", &grads, &numeric_grad(&s0, f));
        for ((after, before), g) in [s1, s2].concat().iter().zip(&s0).zip(&grads) {
            assert!((*after as f64 - (before - (lr * g) as f64)).abs() <= 1e-6);
        }
    }
}

/// Three Gaussian blobs in 4-D (σ = 1, centres ≈ 5.7 apart), 40 epochs of joint training with
/// Adam: the deployed student (bottom + student head) classifies at least 80 % of held-out
/// points (chance 33 %), and so does the teacher. Then two-stage distillation from the trained
/// teacher into a fresh student reaches 80 % too.
#[test]
fn joint_training_on_gaussian_blobs_student_above_80_percent() {
    let mut r = SplitMix64::new(42);
    let centres: Vec<[f64; IN]> = (0..K)
        .map(|k| core::array::from_fn(|j| if j == k { 2.8 } else { -1.4 + 0.3 * j as f64 }))
        .collect();
    let mut gen = |n: usize| {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for i in 0..n {
            let k = i % K;
            for c in centres[k] {
                let u1 = r.uniform(1e-12, 1.0);
                let u2 = r.uniform(0.0, 1.0);
                let g = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                x.push((c + g) as f32);
            }
            y.push(k as u32);
        }
        (x, y)
    };
    let (xtr, ytr) = gen(300);
    let (xte, yte) = gen(150);
    let accuracy = |logits: &[f32]| {
        let hits = logits
            .chunks(K)
            .zip(&yte)
            .filter(|(z, &y)| argmax(z) == y as usize)
            .count();
        hits as f32 / yte.len() as f32
    };

    let mut p = Tiny::random(1);
    let mut rng = SeededRng::seed_from_u64(7);
    let (mut b, mut t, mut s) = p.build();
    b.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)
        .unwrap();
    t.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)
        .unwrap();
    s.init_params(Init::HeNormal(FanMode::FanIn), &mut rng)
        .unwrap();
    let mut opt = Adam::new(1e-2);
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &s, 16, &opt));
    let config = JointConfig::default();
    let mut first = None;
    let mut last = None;
    for _ in 0..40 {
        let l = joint_epoch(
            &mut b,
            &mut t,
            &mut s,
            &xtr,
            &ytr,
            16,
            &mut v.bufs(),
            &mut rng,
            &config,
            &mut opt,
        )
        .unwrap();
        first.get_or_insert(l);
        last = Some(l);
    }
    let (first, last) = (first.unwrap(), last.unwrap());
    assert!(last.total < first.total, "{first:?} -> {last:?}");
    let n = yte.len();
    let mut out = vec![0.0; n * K];
    let mut scratch = vec![0.0; student_scratch_len(&b, &s, n).max(teacher_scratch_len(&b, &t, n))];
    student_forward(&b, &s, n, &xte, &mut out, &mut scratch).unwrap();
    let student_acc = accuracy(&out);
    teacher_forward(&b, &t, n, &xte, &mut out, &mut scratch).unwrap();
    let teacher_acc = accuracy(&out);
    assert!(
        student_acc >= 0.8,
        "student {student_acc}, teacher {teacher_acc}"
    );
    assert!(
        teacher_acc >= 0.8,
        "student {student_acc}, teacher {teacher_acc}"
    );
    println!("joint: student {student_acc:.3}, teacher {teacher_acc:.3}, loss {last:?}");

    // Two-stage: a fresh 4→5→3 student from the joint teacher's logits.
    let (mut s1, mut s2) = (vec![0.0; IN * HID + HID], vec![0.0; HID * K + K]);
    let mut student = two_stage::student(&mut s1, &mut s2);
    student
        .init_params(Init::HeNormal(FanMode::FanIn), &mut rng)
        .unwrap();
    // The two-stage teacher is the joint teacher (bottom + teacher head) as one `Sequential`,
    // on copies of its parameters.
    let (mut tb, mut tt1, mut tt2) = (p_clone(&b, 0), p_clone(&t, 0), p_clone(&t, 2));
    let teacher = tinytune::layers::Sequential::new([
        two_stage::dense(IN, HID, &mut tb),
        two_stage::relu(HID),
        two_stage::dense(HID, THID, &mut tt1),
        two_stage::relu(THID),
        two_stage::dense(THID, K, &mut tt2),
    ])
    .unwrap();
    let kd = KdConfig {
        temperature: 3.0,
        alpha: 0.7,
    };
    let mut opt = Adam::new(1e-2);
    let lens = distill_buffer_lens(&teacher, &student, 16);
    let mut v = DistillVecs::new(lens, 2 * lens.train.grads);
    for _ in 0..40 {
        distill_epoch(
            &teacher,
            &mut student,
            &xtr,
            &ytr,
            16,
            &kd,
            &mut v.bufs(),
            &mut rng,
            &mut opt,
        )
        .unwrap();
    }
    let mut scratch = vec![0.0; student.scratch_len(n)];
    student.forward(n, &xte, &mut out, &mut scratch).unwrap();
    let distilled_acc = accuracy(&out);
    println!("two-stage student {distilled_acc:.3}");
    assert!(distilled_acc >= 0.8, "two-stage student {distilled_acc}");
}

/// A copy of layer `i`'s parameters.
fn p_clone<L: Layer, const N: usize>(m: &tinytune::layers::Sequential<L, N>, i: usize) -> Vec<f32> {
    m.layers()[i].params().to_vec()
}
