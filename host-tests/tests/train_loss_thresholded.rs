//! Thresholded cross-entropy (binary on logits and multiclass on softmax) against an f64
//! re-implementation of the anchors' formula `L = −λ(y, ŷ)·[y ln ŷ + (1 − y) ln(1 − ŷ)]`,
//! `λ = 1 − θ(y − m)θ(ŷ − m) − θ(1 − m − y)θ(1 − m − ŷ)` (θ → σ(K·) in the smooth variant),
//! with λ held constant in the gradient (stop-gradient), as the loss documents.

use tinytune::train::loss::{
    binary_cross_entropy_with_logits, softmax_cross_entropy, thresholded_binary_cross_entropy,
    thresholded_softmax_cross_entropy, ThresholdedConfig, ThresholdedLoss,
};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64};
use tinytune_host_tests::rng::SplitMix64;

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// λ(y, ŷ) in f64; `k = None` for the hard step (θ(0) = 0).
fn lambda_f64(m: f64, k: Option<f64>, y: f64, y_hat: f64) -> f64 {
    let step = |x: f64| match k {
        None => (x > 0.0) as u8 as f64,
        Some(k) => sigmoid(k * x),
    };
    1.0 - step(y - m) * step(y_hat - m) - step(1.0 - m - y) * step(1.0 - m - y_hat)
}

/// Binary: `(1/n) Σ λ_i·BCE(z_i, y_i)` with the weights `lambda` given (frozen).
fn binary_f64(z: &[f64], y: &[f64], lambda: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((&z, &y), &l) in z.iter().zip(y).zip(lambda) {
        let s = sigmoid(z);
        total += -l * (y * s.ln() + (1.0 - y) * (1.0 - s).ln());
    }
    total / z.len() as f64
}

fn binary_lambdas(m: f64, k: Option<f64>, z: &[f64], y: &[f64]) -> Vec<f64> {
    z.iter()
        .zip(y)
        .map(|(&z, &y)| lambda_f64(m, k, y, sigmoid(z)))
        .collect()
}

/// Multiclass: `(1/B) Σ λ_b·(−ln softmax(z_b)_{y_b})` with the weights given (frozen).
fn multi_f64(classes: usize, z: &[f64], labels: &[u32], lambda: &[f64]) -> f64 {
    let mut total = 0.0;
    for ((row, &y), &l) in z.chunks(classes).zip(labels).zip(lambda) {
        let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        total += l * (lse - row[y as usize]);
    }
    total / labels.len() as f64
}

fn multi_lambdas(m: f64, k: Option<f64>, classes: usize, z: &[f64], labels: &[u32]) -> Vec<f64> {
    z.chunks(classes)
        .zip(labels)
        .map(|(row, &y)| {
            let p_y = row[y as usize].exp() / row.iter().map(|v| v.exp()).sum::<f64>();
            lambda_f64(m, k, 1.0, p_y)
        })
        .collect()
}

fn config(margin: f32, smooth_k: Option<f32>) -> ThresholdedConfig {
    ThresholdedConfig { margin, smooth_k }
}

/// Logits whose σ stays ≥ 0.02 away from m and 1 − m, with hard 0/1 labels.
fn binary_batch(rng: &mut SplitMix64, n: usize, m: f64) -> (Vec<f32>, Vec<f32>) {
    let y: Vec<f32> = (0..n).map(|_| rng.range_i64(0, 1) as f32).collect();
    let z = (0..n)
        .map(|_| loop {
            let z = rng.uniform(-4.0, 4.0);
            let s = sigmoid(z);
            if (s - m).abs() > 0.02 && (s - (1.0 - m)).abs() > 0.02 {
                break z as f32;
            }
        })
        .collect();
    (z, y)
}

