//! Cross-entropy (plain, label-smoothed, binary on logits), MSE and argmax, against f64
//! re-implementations and central differences.

use tinytune::train::loss::{
    argmax, binary_cross_entropy_with_logits, mean_squared_error, softmax_cross_entropy,
    softmax_cross_entropy_smoothed,
};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64};
use tinytune_host_tests::rng::SplitMix64;

fn ce_f64(classes: usize, z: &[f64], labels: &[u32]) -> f64 {
    let mut total = 0.0;
    for (row, &y) in z.chunks(classes).zip(labels) {
        let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
        total += lse - row[y as usize];
    }
    total / labels.len() as f64
}

#[test]
fn softmax_cross_entropy_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(11);
    for (batch, classes) in [(1, 2), (3, 5), (8, 10)] {
        let logits = rng.f32_vec(batch * classes, -4.0, 4.0);
        let labels: Vec<u32> = (0..batch)
            .map(|_| rng.range_i64(0, classes as i64 - 1) as u32)
            .collect();
        let mut grad = vec![0.0f32; batch * classes];
        let loss = softmax_cross_entropy(classes, &logits, &labels, &mut grad).unwrap();
        let want = ce_f64(classes, &to_f64(&logits), &labels);
        assert!(
            (loss as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{loss} vs {want}"
        );
        let numeric = numeric_grad(&to_f64(&logits), |z| ce_f64(classes, z, &labels));
        assert_close("cross-entropy dL/dz", &grad, &numeric);
    }
}

#[test]
fn softmax_cross_entropy_is_stable_for_huge_logits() {
    let mut grad = [0.0f32; 3];
    let loss = softmax_cross_entropy(3, &[1000.0, 0.0, -1000.0], &[0], &mut grad).unwrap();
    assert!(loss.abs() < 1e-6, "{loss}");
    assert!(grad.iter().all(|g| g.is_finite()));
    let loss = softmax_cross_entropy(3, &[1000.0, 0.0, -1000.0], &[2], &mut grad).unwrap();
    assert!((loss - 2000.0).abs() < 1e-2, "{loss}");
}

#[test]
fn softmax_cross_entropy_rejects_bad_labels_and_lengths() {
    let mut grad = [9.0f32; 4];
    assert_eq!(
        softmax_cross_entropy(2, &[0.0; 4], &[1, 2], &mut grad),
        Err(Error::Index {
            position: 1,
            len: 2
        })
    );
    assert_eq!(grad, [9.0; 4]);
    assert_eq!(
        softmax_cross_entropy(2, &[0.0; 3], &[1, 0], &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 4,
            actual: 3
        }))
    );
}

#[test]
fn mean_squared_error_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(12);
    let y = rng.f32_vec(13, -2.0, 2.0);
    let t = rng.f32_vec(13, -2.0, 2.0);
    let mut grad = vec![0.0f32; 13];
    let loss = mean_squared_error(&y, &t, &mut grad).unwrap();
    let t64 = to_f64(&t);
    let f = |y: &[f64]| {
        y.iter()
            .zip(&t64)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / 13.0
    };
    let want = f(&to_f64(&y));
    assert!((loss as f64 - want).abs() < 1e-6 * want.max(1.0));
    assert_close("mse dL/dy", &grad, &numeric_grad(&to_f64(&y), f));
}

#[test]
fn argmax_takes_the_first_maximum_and_skips_nan() {
    assert_eq!(argmax(&[1.0, 3.0, 3.0, 2.0]), 1);
    assert_eq!(argmax(&[f32::NAN, -1.0, 0.5]), 2);
    assert_eq!(argmax(&[]), 0);
}

// ---- label smoothing ----

/// `Σ_b Σ_j −t_bj ln softmax(z_b)_j / batch`, `t = (1 − ε) onehot + ε/K`, straight from the
/// definition (log-softmax through the f64 log-sum-exp).
fn smoothed_ce_f64(classes: usize, eps: f64, z: &[f64], labels: &[u32]) -> f64 {
    let mut total = 0.0;
    for (row, &y) in z.chunks(classes).zip(labels) {
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        for (j, &v) in row.iter().enumerate() {
            let t = if j == y as usize { 1.0 - eps } else { 0.0 } + eps / classes as f64;
            total -= t * (v - lse);
        }
    }
    total / labels.len() as f64
}

