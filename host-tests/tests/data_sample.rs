//! Sampling: shuffles are uniform permutations, stratified splits keep class proportions,
//! bootstrap and weighted bootstrap have the right statistics, k-fold partitions exactly,
//! batches and gathers cover every row, and every error path.

use std::collections::HashSet;

use tinytune::data::sample::{
    batches, bootstrap, gather_labels, gather_rows, kfold, kfold_indices, shuffle, shuffle_rows,
    stratified_split, uniform_below, weighted_bootstrap,
};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::{Buffer, Error, ShapeError};

/// Upper 0.1 % critical values of chi-square for the degrees of freedom used here
/// (published tables).
const CHI2_999_DF4: f64 = 18.47;
const CHI2_999_DF5: f64 = 20.52;

fn chi2(counts: &[usize], expected: &[f64]) -> f64 {
    counts
        .iter()
        .zip(expected)
        .map(|(&c, &e)| (c as f64 - e).powi(2) / e)
        .sum()
}

/// uniform_below(6) over 60,000 draws: always < 6, counts pass chi-square (5 df, 0.1 %).
#[test]
fn uniform_below_is_unbiased() {
    let mut rng = SeededRng::seed_from_u64(1);
    let mut counts = [0usize; 6];
    for _ in 0..60_000 {
        counts[uniform_below(&mut rng, 6)] += 1;
    }
    assert!(chi2(&counts, &[10_000.0; 6]) < CHI2_999_DF5, "{counts:?}");
    assert_eq!(uniform_below(&mut rng, 0), 0);
    assert_eq!(uniform_below(&mut rng, 1), 0);
    for _ in 0..100 {
        assert!(uniform_below(&mut rng, usize::MAX) < usize::MAX);
    }
}

/// Shuffling [0, 1, 2, 3, 4] 50,000 times: always a permutation; for every position the count
/// of each value passes chi-square (4 df, 0.1 % bound 18.47; 5 positions tested, so about a
/// 0.5 % chance of a false alarm for a correct shuffle, fixed seed).
#[test]
fn shuffle_is_a_uniform_permutation() {
    let mut rng = SeededRng::seed_from_u64(2);
    let n = 5;
    let trials = 50_000;
    let mut counts = vec![[0usize; 5]; n];
    for _ in 0..trials {
        let mut v: Vec<usize> = (0..n).collect();
        shuffle(&mut rng, &mut v);
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        for (pos, &val) in v.iter().enumerate() {
            counts[pos][val] += 1;
        }
    }
    for pos in counts.iter() {
        let c = chi2(pos, &[trials as f64 / n as f64; 5]);
        assert!(c < CHI2_999_DF4, "chi2 {c} counts {pos:?}");
    }
    // Every one of the 3! orders of a 3-element slice appears (all-permutation reach).
    let mut seen = HashSet::new();
    for _ in 0..200 {
        let mut v = [0u8, 1, 2];
        shuffle(&mut rng, &mut v);
        seen.insert(v);
    }
    assert_eq!(seen.len(), 6);
    shuffle::<u8, _>(&mut rng, &mut []);
}

/// Rows move with their labels: row i holds [i, 10i, 100i] with label i, and after the shuffle
/// each row still matches its label; the labels form a permutation.
#[test]
fn shuffle_rows_keeps_rows_and_labels_together() {
    let mut rng = SeededRng::seed_from_u64(3);
    let n = 37;
    let mut data: Vec<f32> = (0..n)
        .flat_map(|i| [i as f32, 10.0 * i as f32, 100.0 * i as f32])
        .collect();
    let mut labels: Vec<u32> = (0..n as u32).collect();
    shuffle_rows(&mut rng, &mut data, 3, &mut labels).unwrap();
    assert_ne!(labels, (0..n as u32).collect::<Vec<_>>());
    for (row, &l) in data.chunks(3).zip(&labels) {
        assert_eq!(row, [l as f32, 10.0 * l as f32, 100.0 * l as f32]);
    }
    let mut sorted = labels.clone();
    sorted.sort();
    assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>());
    let before = data.clone();
    assert_eq!(
        shuffle_rows(&mut rng, &mut data, 3, &mut labels[..5]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 15,
            actual: 111
        })
    );
    assert_eq!(
        shuffle_rows(&mut rng, &mut data, 0, &mut labels).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(data, before);
}

