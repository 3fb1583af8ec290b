//! Hinge losses (binary on 0/1 labels, Weston–Watkins multiclass) against f64
//! re-implementations and central differences, with inputs kept away from the kinks.

use tinytune::train::loss::{hinge, multiclass_hinge};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64};
use tinytune_host_tests::rng::SplitMix64;

/// `mean max(0, 1 − y s)` with `y = 2l − 1`.
fn hinge_f64(s: &[f64], labels: &[f32]) -> f64 {
    s.iter()
        .zip(labels)
        .map(|(&s, &l)| (1.0 - (2.0 * l as f64 - 1.0) * s).max(0.0))
        .sum::<f64>()
        / s.len() as f64
}

/// `mean_b Σ_{j≠y} max(0, 1 + s_j − s_y)`.
fn ww_hinge_f64(classes: usize, s: &[f64], labels: &[u32]) -> f64 {
    let mut total = 0.0;
    for (row, &y) in s.chunks(classes).zip(labels) {
        let y = y as usize;
        for (j, &v) in row.iter().enumerate() {
            if j != y {
                total += (1.0 + v - row[y]).max(0.0);
            }
        }
    }
    total / labels.len() as f64
}

#[test]
fn binary_hinge_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(31);
    for n in [1, 6, 40] {
        let labels: Vec<f32> = (0..n).map(|_| rng.range_i64(0, 1) as f32).collect();
        // Scores at least 1e-2 away from the margin y·s = 1.
        let scores: Vec<f32> = labels
            .iter()
            .map(|&l| loop {
                let s = rng.uniform(-3.0, 3.0) as f32;
                if ((2.0 * l - 1.0) * s - 1.0).abs() > 1e-2 {
                    break s;
                }
            })
            .collect();
        let mut grad = vec![0.0f32; n];
        let loss = hinge(&scores, &labels, &mut grad).unwrap();
        let f = |s: &[f64]| hinge_f64(s, &labels);
        let want = f(&to_f64(&scores));
        assert!((loss as f64 - want).abs() < 1e-6 * want.max(1.0));
        assert_close("hinge dL/ds", &grad, &numeric_grad(&to_f64(&scores), f));
    }
}

#[test]
fn binary_hinge_at_the_kink_and_beyond() {
    let mut grad = [9.0f32; 4];
    // Exactly on the margin (y s = 1): satisfied, gradient 0. Far beyond: 0. Wrong side: −y/n.
    let loss = hinge(&[1.0, -1.0, 5.0, 1000.0], &[1.0, 0.0, 1.0, 0.0], &mut grad).unwrap();
    assert_eq!(loss, 1001.0 / 4.0);
    assert_eq!(grad, [0.0, 0.0, 0.0, 0.25]);
}

#[test]
fn multiclass_hinge_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(32);
    for (batch, classes) in [(1, 2), (4, 3), (9, 10)] {
        let labels: Vec<u32> = (0..batch)
            .map(|_| rng.range_i64(0, classes as i64 - 1) as u32)
            .collect();
        // Redraw rows until every margin 1 + s_j − s_y is at least 1e-2 away from 0.
        let mut scores = Vec::with_capacity(batch * classes);
        for &y in &labels {
            let row = loop {
                let row = rng.f32_vec(classes, -2.0, 2.0);
                let sy = row[y as usize];
                if row
                    .iter()
                    .enumerate()
                    .all(|(j, &v)| j == y as usize || (1.0 + v - sy).abs() > 1e-2)
                {
                    break row;
                }
            };
            scores.extend(row);
        }
        let mut grad = vec![0.0f32; batch * classes];
        let loss = multiclass_hinge(classes, &scores, &labels, &mut grad).unwrap();
        let f = |s: &[f64]| ww_hinge_f64(classes, s, &labels);
        let want = f(&to_f64(&scores));
        assert!((loss as f64 - want).abs() < 1e-5 * want.max(1.0));
        assert_close(
            "multiclass hinge dL/ds",
            &grad,
            &numeric_grad(&to_f64(&scores), f),
        );
    }
}

#[test]
fn multiclass_hinge_hand_worked_case_and_huge_scores() {
    // cs231n's example: scores (3.2, 5.1, −1.7), label 0: max(0, 2.9) + max(0, −3.9) = 2.9.
    let mut grad = [0.0f32; 6];
    let loss = multiclass_hinge(
        3,
        &[3.2, 5.1, -1.7, 1000.0, -1000.0, 0.0],
        &[0, 0],
        &mut grad,
    )
    .unwrap();
    assert!((loss - 2.9 / 2.0).abs() < 1e-5, "{loss}");
    assert_eq!(grad, [-0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
    // The wrong class far ahead: loss 1 + 2000 − 0, finite.
    let loss = multiclass_hinge(2, &[-1000.0, 1000.0], &[0], &mut grad[..2]).unwrap();
    assert_eq!(loss, 2001.0);
    assert_eq!(grad[..2], [-1.0, 1.0]);
}

#[test]
fn hinge_losses_reject_bad_labels_and_lengths_and_pass_nan_on() {
    let mut grad = [4.0f32; 4];
    assert_eq!(
        hinge(&[0.0; 4], &[0.0, 1.0, -1.0, 1.0], &mut grad),
        Err(Error::Index {
            position: 2,
            len: 2
        })
    );
    assert_eq!(
        hinge(&[0.0; 4], &[0.0; 3], &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Targets,
            expected: 4,
            actual: 3
        }))
    );
    assert_eq!(
        multiclass_hinge(2, &[0.0; 4], &[1, 2], &mut grad),
        Err(Error::Index {
            position: 1,
            len: 2
        })
    );
    assert_eq!(
        multiclass_hinge(2, &[0.0; 3], &[1, 0], &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 4,
            actual: 3
        }))
    );
    assert_eq!(
        multiclass_hinge(2, &[], &[], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(grad, [4.0; 4]);
    let loss = hinge(&[f32::NAN, 2.0], &[1.0, 1.0], &mut grad[..2]).unwrap();
    assert!(loss.is_nan() && grad[0].is_nan() && grad[1] == 0.0);
    let loss = multiclass_hinge(2, &[f32::NAN, 0.0, 0.0, 5.0], &[0, 1], &mut grad).unwrap();
    assert!(loss.is_nan() && grad[..2].iter().all(|g| g.is_nan()) && grad[2..] == [0.0, 0.0]);
}