fn random_labels(rng: &mut SplitMix64, batch: usize, classes: usize) -> Vec<u32> {
    (0..batch)
        .map(|_| rng.range_i64(0, classes as i64 - 1) as u32)
        .collect()
}

#[test]
fn smoothed_cross_entropy_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(21);
    for (batch, classes, eps) in [(1, 2, 0.1f32), (4, 5, 0.3), (7, 10, 0.05), (3, 3, 0.9)] {
        let logits = rng.f32_vec(batch * classes, -5.0, 5.0);
        let labels = random_labels(&mut rng, batch, classes);
        let mut grad = vec![0.0f32; batch * classes];
        let loss =
            softmax_cross_entropy_smoothed(classes, eps, &logits, &labels, &mut grad).unwrap();
        let f = |z: &[f64]| smoothed_ce_f64(classes, eps as f64, z, &labels);
        let want = f(&to_f64(&logits));
        assert!(
            (loss as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{loss} vs {want}"
        );
        assert_close(
            "smoothed CE dL/dz",
            &grad,
            &numeric_grad(&to_f64(&logits), f),
        );
    }
}

#[test]
fn smoothing_zero_is_plain_cross_entropy_bit_for_bit() {
    let mut rng = SplitMix64::new(22);
    let logits = rng.f32_vec(6 * 4, -3.0, 3.0);
    let labels = random_labels(&mut rng, 6, 4);
    let (mut g0, mut g1) = (vec![0.0f32; 24], vec![0.0f32; 24]);
    let plain = softmax_cross_entropy(4, &logits, &labels, &mut g0).unwrap();
    let smoothed = softmax_cross_entropy_smoothed(4, 0.0, &logits, &labels, &mut g1).unwrap();
    assert_eq!(plain.to_bits(), smoothed.to_bits());
    assert_eq!(g0, g1);
    // And both agree with the f64 definition at ε = 0.
    let want = smoothed_ce_f64(4, 0.0, &to_f64(&logits), &labels);
    assert!((plain as f64 - want).abs() < 1e-5 * want.max(1.0));
}

#[test]
fn smoothed_cross_entropy_is_stable_for_huge_logits() {
    // K = 3, ε = 0.3, label 0 (the 1000 logit): L = Σ −t_j ln p_j with ln p = (0, −1000, −2000)
    // and t = (0.8, 0.1, 0.1): L = 100 + 200 = 300.
    let mut grad = [0.0f32; 3];
    let loss =
        softmax_cross_entropy_smoothed(3, 0.3, &[1000.0, 0.0, -1000.0], &[0], &mut grad).unwrap();
    assert!((loss - 300.0).abs() < 1e-2, "{loss}");
    // Gradient p − t = (1 − 0.8, −0.1, −0.1).
    for (g, want) in grad.iter().zip([0.2f32, -0.1, -0.1]) {
        assert!((g - want).abs() < 1e-6, "{grad:?}");
    }
}

