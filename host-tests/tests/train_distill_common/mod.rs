//! Shared by the `train_distill*` tests: the tiny three-part model (bottom Dense 4→5 + ReLU,
//! teacher head Dense 5→6 → ReLU → Dense 6→3, student head Dense 5→3), its independent f64
//! re-implementation with the joint loss (stop-gradient on the teacher logits in the hint and
//! soft terms), and buffer helpers.
#![allow(dead_code)]

use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Sequential};
use tinytune::train::distill::{JointBufferLens, JointBuffers};
use tinytune_host_tests::rng::SplitMix64;

pub const IN: usize = 4;
pub const HID: usize = 5;
pub const THID: usize = 6;
pub const K: usize = 3;

pub type Bottom<'a> = Sequential<AnyLayer<'a>, 2>;
pub type TeacherHead<'a> = Sequential<AnyLayer<'a>, 3>;
pub type StudentHead<'a> = Sequential<AnyLayer<'a>, 1>;

fn dense_cfg(i: usize, o: usize) -> DenseConfig {
    DenseConfig {
        in_features: i,
        out_features: o,
        bias: true,
    }
}

fn relu(len: usize) -> AnyLayer<'static> {
    ActivationConfig {
        kind: ActivationKind::Relu,
        len,
    }
    .init()
    .unwrap()
    .into()
}

/// Parameters of the tiny model, each dense layer `[out, in]` weights then bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Tiny {
    pub b: Vec<f32>,
    pub t1: Vec<f32>,
    pub t2: Vec<f32>,
    pub s: Vec<f32>,
}

impl Tiny {
    pub fn random(seed: u64) -> Self {
        let mut r = SplitMix64::new(seed);
        let mut p = |i: usize, o: usize| -> Vec<f32> { r.f32_vec(o * i + o, -0.8, 0.8) };
        Tiny {
            b: p(IN, HID),
            t1: p(HID, THID),
            t2: p(THID, K),
            s: p(HID, K),
        }
    }

    /// The teacher head's parameters as one flat vector (its gradient layout).
    pub fn t(&self) -> Vec<f32> {
        [self.t1.clone(), self.t2.clone()].concat()
    }

    pub fn build(&mut self) -> (Bottom<'_>, TeacherHead<'_>, StudentHead<'_>) {
        let Tiny { b, t1, t2, s } = self;
        let bottom = Sequential::new([
            dense_cfg(IN, HID).init(&mut b[..]).unwrap().into(),
            relu(HID),
        ])
        .unwrap();
        let teacher = Sequential::new([
            dense_cfg(HID, THID).init(&mut t1[..]).unwrap().into(),
            relu(THID),
            dense_cfg(THID, K).init(&mut t2[..]).unwrap().into(),
        ])
        .unwrap();
        let student =
            Sequential::new([dense_cfg(HID, K).init(&mut s[..]).unwrap().into()]).unwrap();
        (bottom, teacher, student)
    }
}

/// Owned joint buffers of the given lengths.
pub struct JointVecs {
    pub cache: Vec<f32>,
    pub logit: Vec<f32>,
    pub hidden: Vec<f32>,
    pub grads: Vec<f32>,
    pub scratch: Vec<f32>,
    pub opt: Vec<f32>,
}

impl JointVecs {
    pub fn new(l: JointBufferLens) -> Self {
        JointVecs {
            cache: vec![0.0; l.cache],
            logit: vec![0.0; l.logit_grads],
            hidden: vec![0.0; l.hidden_grads],
            grads: vec![0.0; l.grads],
            scratch: vec![0.0; l.scratch],
            opt: vec![0.0; l.opt_state],
        }
    }

    pub fn bufs(&mut self) -> JointBuffers<'_> {
        JointBuffers {
            cache: &mut self.cache,
            logit_grads: &mut self.logit,
            hidden_grads: &mut self.hidden,
            grads: &mut self.grads,
            scratch: &mut self.scratch,
            opt_state: &mut self.opt,
        }
    }
}

/// Inputs whose pre-activations stay away from the ReLU kink are checked by [`Fwd::min_kink`].
pub fn data(seed: u64, batch: usize) -> (Vec<f32>, Vec<u32>) {
    let mut r = SplitMix64::new(seed);
    let x = r.f32_vec(batch * IN, -1.5, 1.5);
    let y = (0..batch)
        .map(|_| r.range_i64(0, K as i64 - 1) as u32)
        .collect();
    (x, y)
}

// ---------------------------------------------------------------- f64 reference