/// Stratified split of unbalanced classes (sizes 1, 2, 7, 50, 333, 1000 with scattered labels):
/// the three parts are disjoint and cover 0..n; per class, each part size is within 1 sample
/// of m · f (train and test within ½ + rounding); indices within a part are ascending.
#[test]
fn stratified_split_keeps_class_proportions() {
    let mut rng = SeededRng::seed_from_u64(4);
    let sizes = [
        (5u32, 1usize),
        (900, 2),
        (7, 7),
        (3, 50),
        (42, 333),
        (0, 1000),
    ];
    let mut labels: Vec<u32> = sizes
        .iter()
        .flat_map(|&(l, m)| std::iter::repeat_n(l, m))
        .collect();
    tinytune::data::sample::shuffle(&mut rng, &mut labels);
    let n = labels.len();
    for fractions in [
        [0.7f32, 0.15, 0.15],
        [0.6, 0.2, 0.2],
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.1, 0.3, 0.6],
    ] {
        let mut order = vec![usize::MAX; n];
        let split = stratified_split(&mut rng, &labels, fractions, &mut order).unwrap();
        assert_eq!(split.train + split.val + split.test, n);
        let (train, val, test) = split.parts(&order);
        let mut all: Vec<usize> = order.clone();
        all.sort();
        assert_eq!(all, (0..n).collect::<Vec<_>>(), "disjoint and covering");
        for part in [train, val, test] {
            assert!(part.windows(2).all(|w| w[0] < w[1]));
        }
        for &(class, m) in &sizes {
            for (part, f) in [train, val, test].iter().zip(fractions) {
                let got = part.iter().filter(|&&i| labels[i] == class).count() as f64;
                let want = m as f64 * f as f64;
                assert!(
                    (got - want).abs() <= 1.0,
                    "class {class} (m {m}) fraction {f}: {got} vs {want}"
                );
            }
        }
    }
    // Different seeds pick different members.
    let mut a = vec![0; n];
    let mut b = vec![0; n];
    stratified_split(
        &mut SeededRng::seed_from_u64(1),
        &labels,
        [0.5, 0.25, 0.25],
        &mut a,
    )
    .unwrap();
    stratified_split(
        &mut SeededRng::seed_from_u64(2),
        &labels,
        [0.5, 0.25, 0.25],
        &mut b,
    )
    .unwrap();
    assert_ne!(a, b);
}

