//! The gradient-step cases: a model, a trainable part, the head's input computed by the test
//! itself (f64 forward of an f32 backbone, fake quantization, or the int8 layer's own API),
//! and the f64 head for given parameters.

use super::models::{f64s, input_q, s8_model};
use super::{
    f32_ops, fake_quant, flat_params, forward_f, random_mlp, real_s8, ref_grad, ref_loss,
    with_params, RefLayer,
};
use crate::rng::SplitMix64;
use tinytune::model::Op;
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::Trainable;

/// The head's input for a raw input, computed by the test.
pub type HeadInput = Box<dyn Fn(&[f32]) -> Vec<f64>>;
/// The f64 head for given flat parameters.
pub type HeadFn = Box<dyn Fn(&[f64]) -> Vec<RefLayer>>;

/// A gradient-step case: a model, a mode, the head's input computed by the test itself, and
/// the f64 head for given parameters.
pub struct Case {
    pub name: &'static str,
    pub ops: Vec<Op<'static>>,
    pub trainable: Trainable,
    pub n_in: usize,
    pub x0: HeadInput,
    pub head: HeadFn,
    /// The model's own head parameters, computed by the test.
    pub own: Vec<f64>,
}

impl Case {
    /// The gradient of the parameters: every layer's, or the bias of the only one.
    pub fn grad(&self, p: &[f64], x0: &[f64], label: usize) -> Vec<f64> {
        let layers = (self.head)(p);
        let g = ref_grad(&layers, x0, label);
        if self.trainable == Trainable::Bias {
            g[g.len() - p.len()..].to_vec()
        } else {
            g
        }
    }

    /// Central finite differences (step 1e-6) of the reference loss at `p`.
    pub fn finite_diff(&self, p: &[f64], x0: &[f64], label: usize) -> Vec<f64> {
        let h = 1e-6;
        (0..p.len())
            .map(|k| {
                let (mut plus, mut minus) = (p.to_vec(), p.to_vec());
                plus[k] += h;
                minus[k] -= h;
                (ref_loss(&(self.head)(&plus), x0, label)
                    - ref_loss(&(self.head)(&minus), x0, label))
                    / (2.0 * h)
            })
            .collect()
    }
}

/// The largest magnitude.
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Asserts `|got − want| ≤ rel · max |want|` elementwise.
pub fn close(got: &[f64], want: &[f64], rel: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    let tol = rel * max_abs(want).max(1e-30);
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{k}]: {g} vs {w} (tol {tol})");
    }
}

/// f32 and int8 heads in every mode: LastLayer (with an f32 or an int8 backbone), Bias,
/// LastLayers(2).
pub fn cases() -> Vec<Case> {
    let mut rng = SplitMix64::new(20);
    let f = random_mlp(&mut rng, &[5, 6, 3]);
    let (l0, l1) = (RefLayer::from_dense(&f[0]), RefLayer::from_dense(&f[1]));
    let backbone = f[..1].to_vec();
    let f32_x0 = move |x: &[f32]| forward_f(&backbone, &f64s(x)).remove(0);
    let one = |t: RefLayer| move |p: &[f64]| with_params(std::slice::from_ref(&t), p);
    let bias = |t: RefLayer| {
        move |p: &[f64]| {
            vec![RefLayer {
                b: p.to_vec(),
                ..t.clone()
            }]
        }
    };
    let fq = |x: &[f32]| {
        x.iter()
            .map(|&v| fake_quant(input_q(), v))
            .collect::<Vec<f64>>()
    };
    let s1 = s8_model(21, &[8, 5], false);
    let r1 = real_s8(&s1[1]);
    let s2 = s8_model(22, &[8, 6, 4], false);
    let (r2a, r2b) = (real_s8(&s2[1]), real_s8(&s2[2]));
    let two = vec![r2a.clone(), r2b.clone()];
    // The int8 backbone of `s2` through the int8 layer's own API, dequantized with the head's
    // input parameters.
    let s2_ops = s2.clone();
    let s8_x0 = move |x: &[f32]| {
        let (Op::DenseS8(c, t), Op::DenseS8(c2, _)) = (s2_ops[1], s2_ops[2]) else {
            unreachable!()
        };
        let xq: Vec<i8> = x.iter().map(|&v| input_q().quantize(v)).collect();
        let rq: Vec<Requantizer> = t
            .requant
            .chunks(2)
            .map(|p| Requantizer {
                multiplier: p[0],
                shift: p[1],
            })
            .collect();
        let layer = c.init(t.weights, t.bias, &rq).unwrap();
        let mut y = vec![0i8; c.out_features];
        layer.forward(1, &xq, &mut y).unwrap();
        let p = c2.input;
        y.iter()
            .map(|&q| p.scale as f64 * (q as i32 - p.zero_point) as f64)
            .collect::<Vec<f64>>()
    };
    vec![
        Case {
            name: "f32 LastLayer",
            ops: f32_ops(&f, false),
            trainable: Trainable::LastLayer,
            n_in: 5,
            x0: Box::new(f32_x0.clone()),
            head: Box::new(one(l1.clone())),
            own: flat_params(std::slice::from_ref(&l1)),
        },
        Case {
            name: "f32 LastLayers(2)",
            ops: f32_ops(&f, false),
            trainable: Trainable::LastLayers(2),
            n_in: 5,
            x0: Box::new(f64s),
            head: Box::new({
                let t = vec![l0.clone(), l1.clone()];
                move |p: &[f64]| with_params(&t, p)
            }),
            own: flat_params(&[l0, l1.clone()]),
        },
        Case {
            name: "f32 Bias",
            ops: f32_ops(&f, false),
            trainable: Trainable::Bias,
            n_in: 5,
            x0: Box::new(f32_x0),
            head: Box::new(bias(l1.clone())),
            own: l1.b.clone(),
        },
        Case {
            name: "int8 LastLayer",
            ops: s1.clone(),
            trainable: Trainable::LastLayer,
            n_in: 8,
            x0: Box::new(fq),
            head: Box::new(one(r1.clone())),
            own: flat_params(std::slice::from_ref(&r1)),
        },
        Case {
            name: "int8 Bias",
            ops: s1,
            trainable: Trainable::Bias,
            n_in: 8,
            x0: Box::new(fq),
            head: Box::new(bias(r1.clone())),
            own: r1.b.clone(),
        },
        Case {
            name: "int8 LastLayers(2)",
            ops: s2.clone(),
            trainable: Trainable::LastLayers(2),
            n_in: 8,
            x0: Box::new(fq),
            head: Box::new(move |p: &[f64]| with_params(&two, p)),
            own: flat_params(&[r2a, r2b.clone()]),
        },
        Case {
            name: "int8 LastLayer after an int8 layer",
            ops: s2,
            trainable: Trainable::LastLayer,
            n_in: 8,
            x0: Box::new(s8_x0),
            head: Box::new(one(r2b.clone())),
            own: flat_params(&[r2b]),
        },
    ]
}