pub fn dense64(x: &[f64], batch: usize, i: usize, o: usize, p: &[f64]) -> Vec<f64> {
    assert_eq!(p.len(), o * i + o);
    let (w, b) = p.split_at(o * i);
    let mut y = vec![0.0; batch * o];
    for s in 0..batch {
        for oo in 0..o {
            let mut acc = b[oo];
            for ii in 0..i {
                acc += w[oo * i + ii] * x[s * i + ii];
            }
            y[s * o + oo] = acc;
        }
    }
    y
}

pub fn relu64(v: &[f64]) -> Vec<f64> {
    v.iter().map(|&x| x.max(0.0)).collect()
}

pub struct Fwd {
    pub h_pre: Vec<f64>,
    pub t_pre: Vec<f64>,
    pub zt: Vec<f64>,
    pub zs: Vec<f64>,
}

impl Fwd {
    /// Smallest |pre-activation| of the two ReLUs (gradient checks need it well above the
    /// finite-difference step).
    pub fn min_kink(&self) -> f64 {
        self.h_pre
            .iter()
            .chain(&self.t_pre)
            .fold(f64::INFINITY, |m, v| m.min(v.abs()))
    }
}

/// The three-part model in f64; `pt` is the teacher head's flat parameters.
pub fn forward64(pb: &[f64], pt: &[f64], ps: &[f64], x: &[f64], batch: usize) -> Fwd {
    let h_pre = dense64(x, batch, IN, HID, pb);
    let h = relu64(&h_pre);
    let (pt1, pt2) = pt.split_at(HID * THID + THID);
    let t_pre = dense64(&h, batch, HID, THID, pt1);
    let zt = dense64(&relu64(&t_pre), batch, THID, K, pt2);
    let zs = dense64(&h, batch, HID, K, ps);
    Fwd {
        h_pre,
        t_pre,
        zt,
        zs,
    }
}

/// `ln softmax(row / t)`, evaluated directly from the definition with the maximum taken out.
pub fn log_softmax64(row: &[f64], t: f64) -> Vec<f64> {
    let m = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    let lse = row.iter().map(|&v| ((v - m) / t).exp()).sum::<f64>().ln();
    row.iter().map(|&v| (v - m) / t - lse).collect()
}

/// Mean cross-entropy.
pub fn ce64(z: &[f64], labels: &[u32]) -> f64 {
    let b = labels.len();
    (0..b)
        .map(|s| -log_softmax64(&z[s * K..(s + 1) * K], 1.0)[labels[s] as usize])
        .sum::<f64>()
        / b as f64
}

/// `T² · mean KL(softmax(zt/T) ‖ softmax(zs/T))`.
pub fn kd_soft64(zs: &[f64], zt: &[f64], t: f64, batch: usize) -> f64 {
    let mut total = 0.0;
    for s in 0..batch {
        let lq = log_softmax64(&zt[s * K..(s + 1) * K], t);
        let lp = log_softmax64(&zs[s * K..(s + 1) * K], t);
        total += lq
            .iter()
            .zip(&lp)
            .map(|(q, p)| q.exp() * (q - p))
            .sum::<f64>();
    }
    t * t * total / batch as f64
}

/// `(1/batch) Σ (zs − zt)²`.
pub fn matching64(zs: &[f64], zt: &[f64], batch: usize) -> f64 {
    zs.iter().zip(zt).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / batch as f64
}

/// The parts of the joint loss, with `zt_const` in place of the teacher logits in the hint and
/// soft terms (stop-gradient): `(total, teacher_ce, student_ce, matching, kd)`.
#[allow(clippy::too_many_arguments)]
pub fn joint_loss64(
    pb: &[f64],
    pt: &[f64],
    ps: &[f64],
    x: &[f64],
    labels: &[u32],
    zt_const: &[f64],
    gamma: f64,
    kd: Option<(f64, f64)>,
) -> (f64, f64, f64, f64, f64) {
    let batch = labels.len();
    let f = forward64(pb, pt, ps, x, batch);
    let tce = ce64(&f.zt, labels);
    let sce = ce64(&f.zs, labels);
    let m = matching64(&f.zs, zt_const, batch);
    let (student_term, soft) = match kd {
        Some((t, a)) => {
            let soft = kd_soft64(&f.zs, zt_const, t, batch);
            (a * soft + (1.0 - a) * sce, soft)
        }
        None => (sce, 0.0),
    };
    (tce + student_term + gamma * m, tce, sce, m, soft)
}

pub fn f64s(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

pub fn assert_rel(what: &str, a: f32, r: f64, tol: f64) {
    let err = (a as f64 - r).abs();
    assert!(
        err <= tol * r.abs().max(1e-3),
        "{what}: {a} vs reference {r} (error {err:.3e})"
    );
}
