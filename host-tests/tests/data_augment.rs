//! Augmentation: noise and gain statistics with fixed seeds (5-sigma bounds), shifts and crops
//! against hand-worked cases and an independent reference, every offset drawn, error paths.

use tinytune::data::augment::{
    crop_padded_2d, gaussian_noise, random_crop_2d, random_gain, random_shift_1d, shift_1d, Padding,
};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::{Buffer, Error, ShapeError};

/// 200,000 noise draws with σ = 0.5 on a constant signal of 3: the mean offset is within 5
/// standard errors (5 · σ/√n) of 0 and the variance within 5 standard errors (5 · σ²√(2/n)) of
/// σ²; σ = 0 changes nothing.
#[test]
fn gaussian_noise_has_mean_zero_and_sigma_within_5_sigma() {
    let mut rng = SeededRng::seed_from_u64(1);
    let n = 200_000;
    let sigma = 0.5f64;
    let mut data = vec![3.0f32; n];
    gaussian_noise(&mut rng, &mut data, sigma as f32).unwrap();
    let mean = data.iter().map(|&x| x as f64 - 3.0).sum::<f64>() / n as f64;
    let var = data
        .iter()
        .map(|&x| (x as f64 - 3.0 - mean).powi(2))
        .sum::<f64>()
        / n as f64;
    assert!(mean.abs() < 5.0 * sigma / (n as f64).sqrt(), "mean {mean}");
    let se_var = sigma * sigma * (2.0 / n as f64).sqrt();
    assert!((var - sigma * sigma).abs() < 5.0 * se_var, "variance {var}");
    let mut quiet = [1.0f32, -2.0];
    gaussian_noise(&mut rng, &mut quiet, 0.0).unwrap();
    assert_eq!(quiet, [1.0, -2.0]);
}

#[test]
fn gaussian_noise_rejects_bad_sigma() {
    let mut rng = SeededRng::seed_from_u64(1);
    let mut data = [1.0f32; 4];
    for s in [-0.1, f32::NAN, f32::INFINITY] {
        assert_eq!(
            gaussian_noise(&mut rng, &mut data, s).unwrap_err(),
            Error::Config
        );
    }
    assert_eq!(data, [1.0; 4]);
}

/// 20,000 gains from [0.8, 1.2]: every one in range and applied exactly (x · g), the extremes
/// come within 1e-3 of both ends, and the mean is within 5 standard errors (0.4/√12/√n) of 1.
#[test]
fn random_gain_is_uniform_in_range_and_applied() {
    let mut rng = SeededRng::seed_from_u64(2);
    let n = 20_000;
    let (mut lo_seen, mut hi_seen, mut sum) = (f32::INFINITY, f32::NEG_INFINITY, 0.0f64);
    for i in 0..n {
        let base = [1.5f32, -2.0, i as f32];
        let mut x = base;
        let g = random_gain(&mut rng, &mut x, 0.8, 1.2).unwrap();
        assert!((0.8..=1.2).contains(&g), "gain {g}");
        assert_eq!(x, base.map(|v| v * g));
        lo_seen = lo_seen.min(g);
        hi_seen = hi_seen.max(g);
        sum += g as f64;
    }
    assert!(lo_seen < 0.801 && hi_seen > 1.199, "{lo_seen} {hi_seen}");
    let se = 0.4 / 12f64.sqrt() / (n as f64).sqrt();
    assert!((sum / n as f64 - 1.0).abs() < 5.0 * se);
    let mut x = [2.0f32];
    assert_eq!(random_gain(&mut rng, &mut x, 0.5, 0.5).unwrap(), 0.5);
    assert_eq!(x, [1.0]);
    for (lo, hi) in [(1.2, 0.8), (f32::NAN, 1.0), (0.0, f32::INFINITY)] {
        assert_eq!(
            random_gain(&mut rng, &mut x, lo, hi).unwrap_err(),
            Error::Config
        );
    }
    assert_eq!(x, [1.0]);
}

/// Independent reference of the documented shift: out[t] = in[t − s], padded.
fn shift_ref(input: &[f32], len: usize, ch: usize, s: isize, pad: Padding) -> Vec<f32> {
    let mut out = vec![0.0; len * ch];
    for t in 0..len as isize {
        let mut src = t - s;
        if src < 0 || src >= len as isize {
            match pad {
                Padding::Zero => continue,
                Padding::Edge => src = src.clamp(0, len as isize - 1),
            }
        }
        for c in 0..ch {
            out[t as usize * ch + c] = input[src as usize * ch + c];
        }
    }
    out
}

