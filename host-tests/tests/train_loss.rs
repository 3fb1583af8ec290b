//! The losses the training loop uses, against f64 re-implementations and central differences.

use tinytune::train::loss::{argmax, mean_squared_error, softmax_cross_entropy};
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
