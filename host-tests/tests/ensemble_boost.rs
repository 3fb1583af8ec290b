//! SAMME arithmetic against hand-computed values and the published formulas (Zhu et al. 2009):
//! `α = ln((1 − err)/err) + ln(K − 1)`, reweighting by `e^α` on misclassified samples, the
//! property that after reweighting the misclassified samples hold `(K − 1)/K` of the weight,
//! the edge cases, and the weighted-vote decision `argmax_k Σ α_m [h_m(x) = k]`.

#[path = "common_ensemble/mod.rs"]
mod common;

use common::{argmax_f64, assert_all_close, Table};
use tinytune::ensemble::{
    samme_alpha, samme_reweight, weighted_error, Classifier, Combine, Ensemble, SAMME_MIN_ERROR,
};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

fn alpha_f64(err: f64, k: usize) -> f64 {
    ((1.0 - err) / err).ln() + ((k - 1) as f64).ln()
}

#[test]
fn alpha_matches_the_published_formula() {
    // Hand values: err 1/4, K 3 → ln 3 + ln 2 = ln 6; K 2 is AdaBoost's ln((1−e)/e).
    assert!((samme_alpha(0.25, 3).unwrap() as f64 - 6f64.ln()).abs() < 1e-6);
    assert!((samme_alpha(0.2, 2).unwrap() as f64 - 4f64.ln()).abs() < 1e-6);
    assert!((samme_alpha(0.5, 10).unwrap() as f64 - 9f64.ln()).abs() < 1e-6);
    for k in 2..8 {
        for i in 1..100 {
            let err = i as f64 / 100.0;
            let got = samme_alpha(err as f32, k).unwrap() as f64;
            let expected = if err >= 1.0 - 1.0 / k as f64 - 1e-9 {
                0.0
            } else {
                alpha_f64(err, k)
            };
            assert!(
                (got - expected).abs() <= 1e-5 * (1.0 + expected.abs()),
                "err {err} K {k}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn alpha_edge_cases() {
    // Perfect member: err clamped to SAMME_MIN_ERROR, finite.
    for k in [2, 3, 10] {
        let a = samme_alpha(0.0, k).unwrap();
        assert!(a.is_finite());
        assert!((a as f64 - alpha_f64(SAMME_MIN_ERROR as f64, k)).abs() < 1e-3);
        assert_eq!(a, samme_alpha(SAMME_MIN_ERROR / 10.0, k).unwrap());
    }
    // At or beyond chance: 0 (discard).
    assert_eq!(samme_alpha(0.5, 2), Ok(0.0));
    assert_eq!(samme_alpha(2.0 / 3.0, 3), Ok(0.0));
    assert_eq!(samme_alpha(0.7, 3), Ok(0.0));
    assert_eq!(samme_alpha(1.0, 4), Ok(0.0));
    // Just below chance: small and positive.
    let a = samme_alpha(0.74, 4).unwrap();
    assert!(a > 0.0 && a < 0.1);
    for (err, k) in [(-0.1, 3), (1.1, 3), (f32::NAN, 3), (0.2, 1), (0.2, 0)] {
        assert_eq!(samme_alpha(err, k), Err(Error::Config), "{err} {k}");
    }
}

#[test]
fn weighted_error_hand_values() {
    let (pred, y) = ([0u32, 1, 2, 0], [0u32, 2, 2, 1]);
    let e = weighted_error(&[0.1, 0.2, 0.3, 0.4], &pred, &y).unwrap();
    assert!((e - 0.6).abs() < 1e-6);
    // Unnormalised weights give the same error.
    let e = weighted_error(&[1.0, 2.0, 3.0, 4.0], &pred, &y).unwrap();
    assert!((e - 0.6).abs() < 1e-6);
    assert_eq!(weighted_error(&[1.0; 4], &y, &y), Ok(0.0));
}

#[test]
fn reweight_hand_values() {
    let mut w = [0.25f32; 4];
    samme_reweight(&mut w, &[0, 1, 2, 0], &[0, 2, 2, 1], 3f32.ln()).unwrap();
    assert_all_close(&w, &[0.125, 0.375, 0.125, 0.375], 1e-6);
    // α = 0: only normalised.
    let mut w = [1.0f32, 3.0];
    samme_reweight(&mut w, &[0, 1], &[1, 1], 0.0).unwrap();
    assert_all_close(&w, &[0.25, 0.75], 1e-7);
    // Nothing misclassified: only normalised, whatever α.
    let mut w = [2.0f32, 6.0];
    samme_reweight(&mut w, &[1, 1], &[1, 1], 50.0).unwrap();
    assert_all_close(&w, &[0.25, 0.75], 1e-7);
    // Everything misclassified: the same.
    let mut w = [2.0f32, 6.0];
    samme_reweight(&mut w, &[0, 0], &[1, 1], 50.0).unwrap();
    assert_all_close(&w, &[0.25, 0.75], 1e-7);
}

/// `w_i e^{α [miss]} / Z` in f64.
fn reweight_f64(w: &[f32], miss: &[bool], alpha: f64) -> Vec<f64> {
    let v: Vec<f64> = w
        .iter()
        .zip(miss)
        .map(|(&w, &m)| w as f64 * if m { alpha.exp() } else { 1.0 })
        .collect();
    let z: f64 = v.iter().sum();
    v.into_iter().map(|x| x / z).collect()
}

#[test]
fn reweight_matches_f64_reference_for_random_cases_and_large_alpha() {
    let mut rng = SplitMix64::new(41);
    for case in 0..50 {
        let n = 1 + case % 17;
        let w = rng.f32_vec(n, 0.01, 1.0);
        let y: Vec<u32> = (0..n).map(|_| rng.range_i64(0, 3) as u32).collect();
        let pred: Vec<u32> = (0..n).map(|_| rng.range_i64(0, 3) as u32).collect();
        let miss: Vec<bool> = pred.iter().zip(&y).map(|(p, y)| p != y).collect();
        for alpha in [rng.uniform(-3.0, 3.0), 0.0, 100.0, -100.0] {
            let mut got = w.clone();
            samme_reweight(&mut got, &pred, &y, alpha as f32).unwrap();
            let expected = reweight_f64(&w, &miss, alpha as f32 as f64);
            assert_all_close(&got, &expected, 1e-6);
            let sum: f32 = got.iter().sum();
            assert!((sum - 1.0).abs() < 1e-5, "sum {sum}");
        }
    }
}

#[test]
fn after_reweighting_the_misclassified_hold_k_minus_1_over_k() {
    // With α from samme_alpha, e^α = (1−err)(K−1)/err, so the missed weight share becomes
    // err e^α / (err e^α + 1 − err) = (K−1)/K (for K = 2 AdaBoost's 1/2).
    let mut rng = SplitMix64::new(7);
    for k in [2usize, 3, 5] {
        for _ in 0..20 {
            let n = 30;
            let w = rng.f32_vec(n, 0.1, 1.0);
            let y: Vec<u32> = (0..n).map(|_| rng.range_i64(0, k as i64) as u32).collect();
            // Misclassify about 20%.
            let pred: Vec<u32> = y
                .iter()
                .map(|&c| {
                    if rng.uniform(0.0, 1.0) < 0.2 {
                        (c + 1) % k as u32
                    } else {
                        c
                    }
                })
                .collect();
            let err = weighted_error(&w, &pred, &y).unwrap();
            if err == 0.0 || err as f64 >= 1.0 - 1.0 / k as f64 {
                continue;
            }
            let alpha = samme_alpha(err, k).unwrap();
            let mut w2 = w.clone();
            samme_reweight(&mut w2, &pred, &y, alpha).unwrap();
            let missed: f32 = w2
                .iter()
                .zip(pred.iter().zip(&y))
                .filter(|(_, (p, y))| p != y)
                .map(|(w, _)| w)
                .sum();
            let share = (k - 1) as f32 / k as f32;
            assert!((missed - share).abs() < 1e-5, "K {k}: {missed} vs {share}");
        }
    }
}

#[test]
fn samme_errors_write_nothing() {
    let mut w = [0.5f32, 0.5];
    let (p, y) = ([0u32, 1], [0u32, 0]);
    let len = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(
        samme_reweight(&mut w, &p[..1], &y, 1.0),
        len(Buffer::Output, 2, 1)
    );
    assert_eq!(
        samme_reweight(&mut w, &p, &y[..1], 1.0),
        len(Buffer::Targets, 2, 1)
    );
    assert_eq!(samme_reweight(&mut w, &p, &y, f32::NAN), Err(Error::Config));
    assert_eq!(
        samme_reweight(&mut w, &p, &y, f32::INFINITY),
        Err(Error::Config)
    );
    assert_eq!(
        samme_reweight(&mut [], &[], &[], 1.0),
        Err(ShapeError::Dimension.into())
    );
    for bad in [
        [-0.5f32, 1.0],
        [f32::NAN, 1.0],
        [0.0, 0.0],
        [f32::MAX, f32::MAX],
    ] {
        let mut b = bad;
        assert_eq!(samme_reweight(&mut b, &p, &y, 1.0), Err(Error::Config));
        assert_eq!(weighted_error(&bad, &p, &y), Err(Error::Config));
        assert!(b
            .iter()
            .zip(&bad)
            .all(|(a, b)| a == b || a.is_nan() && b.is_nan()));
    }
    assert_eq!(
        weighted_error(&w, &p, &y[..1]).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Targets,
            expected: 2,
            actual: 1
        }))
    );
    assert_eq!(w, [0.5, 0.5]);
}