#[test]
fn shift_1d_hand_cases() {
    // [len 4, channels 2]: steps (1,10) (2,20) (3,30) (4,40).
    let x = [1.0f32, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
    let mut out = [9.0f32; 8];
    shift_1d(&x, 4, 2, 1, Padding::Zero, &mut out).unwrap();
    assert_eq!(out, [0.0, 0.0, 1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    shift_1d(&x, 4, 2, 1, Padding::Edge, &mut out).unwrap();
    assert_eq!(out, [1.0, 10.0, 1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    shift_1d(&x, 4, 2, -2, Padding::Zero, &mut out).unwrap();
    assert_eq!(out, [3.0, 30.0, 4.0, 40.0, 0.0, 0.0, 0.0, 0.0]);
    shift_1d(&x, 4, 2, -2, Padding::Edge, &mut out).unwrap();
    assert_eq!(out, [3.0, 30.0, 4.0, 40.0, 4.0, 40.0, 4.0, 40.0]);
    shift_1d(&x, 4, 2, 0, Padding::Zero, &mut out).unwrap();
    assert_eq!(out, x);
    shift_1d(&x, 4, 2, 9, Padding::Zero, &mut out).unwrap();
    assert_eq!(out, [0.0; 8]);
    shift_1d(&x, 4, 2, isize::MIN, Padding::Edge, &mut out).unwrap();
    assert_eq!(out, [4.0, 40.0, 4.0, 40.0, 4.0, 40.0, 4.0, 40.0]);
    shift_1d(&x, 4, 2, isize::MAX, Padding::Edge, &mut out).unwrap();
    assert_eq!(out, [1.0, 10.0, 1.0, 10.0, 1.0, 10.0, 1.0, 10.0]);
}

/// 7,000 random shifts with k = 3: every shift in −3..=3 occurs, the counts pass a chi-square
/// test (6 degrees of freedom, bound 22.46 = the 0.1 % critical value), and each output equals
/// the reference shift by the returned amount.
#[test]
fn random_shift_covers_every_offset_uniformly() {
    let mut rng = SeededRng::seed_from_u64(3);
    let (len, ch, k) = (6usize, 3usize, 3usize);
    let x: Vec<f32> = (0..len * ch).map(|i| i as f32 + 1.0).collect();
    let mut counts = [0usize; 7];
    let mut out = vec![0.0f32; len * ch];
    let trials = 7000;
    for i in 0..trials {
        let pad = if i % 2 == 0 {
            Padding::Zero
        } else {
            Padding::Edge
        };
        let s = random_shift_1d(&mut rng, &x, len, ch, k, pad, &mut out).unwrap();
        assert!((-3..=3).contains(&s));
        counts[(s + 3) as usize] += 1;
        assert_eq!(out, shift_ref(&x, len, ch, s, pad));
    }
    let expected = trials as f64 / 7.0;
    let chi2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    assert!(counts.iter().all(|&c| c > 0));
    assert!(chi2 < 22.46, "chi2 {chi2}, counts {counts:?}");
    // k = 0 is the identity.
    assert_eq!(
        random_shift_1d(&mut rng, &x, len, ch, 0, Padding::Zero, &mut out).unwrap(),
        0
    );
    assert_eq!(out, x);
}

#[test]
fn shift_errors() {
    let mut rng = SeededRng::seed_from_u64(3);
    let x = [1.0f32; 6];
    let mut out = [5.0f32; 6];
    assert_eq!(
        shift_1d(&x, 0, 2, 1, Padding::Zero, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(
        shift_1d(&x, 2, 2, 1, Padding::Zero, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 4,
            actual: 6
        })
    );
    assert_eq!(
        shift_1d(&x, 3, 2, 1, Padding::Zero, &mut out[..5]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 6,
            actual: 5
        })
    );
    assert_eq!(
        random_shift_1d(&mut rng, &x, 3, 2, usize::MAX, Padding::Zero, &mut out).unwrap_err(),
        Error::Config
    );
    assert!(random_shift_1d(&mut rng, &x, 3, 0, 1, Padding::Zero, &mut out).is_err());
    assert_eq!(out, [5.0; 6]);
}

/// Independent reference: pad with zeros into a full padded image, then crop.
fn crop_ref(
    x: &[f32],
    h: usize,
    w: usize,
    c: usize,
    p: usize,
    top: usize,
    left: usize,
) -> Vec<f32> {
    let (ph, pw) = (h + 2 * p, w + 2 * p);
    let mut padded = vec![0.0f32; ph * pw * c];
    for y in 0..h {
        for xx in 0..w {
            for ch in 0..c {
                padded[((y + p) * pw + xx + p) * c + ch] = x[(y * w + xx) * c + ch];
            }
        }
    }
    let mut out = vec![0.0f32; h * w * c];
    for y in 0..h {
        for xx in 0..w {
            for ch in 0..c {
                out[(y * w + xx) * c + ch] = padded[((y + top) * pw + xx + left) * c + ch];
            }
        }
    }
    out
}

#[test]
fn crop_padded_2d_hand_cases() {
    // 3×3, one channel: 1..9.
    let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let mut out = [0.0f32; 9];
    crop_padded_2d(&x, 3, 3, 1, 1, 1, 1, &mut out).unwrap();
    assert_eq!(out.to_vec(), x, "(pad, pad) is the identity");
    // top 0, left 2: the image moves down one row and left one column.
    crop_padded_2d(&x, 3, 3, 1, 1, 0, 2, &mut out).unwrap();
    assert_eq!(out, [0.0, 0.0, 0.0, 2.0, 3.0, 0.0, 5.0, 6.0, 0.0]);
    crop_padded_2d(&x, 3, 3, 1, 1, 2, 0, &mut out).unwrap();
    assert_eq!(out, [0.0, 4.0, 5.0, 0.0, 7.0, 8.0, 0.0, 0.0, 0.0]);
    // pad 4 > size: a corner offset leaves only zeros.
    crop_padded_2d(&x, 3, 3, 1, 4, 0, 0, &mut out).unwrap();
    assert_eq!(out, [0.0; 9]);
    // Two channels move together.
    let x2 = [1.0f32, -1.0, 2.0, -2.0];
    let mut o2 = [9.0f32; 4];
    crop_padded_2d(&x2, 1, 2, 2, 1, 1, 0, &mut o2).unwrap();
    assert_eq!(o2, [0.0, 0.0, 1.0, -1.0]);
}

/// 5,000 random crops of a 4×5×2 image with pad 2: every (top, left) in 0..=4 × 0..=4 occurs
/// (25 cells, 200 expected each), the counts pass chi-square (24 degrees of freedom, bound
/// 51.18 = the 0.1 % critical value), and each output equals the reference crop.
#[test]
fn random_crop_covers_every_offset_and_matches_reference() {
    let mut rng = SeededRng::seed_from_u64(4);
    let (h, w, c, p) = (4usize, 5usize, 2usize, 2usize);
    let x: Vec<f32> = (0..h * w * c).map(|i| i as f32 + 1.0).collect();
    let mut out = vec![0.0f32; h * w * c];
    let mut counts = [[0usize; 5]; 5];
    let trials = 5000;
    for _ in 0..trials {
        let (top, left) = random_crop_2d(&mut rng, &x, h, w, c, p, &mut out).unwrap();
        counts[top][left] += 1;
        assert_eq!(out, crop_ref(&x, h, w, c, p, top, left));
    }
    let expected = trials as f64 / 25.0;
    let chi2: f64 = counts
        .iter()
        .flatten()
        .map(|&k| (k as f64 - expected).powi(2) / expected)
        .sum();
    assert!(counts.iter().flatten().all(|&k| k > 0));
    assert!(chi2 < 51.18, "chi2 {chi2}");
    // pad 0 is the identity.
    assert_eq!(
        random_crop_2d(&mut rng, &x, h, w, c, 0, &mut out).unwrap(),
        (0, 0)
    );
    assert_eq!(out, x);
}

#[test]
fn crop_errors() {
    let mut rng = SeededRng::seed_from_u64(4);
    let x = [1.0f32; 8];
    let mut out = [5.0f32; 8];
    assert_eq!(
        crop_padded_2d(&x, 2, 2, 2, 1, 3, 0, &mut out).unwrap_err(),
        Error::Config
    );
    assert_eq!(
        crop_padded_2d(&x, 2, 2, 2, 1, 0, 3, &mut out).unwrap_err(),
        Error::Config
    );
    assert_eq!(
        crop_padded_2d(&x, 2, 0, 2, 1, 0, 0, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(
        random_crop_2d(&mut rng, &x, 2, 2, 2, usize::MAX, &mut out).unwrap_err(),
        Error::Config
    );
    assert_eq!(
        random_crop_2d(&mut rng, &x[..7], 2, 2, 2, 1, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 8,
            actual: 7
        })
    );
    assert_eq!(
        random_crop_2d(&mut rng, &x, 2, 2, 2, 1, &mut out[..4]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 8,
            actual: 4
        })
    );
    assert_eq!(
        random_crop_2d(&mut rng, &x, usize::MAX, 2, 2, 1, &mut out).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(out, [5.0; 8]);
}
