//! Ensemble combination rules against hand-worked probability tables (vote with ties, mean,
//! weighted mean normalisation, weighted vote, best member), the scratch layout, nesting,
//! validation accuracy / best member / weights, and every error path.

#[path = "common_ensemble/mod.rs"]
mod common;

use common::{assert_all_close, Table};
use tinytune::ensemble::{
    accuracy, accuracy_weights, best_member, predict, Classifier, Combine, Ensemble, WeightRule,
};
use tinytune::{Buffer, Error, ShapeError};

/// Three members, three classes, two samples (input value = sample index).
/// Member argmaxes: sample 0 → 0, 1, 2; sample 1 → 1, 0 (its tie 0/1 goes to 0), 1.
fn members() -> [Table; 3] {
    [
        Table::new(3, &[0.6, 0.3, 0.1, 0.2, 0.5, 0.3]),
        Table::new(3, &[0.1, 0.7, 0.2, 0.4, 0.4, 0.2]),
        Table::new(3, &[0.3, 0.3, 0.4, 0.1, 0.6, 0.3]),
    ]
}

const X: [f32; 2] = [0.0, 1.0];

fn run(ens: &Ensemble<'_>) -> Vec<f32> {
    let mut probs = vec![f32::NAN; 6];
    let mut scratch = vec![0.0; ens.scratch_len(2)];
    ens.predict_proba(2, &X, &mut probs, &mut scratch).unwrap();
    probs
}

fn labels(ens: &Ensemble<'_>) -> Vec<u32> {
    let mut pred = vec![9u32; 2];
    let (mut probs, mut scratch) = (vec![0.0; 6], vec![0.0; ens.scratch_len(2)]);
    predict(ens, &X, 2, &mut pred, &mut probs, &mut scratch).unwrap();
    pred
}

#[test]
fn vote_is_the_fraction_of_member_votes_with_ties_to_the_lowest_class() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Vote).unwrap();
    let third = 1.0 / 3.0;
    assert_all_close(
        &run(&ens),
        &[third, third, third, third, 2.0 * third, 0.0],
        1e-6,
    );
    // Sample 0: a three-way tie of votes → class 0; sample 1: two votes for class 1.
    assert_eq!(labels(&ens), [0, 1]);
}

#[test]
fn mean_averages_member_probabilities() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Mean).unwrap();
    let expected = [
        1.0 / 3.0,
        1.3 / 3.0,
        0.7 / 3.0,
        0.7 / 3.0,
        1.5 / 3.0,
        0.8 / 3.0,
    ];
    assert_all_close(&run(&ens), &expected, 1e-6);
    assert_eq!(labels(&ens), [1, 1]);
}

#[test]
fn weighted_mean_normalises_its_weights() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    // Weights 2:1:1 → 0.5, 0.25, 0.25.
    let expected = [0.4, 0.4, 0.2, 0.225, 0.5, 0.275];
    for w in [[2.0, 1.0, 1.0], [0.5, 0.25, 0.25], [40.0, 20.0, 20.0]] {
        let ens = Ensemble::new(&refs, Combine::WeightedMean(&w)).unwrap();
        assert_all_close(&run(&ens), &expected, 1e-6);
        // Sample 0 ties 0.4/0.4 between classes 0 and 1 → 0.
        assert_eq!(labels(&ens), [0, 1]);
    }
    // Equal weights are the plain mean.
    let mean = run(&Ensemble::new(&refs, Combine::Mean).unwrap());
    let equal = run(&Ensemble::new(&refs, Combine::WeightedMean(&[7.0; 3])).unwrap());
    assert_all_close(
        &equal,
        &mean.iter().map(|&v| v as f64).collect::<Vec<_>>(),
        1e-6,
    );
    // A zero weight removes a member.
    let w = [0.0, 1.0, 0.0];
    let only1 = run(&Ensemble::new(&refs, Combine::WeightedMean(&w)).unwrap());
    assert_all_close(&only1, &[0.1, 0.7, 0.2, 0.4, 0.4, 0.2], 1e-6);
}

#[test]
fn weighted_vote_sums_normalised_weights_of_the_voters() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let w = [0.5, 0.3, 0.3];
    let ens = Ensemble::new(&refs, Combine::WeightedVote(&w)).unwrap();
    let e = |x: f64| x / 1.1;
    assert_all_close(
        &run(&ens),
        &[e(0.5), e(0.3), e(0.3), e(0.3), e(0.8), 0.0],
        1e-6,
    );
    assert_eq!(labels(&ens), [0, 1]);
}

#[test]
fn best_uses_only_the_chosen_member_and_its_scratch() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Best(1)).unwrap();
    assert_eq!(ens.scratch_len(2), 4);
    assert_eq!(run(&ens), m[1].rows);
    assert_eq!(labels(&ens), [1, 0]);
}

