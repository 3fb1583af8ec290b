//! Welford's streaming mean and variance against two-pass f64 (including a large offset where
//! the naive formula fails), merging, resuming, edge cases and errors.

use tinytune::data::preprocess::Welford;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

fn two_pass(x: &[f32]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| v as f64).sum::<f64>() / n;
    let m2 = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>();
    (mean, m2)
}

/// Welford over 100,000 samples of 3 features (N(0,1); 1e6 + U(-1.7,1.7), stored in f32; 5 +
/// 1e-3·N): mean within 1e-6·max(|mean|,1) + 5e-6 and both variances within 1e-4 relative of the
/// two-pass f64 result on the same f32 values. The naive one-pass formula Σx²/n − mean² in f32
/// is off by more than 100 % on the offset feature (checked, to show the test case bites).
#[test]
fn welford_matches_two_pass_f64_on_100k_samples() {
    let mut rng = SplitMix64::new(21);
    let n = 100_000;
    let mut cols: Vec<Vec<f32>> = (0..3).map(|_| Vec::with_capacity(n)).collect();
    let mut state = [0.0f32; 9];
    let mut w = Welford::new(3, &mut state).unwrap();
    for _ in 0..n {
        let g = gauss(&mut rng);
        let sample = [
            g as f32,
            (1e6 + rng.uniform(-1.7, 1.7)) as f32,
            (5.0 + 1e-3 * gauss(&mut rng)) as f32,
        ];
        for (c, v) in cols.iter_mut().zip(sample) {
            c.push(v);
        }
        w.update(&sample).unwrap();
    }
    assert_eq!(w.count(), n as u64);
    let (mut mean, mut var, mut svar) = ([0.0f32; 3], [0.0f32; 3], [0.0f32; 3]);
    w.mean(&mut mean).unwrap();
    w.variance(&mut var).unwrap();
    w.sample_variance(&mut svar).unwrap();
    for j in 0..3 {
        let (m, m2) = two_pass(&cols[j]);
        let (pv, sv) = (m2 / n as f64, m2 / (n - 1) as f64);
        assert!(
            (mean[j] as f64 - m).abs() <= 1e-6 * m.abs().max(1.0) + 5e-6,
            "col {j}: mean {} vs {m}",
            mean[j]
        );
        assert!(
            (var[j] as f64 / pv - 1.0).abs() < 1e-4,
            "col {j}: var {} vs {pv}",
            var[j]
        );
        assert!(
            (svar[j] as f64 / sv - 1.0).abs() < 1e-4,
            "col {j}: svar {} vs {sv}",
            svar[j]
        );
    }
    // The naive formula fails on the offset column.
    let (s1, s2) = cols[1]
        .iter()
        .fold((0.0f32, 0.0f32), |(a, b), &x| (a + x, b + x * x));
    let naive = s2 / n as f32 - (s1 / n as f32).powi(2);
    let (_, m2) = two_pass(&cols[1]);
    assert!(
        (naive as f64 / (m2 / n as f64) - 1.0).abs() > 1.0,
        "naive {naive}"
    );
}

fn gauss(rng: &mut SplitMix64) -> f64 {
    let u1 = 1.0 - rng.uniform(0.0, 1.0);
    let u2 = rng.uniform(0.0, 1.0);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Merging accumulators of two halves (different offsets, so different shifts) equals the
/// two-pass f64 statistics of the whole within 1e-5 relative; merging into or from an empty
/// accumulator copies; resuming from a saved state continues exactly.
#[test]
fn welford_merge_and_resume() {
    let mut rng = SplitMix64::new(4);
    let a: Vec<f32> = (0..3000)
        .map(|_| (100.0 + gauss(&mut rng)) as f32)
        .collect();
    let b: Vec<f32> = (0..1700)
        .map(|_| (103.0 + 2.0 * gauss(&mut rng)) as f32)
        .collect();
    let (mut sa, mut sb) = ([0.0f32; 3], [0.0f32; 3]);
    let mut wa = Welford::new(1, &mut sa).unwrap();
    let mut wb = Welford::new(1, &mut sb).unwrap();
    a.iter().for_each(|x| wa.update(&[*x]).unwrap());
    b.iter().for_each(|x| wb.update(&[*x]).unwrap());
    wa.merge(&wb).unwrap();
    let all: Vec<f32> = a.iter().chain(&b).copied().collect();
    let (m, m2) = two_pass(&all);
    let (mut mean, mut var) = ([0.0f32], [0.0f32]);
    wa.mean(&mut mean).unwrap();
    wa.variance(&mut var).unwrap();
    assert_eq!(wa.count(), 4700);
    assert!((mean[0] as f64 / m - 1.0).abs() < 1e-5);
    assert!((var[0] as f64 / (m2 / 4700.0) - 1.0).abs() < 1e-5);

    let mut se = [0.0f32; 3];
    let mut empty = Welford::new(1, &mut se).unwrap();
    empty.merge(&wb).unwrap();
    assert_eq!(empty.state(), wb.state());
    assert_eq!(empty.count(), wb.count());
    let count = wb.count();
    let saved: [f32; 3] = wb.state().try_into().unwrap();
    let mut resumed_state = saved;
    let mut resumed = Welford::resume(1, count, &mut resumed_state).unwrap();
    resumed.update(&[7.0]).unwrap();
    empty.update(&[7.0]).unwrap();
    assert_eq!(resumed.state(), empty.state());

    let mut s2 = [0.0f32; 6];
    let two = Welford::new(2, &mut s2).unwrap();
    assert_eq!(
        empty.merge(&two).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Stats,
            expected: 1,
            actual: 2
        })
    );
}

/// Empty/one-sample statistics are NaN where undefined; a constant feature has variance 0; NaN
/// samples poison only their feature; wrong lengths are errors that change nothing.
#[test]
fn welford_edge_cases_and_errors() {
    let mut state = [5.0f32; 6];
    let mut w = Welford::new(2, &mut state).unwrap();
    assert_eq!(w.state(), &[0.0; 6]);
    let mut out = [0.0f32; 2];
    w.mean(&mut out).unwrap();
    assert!(out.iter().all(|x| x.is_nan()));
    w.variance(&mut out).unwrap();
    assert!(out.iter().all(|x| x.is_nan()));
    w.update(&[f32::NAN, 3.0]).unwrap();
    w.sample_variance(&mut out).unwrap();
    assert!(
        out.iter().all(|x| x.is_nan()),
        "n = 1: sample variance undefined"
    );
    w.update(&[1.0, 3.0]).unwrap();
    w.variance(&mut out).unwrap();
    assert!(out[0].is_nan());
    assert_eq!(out[1], 0.0);
    w.mean(&mut out).unwrap();
    assert_eq!(out[1], 3.0);
    assert_eq!(
        w.update(&[1.0]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 2,
            actual: 1
        })
    );
    assert_eq!(w.count(), 2);
    assert!(matches!(
        w.mean(&mut [0.0; 3]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            ..
        }))
    ));
    let mut small = [0.0f32; 5];
    assert!(matches!(
        Welford::new(2, &mut small),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Stats,
            expected: 6,
            actual: 5
        }))
    ));
    assert_eq!(
        Welford::state_len(0).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
}