#[test]
fn smoothed_cross_entropy_rejects_bad_smoothing_and_writes_nothing() {
    let mut grad = [7.0f32; 4];
    for eps in [-0.1f32, 1.0, 1.5, f32::NAN, f32::INFINITY] {
        assert_eq!(
            softmax_cross_entropy_smoothed(2, eps, &[0.0; 4], &[0, 1], &mut grad),
            Err(Error::Config),
            "ε = {eps}"
        );
    }
    assert_eq!(
        softmax_cross_entropy_smoothed(2, 0.1, &[0.0; 4], &[0, 5], &mut grad),
        Err(Error::Index {
            position: 1,
            len: 2
        })
    );
    assert_eq!(
        softmax_cross_entropy_smoothed(2, 0.1, &[0.0; 4], &[0, 1], &mut grad[..3]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        }))
    );
    assert_eq!(
        softmax_cross_entropy_smoothed(0, 0.1, &[], &[0], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(grad, [7.0; 4]);
}

// ---- binary cross-entropy on logits ----

/// `−y ln σ(z) − (1 − y) ln(1 − σ(z))` in the textbook form (f64, moderate logits only).
fn bce_f64(z: &[f64], y: &[f64]) -> f64 {
    z.iter()
        .zip(y)
        .map(|(&z, &y)| {
            let s = 1.0 / (1.0 + (-z).exp());
            -y * s.ln() - (1.0 - y) * (1.0 - s).ln()
        })
        .sum::<f64>()
        / z.len() as f64
}

#[test]
fn binary_cross_entropy_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(23);
    for n in [1, 5, 32] {
        let logits = rng.f32_vec(n, -8.0, 8.0);
        // Half hard 0/1 labels, half soft targets.
        let targets: Vec<f32> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    rng.range_i64(0, 1) as f32
                } else {
                    rng.uniform(0.0, 1.0) as f32
                }
            })
            .collect();
        let mut grad = vec![0.0f32; n];
        let loss = binary_cross_entropy_with_logits(&logits, &targets, &mut grad).unwrap();
        let y = to_f64(&targets);
        let f = |z: &[f64]| bce_f64(z, &y);
        let want = f(&to_f64(&logits));
        assert!(
            (loss as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{loss} vs {want}"
        );
        assert_close("BCE dL/dz", &grad, &numeric_grad(&to_f64(&logits), f));
    }
}

#[test]
fn binary_cross_entropy_is_stable_for_huge_logits() {
    let logits = [1000.0f32, 1000.0, -1000.0, -1000.0, 1000.0, 40.0];
    let targets = [1.0f32, 0.0, 0.0, 1.0, 0.25, 1.0];
    let mut grad = [0.0f32; 6];
    let loss = binary_cross_entropy_with_logits(&logits, &targets, &mut grad).unwrap();
    // Per element: 0, 1000, 0, 1000, 750, ln(1 + e^-40) ≈ 4.25e-18.
    assert!((loss - 2750.0 / 6.0).abs() < 1e-3, "{loss}");
    let want = [0.0f32, 1.0, 0.0, -1.0, 0.75, 0.0];
    for (g, w) in grad.iter().zip(want) {
        assert!((g - w / 6.0).abs() < 1e-7, "{grad:?}");
    }
    // The tiny tail ln(1 + e^{-|z|}) is kept, not rounded away: z = 20, y = 1 gives e^{-20}.
    let mut g = [0.0f32];
    let tail = binary_cross_entropy_with_logits(&[20.0], &[1.0], &mut g).unwrap();
    let want = (-20.0f64).exp().ln_1p();
    assert!((tail as f64 - want).abs() < 1e-6 * want, "{tail} vs {want}");
}

#[test]
fn binary_cross_entropy_rejects_bad_targets_and_lengths() {
    let mut grad = [5.0f32; 3];
    for bad in [-0.01f32, 1.01, f32::NAN] {
        assert_eq!(
            binary_cross_entropy_with_logits(&[0.0; 3], &[0.0, bad, 1.0], &mut grad),
            Err(Error::Config)
        );
    }
    assert_eq!(
        binary_cross_entropy_with_logits(&[0.0; 3], &[0.0; 2], &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Targets,
            expected: 3,
            actual: 2
        }))
    );
    assert_eq!(
        binary_cross_entropy_with_logits(&[0.0; 3], &[0.0; 3], &mut grad[..2]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        }))
    );
    assert_eq!(
        binary_cross_entropy_with_logits(&[], &[], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(grad, [5.0; 3]);
}

#[test]
fn binary_cross_entropy_passes_nan_on() {
    let mut grad = [0.0f32; 2];
    let loss = binary_cross_entropy_with_logits(&[f32::NAN, 1.0], &[1.0, 0.0], &mut grad).unwrap();
    assert!(loss.is_nan() && grad[0].is_nan() && grad[1].is_finite());
}
