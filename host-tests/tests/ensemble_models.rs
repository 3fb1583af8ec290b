//! `Classifier` for `Sequential` models: probabilities equal an f64 softmax of `forward`
//! (logit models) or the output itself (`ProbabilityOutput` for softmax-ended models); members
//! of different structures (3 and 5 layers, and a softmax-ended one) in one ensemble; and an
//! end-to-end check: three hand-set weak linear members (each 2/3 accurate on a synthetic
//! 3-class problem, each seeing one feature) combine by vote and by mean to accuracy 1.0.

#[path = "common_ensemble/mod.rs"]
mod common;

use common::{assert_all_close, softmax_rows};
use tinytune::ensemble::{accuracy, Classifier, Combine, Ensemble, ProbabilityOutput};
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Sequential};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

const IN: usize = 4;
const K: usize = 3;
const B: usize = 6;

fn dense<'a>(i: usize, o: usize, p: &'a [f32]) -> AnyLayer<'a> {
    DenseConfig {
        in_features: i,
        out_features: o,
        bias: true,
    }
    .init(p)
    .unwrap()
    .into()
}

fn act(kind: ActivationKind, len: usize) -> AnyLayer<'static> {
    ActivationConfig { kind, len }.init().unwrap().into()
}

fn params(rng: &mut SplitMix64, i: usize, o: usize) -> Vec<f32> {
    rng.f32_vec(o * i + o, -1.5, 1.5)
}

fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[test]
fn sequential_probabilities_are_the_softmax_of_its_logits() {
    let mut rng = SplitMix64::new(3);
    let (p1, p2) = (params(&mut rng, IN, 5), params(&mut rng, 5, K));
    let model = Sequential::new([
        dense(IN, 5, &p1),
        act(ActivationKind::Tanh, 5),
        dense(5, K, &p2),
    ])
    .unwrap();
    assert_eq!((model.classes(), Classifier::input_len(&model)), (K, IN));
    let need = Classifier::scratch_len(&model, B);
    assert_eq!(need, B * K + model.scratch_len(B));
    let x = rng.f32_vec(B * IN, -2.0, 2.0);
    let mut logits = vec![0.0f32; B * K];
    let mut s = vec![0.0f32; model.scratch_len(B)];
    model.forward(B, &x, &mut logits, &mut s).unwrap();
    let mut probs = vec![0.0f32; B * K];
    let mut scratch = vec![0.0f32; need];
    model
        .predict_proba(B, &x, &mut probs, &mut scratch)
        .unwrap();
    assert_all_close(&probs, &softmax_rows(&to_f64(&logits), K), 1e-6);

    // The same model ending in a softmax, wrapped: its output is copied as is.
    let with_softmax = Sequential::new([
        dense(IN, 5, &p1),
        act(ActivationKind::Tanh, 5),
        dense(5, K, &p2),
        act(ActivationKind::Softmax { depth: K }, K),
    ])
    .unwrap();
    let wrapped = ProbabilityOutput(&with_softmax);
    assert_eq!(wrapped.scratch_len(B), with_softmax.scratch_len(B));
    let mut out = vec![0.0f32; B * K];
    with_softmax.forward(B, &x, &mut out, &mut s).unwrap();
    let mut p2_ = vec![0.0f32; B * K];
    let mut scratch2 = vec![0.0f32; wrapped.scratch_len(B)];
    wrapped
        .predict_proba(B, &x, &mut p2_, &mut scratch2)
        .unwrap();
    assert_eq!(p2_, out);
    assert_all_close(&p2_, &softmax_rows(&to_f64(&logits), K), 1e-6);

    // Errors: nothing written.
    let mut probs = vec![3.0f32; B * K];
    assert_eq!(
        model.predict_proba(B, &x, &mut probs, &mut scratch[..need - 1]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: need,
            actual: need - 1
        }))
    );
    assert_eq!(
        wrapped.predict_proba(B, &x[1..], &mut probs, &mut scratch2),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: B * IN,
            actual: B * IN - 1
        }))
    );
    assert!(probs.iter().all(|&p| p == 3.0));
}