#[test]
fn scratch_is_member_probabilities_then_the_widest_member_scratch() {
    let mut m = members();
    m[1].scratch_per_sample = 5;
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Mean).unwrap();
    // batch * classes + max(batch * 2, batch * 5, batch * 2)
    assert_eq!(ens.scratch_len(2), 6 + 10);
    assert_eq!(ens.scratch_len(3), 9 + 15);
    let mut probs = [0.0f32; 6];
    let mut scratch = vec![0.0; 16];
    ens.predict_proba(2, &X, &mut probs, &mut scratch).unwrap();
    // Every member got the part after the probabilities.
    assert!(m.iter().all(|t| t.last_scratch.get() == 10));
    // One value short is an error, and nothing is written.
    let mut probs = [5.0f32; 6];
    assert_eq!(
        ens.predict_proba(2, &X, &mut probs, &mut scratch[..15]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: 16,
            actual: 15
        }))
    );
    assert_eq!(probs, [5.0; 6]);
}

#[test]
fn ensembles_nest() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let inner = Ensemble::new(&refs[..2], Combine::Mean).unwrap();
    let outer_refs: [&dyn Classifier; 2] = [&inner, &m[2]];
    let outer = Ensemble::new(&outer_refs, Combine::Mean).unwrap();
    // (mean(m0, m1) + m2) / 2
    let expected = [0.325, 0.4, 0.275, 0.2, 0.525, 0.275];
    assert_all_close(&run(&outer), &expected, 1e-6);
}

#[test]
fn validation_accuracy_best_member_and_weights() {
    let m = members();
    // Labels [0, 1]: member 0 right twice, member 1 never (1, 0), member 2 once (2, 1).
    let y = [0u32, 1];
    let mut probs = [0.0f32; 3];
    let mut scratch = [0.0f32; 2];
    // batch_size 1: two batches, so probs/scratch sized for one sample suffice.
    let acc: Vec<f32> = m
        .iter()
        .map(|t| accuracy(t, &X, &y, 1, &mut probs, &mut scratch).unwrap())
        .collect();
    assert_eq!(acc, [1.0, 0.0, 0.5]);
    assert_eq!(best_member(&acc), Ok(0));
    assert_eq!(best_member(&[0.5, 0.7, 0.7, 0.1]), Ok(1));
    assert_eq!(best_member(&[]), Err(ShapeError::Dimension.into()));
    assert_eq!(best_member(&[0.5, f32::NAN]), Err(Error::Config));

    let mut w = [0.0f32; 3];
    accuracy_weights(&[0.8, 0.4, 0.4], WeightRule::Proportional, &mut w).unwrap();
    assert_all_close(&w, &[0.5, 0.25, 0.25], 1e-6);
    // Log-odds, K = 3: ln(a/(1-a)) + ln 2, clamped at 0 (chance is 1/3).
    let rule = WeightRule::LogOdds { classes: 3 };
    accuracy_weights(&[0.5, 1.0 / 3.0, 0.75], rule, &mut w).unwrap();
    let raw = [2f64.ln(), 0.0, 6f64.ln()];
    let s: f64 = raw.iter().sum();
    assert_all_close(&w, &[raw[0] / s, 0.0, raw[2] / s], 1e-6);
    // Errors: nothing written.
    let mut w = [9.0f32; 3];
    assert_eq!(
        accuracy_weights(&[0.2, 0.3, 0.1], rule, &mut w),
        Err(Error::Config)
    );
    assert_eq!(
        accuracy_weights(&[0.2, 1.5, 0.1], WeightRule::Proportional, &mut w),
        Err(Error::Config)
    );
    assert_eq!(
        accuracy_weights(&[0.0; 3], WeightRule::Proportional, &mut w),
        Err(Error::Config)
    );
    assert_eq!(
        accuracy_weights(&[0.5; 2], WeightRule::Proportional, &mut w),
        Err(ShapeError::Length {
            buffer: Buffer::Weights,
            expected: 2,
            actual: 3
        }
        .into())
    );
    assert_eq!(
        accuracy_weights(&[0.5; 3], WeightRule::LogOdds { classes: 1 }, &mut w),
        Err(Error::Config)
    );
    assert_eq!(w, [9.0; 3]);
}