#[test]
fn binary_hard_and_smooth_match_f64_with_frozen_weights() {
    let mut rng = SplitMix64::new(41);
    for (n, m, k) in [
        (8, 0.6, None),
        (33, 0.75, None),
        (8, 0.6, Some(10.0)),
        (20, 0.9, Some(3.0)),
    ] {
        let (z, y) = binary_batch(&mut rng, n, m as f64);
        let mut grad = vec![0.0f32; n];
        let out = thresholded_binary_cross_entropy(&config(m, k), &z, &y, &mut grad).unwrap();
        let (z64, y64) = (to_f64(&z), to_f64(&y));
        let lambda = binary_lambdas(m as f64, k.map(f64::from), &z64, &y64);
        let want = binary_f64(&z64, &y64, &lambda);
        assert!(
            (out.loss as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{out:?} vs {want}"
        );
        let skipped = lambda.iter().filter(|&&l| l == 0.0).count();
        assert_eq!(out.skipped, skipped);
        if k.is_none() {
            assert!(skipped > 0 && skipped < n, "the batch mixes both kinds");
        }
        let numeric = numeric_grad(&z64, |z| binary_f64(z, &y64, &lambda));
        assert_close("thresholded BCE dL/dz", &grad, &numeric);
        for (g, &l) in grad.iter().zip(&lambda) {
            assert_eq!(
                *g == 0.0,
                l == 0.0,
                "zero gradient exactly for skipped samples"
            );
        }
    }
}

#[test]
fn binary_hard_weights_are_locally_constant_so_the_full_gradient_agrees() {
    // With the hard step, recomputing λ at every probe point changes nothing away from the
    // margin: the stop-gradient is exact there.
    let mut rng = SplitMix64::new(42);
    let (z, y) = binary_batch(&mut rng, 16, 0.6);
    let mut grad = vec![0.0f32; 16];
    thresholded_binary_cross_entropy(&ThresholdedConfig::default(), &z, &y, &mut grad).unwrap();
    let y64 = to_f64(&y);
    let numeric = numeric_grad(&to_f64(&z), |z| {
        binary_f64(z, &y64, &binary_lambdas(0.6, None, z, &y64))
    });
    assert_close("hard thresholded BCE, λ recomputed", &grad, &numeric);
}

#[test]
fn binary_skip_counts_on_a_hand_made_batch() {
    // ŷ = σ(z) with m = 0.6: skip y=1 & ŷ>0.6 and y=0 & ŷ<0.4.
    let logit = |p: f64| (p / (1.0 - p)).ln() as f32;
    let z = [0.9, 0.55, 0.1, 0.45, 0.7, 0.3, 0.61, 0.39].map(logit);
    let y = [1.0f32, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0];
    let mut grad = [9.0f32; 8];
    let out =
        thresholded_binary_cross_entropy(&ThresholdedConfig::default(), &z, &y, &mut grad).unwrap();
    assert_eq!(out.skipped, 4);
    let skipped = [true, false, true, false, false, false, true, true];
    for (i, (&g, &s)) in grad.iter().zip(&skipped).enumerate() {
        assert_eq!(g == 0.0, s, "sample {i}: {g}");
    }
    // The rest is plain BCE over the whole batch of 8.
    let ce = |p: f64, y: f64| -(y * p.ln() + (1.0 - y) * (1.0 - p).ln());
    let want = (ce(0.55, 1.0) + ce(0.45, 0.0) + ce(0.7, 0.0) + ce(0.3, 1.0)) / 8.0;
    assert!((out.loss as f64 - want).abs() < 1e-6, "{out:?} vs {want}");
}

#[test]
fn margin_one_is_plain_bce_and_margin_half_skips_every_correct_sample() {
    let mut rng = SplitMix64::new(43);
    let (z, y) = binary_batch(&mut rng, 24, 0.5);
    let (mut g0, mut g1) = (vec![0.0f32; 24], vec![0.0f32; 24]);
    let plain = binary_cross_entropy_with_logits(&z, &y, &mut g0).unwrap();
    let out = thresholded_binary_cross_entropy(&config(1.0, None), &z, &y, &mut g1).unwrap();
    assert_eq!(out.skipped, 0);
    assert!(
        (out.loss - plain).abs() <= 1e-6 * plain,
        "{out:?} vs {plain}"
    );
    for (a, b) in g0.iter().zip(&g1) {
        assert!((a - b).abs() <= 1e-7, "{a} vs {b}");
    }
    // m = 0.5: exactly the samples on the right side of 0.5 are skipped.
    let out = thresholded_binary_cross_entropy(&config(0.5, None), &z, &y, &mut g1).unwrap();
    let correct = z
        .iter()
        .zip(&y)
        .filter(|&(&z, &y)| (z > 0.0) == (y == 1.0))
        .count();
    assert_eq!(out.skipped, correct);
}

#[test]
fn smooth_variant_approaches_the_hard_one_as_k_grows() {
    let mut rng = SplitMix64::new(44);
    let (z, y) = binary_batch(&mut rng, 32, 0.6);
    let mut g_hard = vec![0.0f32; 32];
    let hard = thresholded_binary_cross_entropy(&ThresholdedConfig::default(), &z, &y, &mut g_hard)
        .unwrap();
    let mut last = f32::INFINITY;
    for k in [5.0f32, 20.0, 100.0, 1000.0] {
        let mut g = vec![0.0f32; 32];
        let soft = thresholded_binary_cross_entropy(&config(0.6, Some(k)), &z, &y, &mut g).unwrap();
        let gap = (soft.loss - hard.loss).abs()
            + g.iter()
                .zip(&g_hard)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>();
        assert!(gap < last, "K = {k}: gap {gap} did not shrink from {last}");
        last = gap;
    }
    // Every sample is ≥ 0.02 from the margin and |y − m| ≥ 0.4: at K = 1000 σ(K·x) is within
    // e^{-20} of the step.
    assert!(last < 1e-6 * hard.loss.max(1.0), "{last}");
}

#[test]
fn multiclass_hard_and_smooth_match_f64_with_frozen_weights() {
    let mut rng = SplitMix64::new(45);
    for (batch, classes, m, k) in [
        (6, 3, 0.6, None),
        (12, 5, 0.5, None),
        (6, 4, 0.7, Some(8.0)),
    ] {
        let labels: Vec<u32> = (0..batch)
            .map(|_| rng.range_i64(0, classes as i64 - 1) as u32)
            .collect();
        let mut z = Vec::new();
        for &y in &labels {
            // Keep p_y ≥ 0.02 away from m (and from 1 − m, where the smooth weight's second
            // term lives) so the hard weight is locally constant.
            let row = loop {
                let row = rng.f32_vec(classes, -3.0, 3.0);
                let r = to_f64(&row);
                let p = r[y as usize].exp() / r.iter().map(|v| v.exp()).sum::<f64>();
                if (p - m as f64).abs() > 0.02 && (p - (1.0 - m as f64)).abs() > 0.02 {
                    break row;
                }
            };
            z.extend(row);
        }
        let mut grad = vec![0.0f32; batch * classes];
        let out = thresholded_softmax_cross_entropy(&config(m, k), classes, &z, &labels, &mut grad)
            .unwrap();
        let z64 = to_f64(&z);
        let lambda = multi_lambdas(m as f64, k.map(f64::from), classes, &z64, &labels);
        let want = multi_f64(classes, &z64, &labels, &lambda);
        assert!(
            (out.loss as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{out:?} vs {want}"
        );
        assert_eq!(out.skipped, lambda.iter().filter(|&&l| l == 0.0).count());
        let numeric = numeric_grad(&z64, |z| multi_f64(classes, z, &labels, &lambda));
        assert_close("thresholded softmax CE dL/dz", &grad, &numeric);
        for (row, &l) in grad.chunks(classes).zip(&lambda) {
            assert_eq!(row.iter().all(|&g| g == 0.0), l == 0.0);
        }
    }
}

#[test]
fn multiclass_skip_count_margin_one_and_two_class_equivalence() {
    // Rows with p_y = 0.9 (skipped at m = 0.6), 0.5 and 0.2 (kept): logits ln p.
    let p = |a: f64, b: f64, c: f64| [a.ln() as f32, b.ln() as f32, c.ln() as f32];
    let z: Vec<f32> = [p(0.9, 0.05, 0.05), p(0.5, 0.3, 0.2), p(0.2, 0.7, 0.1)].concat();
    let labels = [0u32, 0, 0];
    let mut grad = [9.0f32; 9];
    let cfg = ThresholdedConfig::default();
    let out = thresholded_softmax_cross_entropy(&cfg, 3, &z, &labels, &mut grad).unwrap();
    assert_eq!(out.skipped, 1);
    assert_eq!(grad[..3], [0.0; 3]);
    let want = (-(0.5f64.ln()) - 0.2f64.ln()) / 3.0;
    assert!((out.loss as f64 - want).abs() < 1e-6, "{out:?} vs {want}");

    // m = 1 is plain softmax cross-entropy.
    let mut g_plain = [0.0f32; 9];
    let plain = softmax_cross_entropy(3, &z, &labels, &mut g_plain).unwrap();
    let out =
        thresholded_softmax_cross_entropy(&config(1.0, None), 3, &z, &labels, &mut grad).unwrap();
    assert_eq!(
        out,
        ThresholdedLoss {
            loss: plain,
            skipped: 0
        }
    );
    assert_eq!(grad, g_plain);

    // Two classes = the binary loss on the logit difference z1 − z0 (hard and smooth).
    let mut rng = SplitMix64::new(46);
    let z2 = rng.f32_vec(20, -3.0, 3.0);
    let labels2: Vec<u32> = (0..10).map(|_| rng.range_i64(0, 1) as u32).collect();
    let diff: Vec<f32> = z2.chunks(2).map(|r| r[1] - r[0]).collect();
    let y: Vec<f32> = labels2.iter().map(|&l| l as f32).collect();
    for cfg in [ThresholdedConfig::default(), config(0.7, Some(6.0))] {
        let (mut gm, mut gb) = (vec![0.0f32; 20], vec![0.0f32; 10]);
        let multi = thresholded_softmax_cross_entropy(&cfg, 2, &z2, &labels2, &mut gm).unwrap();
        let bin = thresholded_binary_cross_entropy(&cfg, &diff, &y, &mut gb).unwrap();
        assert_eq!(multi.skipped, bin.skipped);
        assert!((multi.loss - bin.loss).abs() < 1e-5, "{multi:?} vs {bin:?}");
        for (row, g) in gm.chunks(2).zip(&gb) {
            assert!((row[1] - g).abs() < 1e-6 && (row[0] + g).abs() < 1e-6);
        }
    }
}

#[test]
fn thresholded_losses_are_finite_at_huge_logits_and_pass_nan_on() {
    let mut grad = [0.0f32; 4];
    let cfg = ThresholdedConfig::default();
    let out = thresholded_binary_cross_entropy(
        &cfg,
        &[1000.0, -1000.0, -1000.0, 1000.0],
        &[1.0, 1.0, 0.0, 0.0],
        &mut grad,
    )
    .unwrap();
    assert_eq!(out.skipped, 2);
    assert_eq!(out.loss, 2000.0 / 4.0);
    assert_eq!(grad, [0.0, -0.25, 0.0, 0.25]);
    let out = thresholded_softmax_cross_entropy(
        &cfg,
        2,
        &[-1000.0, 1000.0, 1000.0, -1000.0],
        &[0, 0],
        &mut grad,
    )
    .unwrap();
    assert_eq!(out.skipped, 1);
    assert!((out.loss - 1000.0).abs() < 1e-3, "{out:?}");
    assert_eq!(grad, [-0.5, 0.5, 0.0, 0.0]);
    let out = thresholded_binary_cross_entropy(&cfg, &[f32::NAN, 5.0], &[1.0, 1.0], &mut grad[..2])
        .unwrap();
    assert!(out.loss.is_nan() && grad[0].is_nan() && out.skipped == 1);
    let out = thresholded_softmax_cross_entropy(
        &config(0.6, Some(4.0)),
        2,
        &[f32::NAN, 0.0],
        &[0],
        &mut grad[..2],
    )
    .unwrap();
    assert!(out.loss.is_nan() && grad[..2].iter().all(|g| g.is_nan()));
}

#[test]
fn thresholded_losses_reject_bad_config_labels_and_lengths() {
    let mut grad = [3.0f32; 4];
    let bad = [
        config(0.49, None),
        config(1.01, None),
        config(f32::NAN, None),
        config(0.6, Some(0.0)),
        config(0.6, Some(-1.0)),
        config(0.6, Some(f32::INFINITY)),
        config(0.6, Some(f32::NAN)),
    ];
    for cfg in bad {
        assert_eq!(
            thresholded_binary_cross_entropy(&cfg, &[0.0; 4], &[0.0; 4], &mut grad),
            Err(Error::Config),
            "{cfg:?}"
        );
        assert_eq!(
            thresholded_softmax_cross_entropy(&cfg, 2, &[0.0; 4], &[0, 1], &mut grad),
            Err(Error::Config),
            "{cfg:?}"
        );
    }
    let cfg = ThresholdedConfig::default();
    assert_eq!(
        thresholded_binary_cross_entropy(&cfg, &[0.0; 4], &[0.0, 2.0, 0.0, 0.0], &mut grad),
        Err(Error::Config)
    );
    assert_eq!(
        thresholded_binary_cross_entropy(&cfg, &[0.0; 4], &[0.0; 4], &mut grad[..3]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        }))
    );
    assert_eq!(
        thresholded_softmax_cross_entropy(&cfg, 2, &[0.0; 4], &[0, 2], &mut grad),
        Err(Error::Index {
            position: 1,
            len: 2
        })
    );
    assert_eq!(
        thresholded_softmax_cross_entropy(&cfg, 2, &[0.0; 5], &[0, 1], &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 4,
            actual: 5
        }))
    );
    assert_eq!(grad, [3.0; 4]);
    assert_eq!(cfg, config(0.6, None));
}