#[test]
fn members_of_different_structures_combine() {
    let mut rng = SplitMix64::new(11);
    let (a1, a2) = (params(&mut rng, IN, 6), params(&mut rng, 6, K));
    let three = Sequential::new([
        dense(IN, 6, &a1),
        act(ActivationKind::Relu, 6),
        dense(6, K, &a2),
    ])
    .unwrap();
    let (b1, b2, b3) = (
        params(&mut rng, IN, 8),
        params(&mut rng, 8, 3),
        params(&mut rng, 3, K),
    );
    let five = Sequential::new([
        dense(IN, 8, &b1),
        act(ActivationKind::Tanh, 8),
        dense(8, 3, &b2),
        act(ActivationKind::Relu, 3),
        dense(3, K, &b3),
    ])
    .unwrap();
    let c1 = params(&mut rng, IN, K);
    let soft = Sequential::new([
        dense(IN, K, &c1),
        act(ActivationKind::Softmax { depth: K }, K),
    ])
    .unwrap();
    let soft = ProbabilityOutput(&soft);
    let members: [&dyn Classifier; 3] = [&three, &five, &soft];

    let x = rng.f32_vec(B * IN, -2.0, 2.0);
    // Each member's probabilities, from its own forward and an f64 softmax where needed.
    let logits_of = |forward: &dyn Fn(&mut [f32], &mut [f32]), scratch_len: usize| {
        let (mut out, mut s) = (vec![0.0f32; B * K], vec![0.0f32; scratch_len]);
        forward(&mut out, &mut s);
        to_f64(&out)
    };
    let each = [
        softmax_rows(
            &logits_of(
                &|o, s| three.forward(B, &x, o, s).unwrap(),
                three.scratch_len(B),
            ),
            K,
        ),
        softmax_rows(
            &logits_of(
                &|o, s| five.forward(B, &x, o, s).unwrap(),
                five.scratch_len(B),
            ),
            K,
        ),
        logits_of(
            &|o, s| soft.0.forward(B, &x, o, s).unwrap(),
            soft.scratch_len(B),
        ),
    ];

    let w = [1.0f32, 2.0, 5.0];
    let ens = Ensemble::new(&members, Combine::WeightedMean(&w)).unwrap();
    let widest = members.iter().map(|m| m.scratch_len(B)).max().unwrap();
    assert_eq!(ens.scratch_len(B), B * K + widest);
    let mut probs = vec![0.0f32; B * K];
    let mut scratch = vec![0.0f32; ens.scratch_len(B)];
    ens.predict_proba(B, &x, &mut probs, &mut scratch).unwrap();
    let expected: Vec<f64> = (0..B * K)
        .map(|i| (each[0][i] + 2.0 * each[1][i] + 5.0 * each[2][i]) / 8.0)
        .collect();
    assert_all_close(&probs, &expected, 1e-6);

    // A member with another input length or class count is refused.
    let other = params(&mut rng, IN + 1, K);
    let wide = Sequential::new([dense(IN + 1, K, &other)]).unwrap();
    let bad: [&dyn Classifier; 2] = [&three, &wide];
    assert_eq!(
        Ensemble::new(&bad, Combine::Mean).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: IN,
            actual: IN + 1
        }))
    );
    let two = params(&mut rng, IN, 2);
    let binary = Sequential::new([dense(IN, 2, &two)]).unwrap();
    let bad: [&dyn Classifier; 2] = [&five, &binary];
    assert_eq!(
        Ensemble::new(&bad, Combine::Vote).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: K,
            actual: 2
        }))
    );
}

/// Member `j` sees only feature `j`: `z_j = 4 x_j − 4`, `z_{j+1} = 0.5` (a constant bias),
/// the third logit 0. It is right on class `j` (feature high) and class `j + 1` (its default),
/// wrong on class `j + 2`: accuracy 2/3 on balanced data.
fn weak_params(j: usize) -> Vec<f32> {
    let mut p = vec![0.0f32; K * K + K];
    p[j * K + j] = 4.0;
    p[K * K + j] = -4.0;
    p[K * K + (j + 1) % K] = 0.5;
    p
}

#[test]
fn three_weak_members_vote_and_average_to_accuracy_1_above_best_member_2_thirds() {
    let mut rng = SplitMix64::new(2024);
    let n = 60;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = i % K;
        for f in 0..K {
            let base = if f == c { 2.0 } else { 0.0 };
            x.push((base + rng.uniform(-0.6, 0.6)) as f32);
        }
        y.push(c as u32);
    }
    let ps: Vec<Vec<f32>> = (0..K).map(weak_params).collect();
    let models: Vec<_> = ps
        .iter()
        .map(|p| Sequential::new([dense(K, K, p)]).unwrap())
        .collect();
    let members: Vec<&dyn Classifier> = models.iter().map(|m| m as &dyn Classifier).collect();
    let batch = 8;
    let mut probs = vec![0.0f32; batch * K];
    let mut scratch = vec![0.0f32; 200];
    let accs: Vec<f32> = members
        .iter()
        .map(|m| accuracy(*m, &x, &y, batch, &mut probs, &mut scratch).unwrap())
        .collect();
    for a in &accs {
        assert!((a - 2.0 / 3.0).abs() < 1e-6, "member accuracy {a}");
    }
    let best = accs.iter().cloned().fold(0.0f32, f32::max);
    for combine in [Combine::Vote, Combine::Mean] {
        let ens = Ensemble::new(&members, combine).unwrap();
        let a = accuracy(&ens, &x, &y, batch, &mut probs, &mut scratch).unwrap();
        assert!(a >= best, "{combine:?}: {a} < {best}");
        assert_eq!(a, 1.0, "{combine:?}");
    }
}