#[test]
fn construction_errors() {
    let m = members();
    let four = Table::new(4, &[0.25; 8]);
    let refs: [&dyn Classifier; 4] = [&m[0], &m[1], &four, &m[2]];
    assert_eq!(
        Ensemble::new(&refs, Combine::Mean).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 4
        }))
    );
    struct Wide;
    impl Classifier for Wide {
        fn classes(&self) -> usize {
            3
        }
        fn input_len(&self) -> usize {
            2
        }
        fn scratch_len(&self, _: usize) -> usize {
            0
        }
        fn predict_proba(
            &self,
            _: usize,
            _: &[f32],
            _: &mut [f32],
            _: &mut [f32],
        ) -> Result<(), Error> {
            Ok(())
        }
    }
    let refs: [&dyn Classifier; 2] = [&m[0], &Wide];
    assert_eq!(
        Ensemble::new(&refs, Combine::Vote).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 1,
            actual: 2
        }))
    );
    assert_eq!(
        Ensemble::new(&[], Combine::Vote).err(),
        Some(ShapeError::Dimension.into())
    );
    let zero = Table::new(0, &[]);
    assert_eq!(
        Ensemble::new(&[&zero], Combine::Vote).err(),
        Some(ShapeError::Dimension.into())
    );
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    assert_eq!(
        Ensemble::new(&refs, Combine::Best(3)).err(),
        Some(Error::Index {
            position: 3,
            len: 3
        })
    );
    assert_eq!(
        Ensemble::new(&refs, Combine::WeightedMean(&[1.0, 1.0])).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Weights,
            expected: 3,
            actual: 2
        }))
    );
    for bad in [
        [1.0, -0.5, 1.0],
        [1.0, f32::NAN, 1.0],
        [1.0, f32::INFINITY, 1.0],
        [0.0, 0.0, 0.0],
        [f32::MAX, f32::MAX, 1.0],
    ] {
        assert_eq!(
            Ensemble::new(&refs, Combine::WeightedVote(&bad)).err(),
            Some(Error::Config),
            "{bad:?}"
        );
    }
}

#[test]
fn call_errors_write_nothing() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Vote).unwrap();
    let mut scratch = vec![0.0; ens.scratch_len(2)];
    let mut probs = [7.0f32; 6];
    let len_err = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(
        ens.predict_proba(2, &X[..1], &mut probs, &mut scratch),
        len_err(Buffer::Input, 2, 1)
    );
    assert_eq!(
        ens.predict_proba(2, &X, &mut probs[..5], &mut scratch),
        len_err(Buffer::Output, 6, 5)
    );
    assert_eq!(
        ens.predict_proba(0, &[], &mut [], &mut scratch),
        Err(ShapeError::Dimension.into())
    );
    assert_eq!(probs, [7.0; 6]);

    // predict / accuracy
    let mut pred = [9u32; 2];
    let mut p = [0.0f32; 6];
    assert_eq!(
        predict(&ens, &X, 2, &mut pred, &mut p[..5], &mut scratch),
        len_err(Buffer::Output, 6, 5)
    );
    assert_eq!(
        predict(&ens, &X, 2, &mut pred, &mut p, &mut scratch[..3]),
        len_err(Buffer::Scratch, ens.scratch_len(2), 3)
    );
    assert_eq!(
        predict(&ens, &X, 2, &mut pred[..1], &mut p, &mut scratch),
        len_err(Buffer::Input, 1, 2)
    );
    assert_eq!(
        predict(&ens, &X, 0, &mut pred, &mut p, &mut scratch),
        Err(ShapeError::Dimension.into())
    );
    assert_eq!(
        predict(&ens, &[], 2, &mut [], &mut p, &mut scratch),
        Err(ShapeError::Dimension.into())
    );
    assert_eq!(pred, [9, 9]);
    assert_eq!(
        accuracy(&ens, &X, &[0, 3], 2, &mut p, &mut scratch),
        Err(Error::Index {
            position: 1,
            len: 3
        })
    );
    // A member's error propagates.
    let short = Table::new(3, &[0.2, 0.3, 0.5]);
    let refs: [&dyn Classifier; 2] = [&m[0], &short];
    let ens = Ensemble::new(&refs, Combine::Mean).unwrap();
    let mut scratch = vec![0.0; ens.scratch_len(2)];
    assert!(ens.predict_proba(2, &X, &mut probs, &mut scratch).is_err());
}

#[test]
fn predict_runs_in_batches_with_a_smaller_last_one() {
    let m = members();
    let refs: [&dyn Classifier; 3] = [&m[0], &m[1], &m[2]];
    let ens = Ensemble::new(&refs, Combine::Vote).unwrap();
    // Five samples in batches of 2, 2, 1.
    let x = [1.0, 0.0, 1.0, 1.0, 0.0];
    let mut pred = [9u32; 5];
    let (mut p, mut scratch) = ([0.0f32; 6], vec![0.0; ens.scratch_len(2)]);
    predict(&ens, &x, 2, &mut pred, &mut p, &mut scratch).unwrap();
    assert_eq!(pred, [1, 0, 1, 1, 0]);
    let acc = accuracy(&ens, &x, &[1, 0, 0, 1, 2], 2, &mut p, &mut scratch).unwrap();
    assert!((acc - 0.6).abs() < 1e-6);
}