#[test]
fn weighted_vote_with_alphas_is_the_samme_decision() {
    let (k, n, m) = (4usize, 25usize, 5usize);
    let mut rng = SplitMix64::new(2009);
    let tables: Vec<Table> = (0..m)
        .map(|_| Table::new(k, &rng.f32_vec(n * k, 0.0, 1.0)))
        .collect();
    let alphas = rng.f32_vec(m, 0.1, 2.0);
    let refs: Vec<&dyn Classifier> = tables.iter().map(|t| t as &dyn Classifier).collect();
    let ens = Ensemble::new(&refs, Combine::WeightedVote(&alphas)).unwrap();
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let mut probs = vec![0.0f32; n * k];
    let mut scratch = vec![0.0f32; ens.scratch_len(n)];
    ens.predict_proba(n, &x, &mut probs, &mut scratch).unwrap();
    let total: f64 = alphas.iter().map(|&a| a as f64).sum();
    for i in 0..n {
        let mut score = vec![0.0f64; k];
        for (t, &a) in tables.iter().zip(&alphas) {
            let row: Vec<f64> = t.rows[i * k..(i + 1) * k]
                .iter()
                .map(|&v| v as f64)
                .collect();
            score[argmax_f64(&row)] += a as f64;
        }
        let expected: Vec<f64> = score.iter().map(|s| s / total).collect();
        assert_all_close(&probs[i * k..(i + 1) * k], &expected, 1e-6);
        assert_eq!(
            argmax_f64(
                &probs[i * k..(i + 1) * k]
                    .iter()
                    .map(|&v| v as f64)
                    .collect::<Vec<_>>()
            ),
            argmax_f64(&score)
        );
    }
}
