//! Knowledge distillation (Hinton) and logit matching against f64 re-implementations of
//! `α·T²·KL(softmax(v/T) ‖ softmax(z/T)) + (1 − α)·CE(y, softmax(z))` and
//! `Σ_j (z − t)² / batch`, with central differences over the student logits only.

use tinytune::train::loss::{distillation, logit_matching, softmax_cross_entropy};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64};
use tinytune_host_tests::rng::SplitMix64;

fn log_softmax(row: &[f64], t: f64) -> Vec<f64> {
    let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = row.iter().map(|v| ((v - max) / t).exp()).sum::<f64>().ln();
    row.iter().map(|v| (v - max) / t - lse).collect()
}

/// `(soft, hard)` batch means: `T²·KL(q ‖ p_T)` and `CE(y, p)`.
fn kd_parts_f64(classes: usize, z: &[f64], v: &[f64], labels: &[u32], t: f64) -> (f64, f64) {
    let (mut soft, mut hard) = (0.0, 0.0);
    for ((zr, vr), &y) in z.chunks(classes).zip(v.chunks(classes)).zip(labels) {
        let (lp, lq) = (log_softmax(zr, t), log_softmax(vr, t));
        soft += lq
            .iter()
            .zip(&lp)
            .map(|(q, p)| q.exp() * (q - p))
            .sum::<f64>();
        hard -= log_softmax(zr, 1.0)[y as usize];
    }
    let b = labels.len() as f64;
    (t * t * soft / b, hard / b)
}

fn kd_f64(classes: usize, z: &[f64], v: &[f64], labels: &[u32], t: f64, a: f64) -> f64 {
    let (soft, hard) = kd_parts_f64(classes, z, v, labels, t);
    a * soft + (1.0 - a) * hard
}

fn labels(rng: &mut SplitMix64, batch: usize, classes: usize) -> Vec<u32> {
    (0..batch)
        .map(|_| rng.range_i64(0, classes as i64 - 1) as u32)
        .collect()
}

fn close(what: &str, got: f32, want: f64) {
    assert!(
        (got as f64 - want).abs() <= 1e-5 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[test]
fn distillation_value_parts_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(51);
    for (batch, classes, t, a) in [
        (1, 2, 1.0f32, 0.5f32),
        (4, 5, 2.5, 0.7),
        (8, 10, 4.0, 0.9),
        (3, 6, 0.5, 0.3),
        (5, 4, 3.0, 1.0),
    ] {
        let z = rng.f32_vec(batch * classes, -4.0, 4.0);
        let v = rng.f32_vec(batch * classes, -6.0, 6.0);
        let y = labels(&mut rng, batch, classes);
        let mut grad = vec![0.0f32; batch * classes];
        let out = distillation(classes, &z, &v, &y, t, a, &mut grad).unwrap();
        let (z64, v64) = (to_f64(&z), to_f64(&v));
        let (soft, hard) = kd_parts_f64(classes, &z64, &v64, &y, t as f64);
        close("soft", out.soft, soft);
        close("hard", out.hard, hard);
        close("loss", out.loss, a as f64 * soft + (1.0 - a as f64) * hard);
        let numeric = numeric_grad(&z64, |z| kd_f64(classes, z, &v64, &y, t as f64, a as f64));
        assert_close("distillation dL/dz", &grad, &numeric);
    }
}

#[test]
fn distillation_at_alpha_zero_is_cross_entropy() {
    let mut rng = SplitMix64::new(52);
    let (z, v) = (rng.f32_vec(6 * 4, -3.0, 3.0), rng.f32_vec(6 * 4, -3.0, 3.0));
    let y = labels(&mut rng, 6, 4);
    let (mut g_kd, mut g_ce) = (vec![0.0f32; 24], vec![0.0f32; 24]);
    let out = distillation(4, &z, &v, &y, 3.0, 0.0, &mut g_kd).unwrap();
    let ce = softmax_cross_entropy(4, &z, &y, &mut g_ce).unwrap();
    assert!((out.loss - ce).abs() <= 1e-6 * ce, "{out:?} vs {ce}");
    assert_eq!(out.loss, out.hard);
    for (a, b) in g_kd.iter().zip(&g_ce) {
        assert!((a - b).abs() <= 1e-7, "{a} vs {b}");
    }
}

#[test]
fn distillation_at_unit_temperature_and_alpha_one_is_kl() {
    // Hand-worked: teacher softmax q = (0.5, 0.25, 0.25), student p = (0.25, 0.5, 0.25):
    // KL = 0.5 ln 2 + 0.25 ln 0.5 = 0.25 ln 2.
    let z = [0.25f32.ln(), 0.5f32.ln(), 0.25f32.ln()];
    let v = [0.5f32.ln(), 0.25f32.ln(), 0.25f32.ln()];
    let mut grad = [0.0f32; 3];
    let out = distillation(3, &z, &v, &[2], 1.0, 1.0, &mut grad).unwrap();
    close("KL", out.loss, 0.25 * 2f64.ln());
    assert_eq!(out.loss, out.soft);
    // dKL/dz = p − q.
    for (g, want) in grad.iter().zip([-0.25f32, 0.25, 0.0]) {
        assert!((g - want).abs() < 1e-6, "{grad:?}");
    }
}

/// With α = 1 the gradient is `T(p_T − q)/B`; for zero-mean logits it tends to `(z − v)/(K·B)`
/// as T grows (Hinton et al. §2.1), the error falling like 1/T: the T² factor keeps the
/// soft-target gradient at a temperature-independent scale. Checked at T = 10, 100, 1000: the
/// largest relative deviation shrinks about tenfold per step and is below 1 % at T = 1000.
#[test]
fn distillation_soft_gradient_tends_to_logit_difference_over_classes() {
    let mut rng = SplitMix64::new(53);
    let (batch, classes) = (4, 5);
    let centre = |x: Vec<f32>| -> Vec<f32> {
        x.chunks(classes)
            .flat_map(|r| {
                let m = r.iter().sum::<f32>() / classes as f32;
                r.iter().map(move |v| v - m).collect::<Vec<_>>()
            })
            .collect()
    };
    let z = centre(rng.f32_vec(batch * classes, -2.0, 2.0));
    let v = centre(rng.f32_vec(batch * classes, -2.0, 2.0));
    let y = labels(&mut rng, batch, classes);
    let limit: Vec<f64> = z
        .iter()
        .zip(&v)
        .map(|(&z, &v)| (z as f64 - v as f64) / classes as f64)
        .collect();
    let scale = limit.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let mut last = f64::INFINITY;
    for t in [10.0f32, 100.0, 1000.0] {
        let mut grad = vec![0.0f32; batch * classes];
        distillation(classes, &z, &v, &y, t, 1.0, &mut grad).unwrap();
        let dev = grad
            .iter()
            .zip(&limit)
            .map(|(&g, &l)| (g as f64 * batch as f64 - l).abs() / scale)
            .fold(0.0f64, f64::max);
        assert!(dev < last / 5.0, "T = {t}: deviation {dev} vs {last}");
        last = dev;
    }
    assert!(last < 1e-2, "{last}");
}

#[test]
fn distillation_is_finite_at_huge_logits() {
    // q ≈ onehot(2), p = p_T ≈ onehot(0): KL ≈ 2000 (ln p_2 = −2000), CE(label 0) ≈ 0.
    let mut grad = [0.0f32; 3];
    let out = distillation(
        3,
        &[1000.0, 0.0, -1000.0],
        &[-1000.0, 0.0, 1000.0],
        &[0],
        1.0,
        0.5,
        &mut grad,
    )
    .unwrap();
    assert!(
        (out.soft - 2000.0).abs() < 1e-2 && out.hard.abs() < 1e-6,
        "{out:?}"
    );
    assert!((out.loss - 1000.0).abs() < 1e-2);
    for (g, want) in grad.iter().zip([0.5f32, 0.0, -0.5]) {
        assert!((g - want).abs() < 1e-6, "{grad:?}");
    }
}

#[test]
fn distillation_rejects_bad_config_labels_and_lengths() {
    let mut grad = [8.0f32; 4];
    for (t, a) in [
        (0.0f32, 0.5f32),
        (-1.0, 0.5),
        (f32::NAN, 0.5),
        (f32::INFINITY, 0.5),
        (2.0, -0.1),
        (2.0, 1.1),
        (2.0, f32::NAN),
    ] {
        assert_eq!(
            distillation(2, &[0.0; 4], &[0.0; 4], &[0, 1], t, a, &mut grad),
            Err(Error::Config),
            "T = {t}, α = {a}"
        );
    }
    assert_eq!(
        distillation(2, &[0.0; 4], &[0.0; 3], &[0, 1], 2.0, 0.5, &mut grad),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input2,
            expected: 4,
            actual: 3
        }))
    );
    assert_eq!(
        distillation(2, &[0.0; 4], &[0.0; 4], &[0, 3], 2.0, 1.0, &mut grad),
        Err(Error::Index {
            position: 1,
            len: 2
        })
    );
    assert_eq!(
        distillation(2, &[0.0; 4], &[0.0; 4], &[], 2.0, 1.0, &mut grad),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(grad, [8.0; 4]);
}