#[test]
fn stratified_split_errors_and_empty() {
    let mut rng = SeededRng::seed_from_u64(5);
    let labels = [0u32, 1, 0, 1];
    let mut order = [7usize; 4];
    for f in [
        [0.5f32, 0.5, 0.5],
        [0.9, 0.05, 0.0],
        [-0.1, 0.6, 0.5],
        [f32::NAN, 0.5, 0.5],
        [f32::INFINITY, 0.0, 0.0],
    ] {
        assert_eq!(
            stratified_split(&mut rng, &labels, f, &mut order).unwrap_err(),
            Error::Config
        );
    }
    assert_eq!(
        stratified_split(&mut rng, &labels, [0.5, 0.25, 0.25], &mut order[..3]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(order, [7; 4]);
    let s = stratified_split(&mut rng, &[], [0.5, 0.25, 0.25], &mut []).unwrap();
    assert_eq!((s.train, s.val, s.test), (0, 0, 0));
}

/// Bootstrap of n = 10,000 draws from 10,000: the distinct fraction is within 0.01 of
/// 1 − (1 − 1/n)ⁿ ≈ 0.6321 (its standard deviation is about 0.003, so > 3 sigma), all
/// indices in range; 50 repetitions average within 0.002.
#[test]
fn bootstrap_leaves_about_63_percent_unique() {
    let mut rng = SeededRng::seed_from_u64(6);
    let n = 10_000;
    let expected = 1.0 - (1.0 - 1.0 / n as f64).powi(n as i32);
    let mut out = vec![0usize; n];
    let mut total = 0.0;
    for _ in 0..50 {
        bootstrap(&mut rng, n, &mut out).unwrap();
        assert!(out.iter().all(|&i| i < n));
        let unique = out.iter().collect::<HashSet<_>>().len() as f64 / n as f64;
        assert!((unique - expected).abs() < 0.01, "{unique}");
        total += unique;
    }
    assert!((total / 50.0 - expected).abs() < 0.002);
    assert_eq!(
        bootstrap(&mut rng, 0, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    bootstrap(&mut rng, 0, &mut []).unwrap();
}

/// 100,000 weighted draws over weights [1, 0, 2, 3, 0.5, 0, 3.5, …] (25 indices, some zero):
/// zero-weight indices never drawn; counts of the others pass chi-square against n · w / Σw
/// (bound: 0.1 % critical value for their degrees of freedom), and every count is within 5
/// binomial sigmas.
#[test]
fn weighted_bootstrap_frequencies_follow_weights() {
    let mut rng = SeededRng::seed_from_u64(7);
    let weights: Vec<f32> = (0..25)
        .map(|i| {
            if i % 5 == 1 {
                0.0
            } else {
                (i % 7) as f32 * 0.5 + 0.25
            }
        })
        .collect();
    let total: f64 = weights.iter().map(|&w| w as f64).sum();
    let draws = 100_000;
    let mut out = vec![0usize; draws];
    weighted_bootstrap(&mut rng, &weights, &mut out).unwrap();
    let mut counts = [0usize; 25];
    for &i in &out {
        counts[i] += 1;
    }
    let (mut c, mut e) = (Vec::new(), Vec::new());
    for (i, &w) in weights.iter().enumerate() {
        if w == 0.0 {
            assert_eq!(counts[i], 0, "zero weight {i} drawn");
            continue;
        }
        let p = w as f64 / total;
        let mean = draws as f64 * p;
        let sd = (draws as f64 * p * (1.0 - p)).sqrt();
        assert!(
            (counts[i] as f64 - mean).abs() < 5.0 * sd,
            "index {i}: {} vs {mean}",
            counts[i]
        );
        c.push(counts[i]);
        e.push(mean);
    }
    assert_eq!(c.len(), 20);
    // 19 degrees of freedom: the 0.1 % critical value is 43.82.
    assert!(chi2(&c, &e) < 43.82);
    // Draws come out in random order, not sorted.
    assert!(out.windows(2).any(|w| w[0] > w[1]));
}

/// A single positive weight (first, middle or last) takes every draw.
#[test]
fn weighted_bootstrap_single_positive_weight() {
    let mut rng = SeededRng::seed_from_u64(8);
    for pos in [0usize, 3, 6] {
        let mut w = [0.0f32; 7];
        w[pos] = 1e-30;
        let mut out = [99usize; 500];
        weighted_bootstrap(&mut rng, &w, &mut out).unwrap();
        assert!(out.iter().all(|&i| i == pos));
    }
}

#[test]
fn weighted_bootstrap_rejects_bad_weights() {
    let mut rng = SeededRng::seed_from_u64(9);
    let mut out = [99usize; 4];
    for w in [
        &[0.0f32, 0.0][..],
        &[1.0, -1.0],
        &[1.0, f32::NAN],
        &[f32::INFINITY, 1.0],
    ] {
        assert_eq!(
            weighted_bootstrap(&mut rng, w, &mut out).unwrap_err(),
            Error::Config
        );
    }
    assert_eq!(
        weighted_bootstrap(&mut rng, &[], &mut out).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(out, [99; 4]);
}

/// For n in 10..=23 and k in 2..=7: the k validation blocks are contiguous, in order, partition
/// 0..n exactly, sizes ⌊n/k⌋ + 1 for the first n mod k folds and ⌊n/k⌋ after; the index
/// buffers hold the complement and the block.
#[test]
fn kfold_partitions_exactly() {
    for n in 10..=23usize {
        for k in 2..=7usize {
            let mut next = 0;
            for fold in 0..k {
                let f = kfold(n, k, fold).unwrap();
                assert_eq!(f.start, next);
                let want = n / k + usize::from(fold < n % k);
                assert_eq!(f.val_len(), want);
                next = f.end;
                let mut train = vec![0; f.train_len()];
                let mut val = vec![0; f.val_len()];
                kfold_indices(n, k, fold, &mut train, &mut val).unwrap();
                assert_eq!(val, (f.start..f.end).collect::<Vec<_>>());
                let mut all: Vec<usize> = train.iter().chain(&val).copied().collect();
                assert!(train.iter().all(|i| !(f.start..f.end).contains(i)));
                all.sort();
                assert_eq!(all, (0..n).collect::<Vec<_>>());
            }
            assert_eq!(next, n);
        }
    }
}

#[test]
fn kfold_errors() {
    assert_eq!(kfold(10, 1, 0).unwrap_err(), Error::Config);
    assert_eq!(kfold(3, 4, 0).unwrap_err(), Error::Config);
    assert_eq!(
        kfold(10, 3, 3).unwrap_err(),
        Error::Index {
            position: 3,
            len: 3
        }
    );
    let mut train = [7usize; 6];
    let mut val = [7usize; 4];
    assert_eq!(
        kfold_indices(10, 3, 1, &mut train, &mut val[..3]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 7,
            actual: 6
        })
    );
    assert_eq!(
        kfold_indices(10, 3, 0, &mut train, &mut val[..3]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!((train, val), ([7; 6], [7; 4]));
}

/// 23 rows in batches of 5: 5 batches (5, 5, 5, 5, 3), in order, whole rows with their labels,
/// covering everything; an exact multiple has no short batch; an empty set yields nothing.
#[test]
fn batches_cover_everything_with_a_short_last_batch() {
    let n = 23;
    let data: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
    let labels: Vec<u32> = (0..n as u32).collect();
    let it = batches(&data, 2, &labels, 5).unwrap();
    assert_eq!(it.len(), 5);
    let sizes: Vec<usize> = it.clone().map(|(_, l)| l.len()).collect();
    assert_eq!(sizes, [5, 5, 5, 5, 3]);
    let mut seen = Vec::new();
    for (x, l) in it {
        assert_eq!(x.len(), l.len() * 2);
        for (row, &lab) in x.chunks(2).zip(l) {
            assert_eq!(row, [2.0 * lab as f32, 2.0 * lab as f32 + 1.0]);
            seen.push(lab);
        }
    }
    assert_eq!(seen, labels);
    assert_eq!(
        batches(&data[..40], 2, &labels[..20], 5).unwrap().count(),
        4
    );
    assert_eq!(batches(&data, 2, &labels, 100).unwrap().count(), 1);
    assert_eq!(batches(&[], 2, &[], 5).unwrap().count(), 0);
    assert_eq!(batches(&data, 2, &labels, 0).unwrap_err(), Error::Config);
    assert_eq!(
        batches(&data, 0, &labels, 5).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(
        batches(&data, 2, &labels[..22], 5).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 44,
            actual: 46
        })
    );
}

#[test]
fn gather_rows_and_labels() {
    let data: Vec<f32> = (0..12).map(|i| i as f32).collect(); // [4, 3]
    let labels = [10u32, 11, 12, 13];
    let idx = [3usize, 0, 3, 1];
    let mut out = [0.0f32; 12];
    gather_rows(&data, 3, &idx, &mut out).unwrap();
    assert_eq!(
        out,
        [9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 9.0, 10.0, 11.0, 3.0, 4.0, 5.0]
    );
    let mut lab = [0u32; 4];
    gather_labels(&labels, &idx, &mut lab).unwrap();
    assert_eq!(lab, [13, 10, 13, 11]);

    let mut out = [-1.0f32; 6];
    assert_eq!(
        gather_rows(&data, 3, &[1, 4], &mut out).unwrap_err(),
        Error::Index {
            position: 1,
            len: 4
        }
    );
    assert_eq!(out, [-1.0; 6], "nothing written on error");
    assert_eq!(
        gather_rows(&data, 3, &[1], &mut out).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 6
        })
    );
    assert_eq!(
        gather_rows(&data[..11], 3, &[1, 2], &mut out).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 9,
            actual: 11
        })
    );
    assert_eq!(
        gather_rows(&data, 0, &[], &mut []).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    let mut lab = [0u32; 2];
    assert_eq!(
        gather_labels(&labels, &[9, 0], &mut lab).unwrap_err(),
        Error::Index {
            position: 0,
            len: 4
        }
    );
    assert_eq!(
        gather_labels(&labels, &[0], &mut lab).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 1,
            actual: 2
        })
    );
    assert_eq!(lab, [0, 0]);
}