/// `Σ (z − t)² / batch`.
fn matching_f64(classes: usize, z: &[f64], t: &[f64]) -> f64 {
    let batch = (z.len() / classes) as f64;
    z.iter().zip(t).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / batch
}

#[test]
fn logit_matching_value_and_gradient_match_f64() {
    let mut rng = SplitMix64::new(54);
    for (batch, classes) in [(1, 1), (3, 4), (16, 10)] {
        let z = rng.f32_vec(batch * classes, -5.0, 5.0);
        let t = rng.f32_vec(batch * classes, -5.0, 5.0);
        let mut grad = vec![0.0f32; batch * classes];
        let loss = logit_matching(classes, &z, &t, &mut grad).unwrap();
        let t64 = to_f64(&t);
        let f = |z: &[f64]| matching_f64(classes, z, &t64);
        close("logit matching", loss, f(&to_f64(&z)));
        assert_close("logit matching dL/dz", &grad, &numeric_grad(&to_f64(&z), f));
    }
    // Hand-worked: batch 2, classes 2: ((1)² + (2)² + 0 + (−3)²) / 2 = 7.
    let mut grad = [0.0f32; 4];
    let loss = logit_matching(2, &[1.0, 2.0, 0.0, -3.0], &[0.0; 4], &mut grad).unwrap();
    assert_eq!(loss, 7.0);
    assert_eq!(grad, [1.0, 2.0, 0.0, -3.0]);
}

#[test]
fn logit_matching_rejects_bad_lengths() {
    let mut grad = [6.0f32; 4];
    let length = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(
        logit_matching(2, &[0.0; 5], &[0.0; 5], &mut grad),
        length(Buffer::Input, 4, 5)
    );
    assert_eq!(
        logit_matching(2, &[0.0; 4], &[0.0; 6], &mut grad),
        length(Buffer::Input2, 4, 6)
    );
    assert_eq!(
        logit_matching(2, &[0.0; 4], &[0.0; 4], &mut grad[..2]),
        length(Buffer::Output, 4, 2)
    );
    assert_eq!(
        logit_matching(0, &[0.0; 4], &[0.0; 4], &mut grad),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        logit_matching(2, &[], &[], &mut []),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(grad, [6.0; 4]);
}
