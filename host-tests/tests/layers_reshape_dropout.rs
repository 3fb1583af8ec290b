//! Reshape/flatten (a copy) and inverted dropout: identity in inference, a seeded Bernoulli mask
//! in training (statistics checked at 5 binomial standard deviations), backward through exactly
//! the cached mask, error paths.

mod common_b;

use common_b::check_input_grad;
use tinytune::layers::dropout::{Dropout, DropoutConfig};
use tinytune::layers::reshape::{Flatten, FlattenConfig, ReshapeConfig};
use tinytune::layers::Layer;
use tinytune::rng::{uniform_f32, RngCore, SeedableRng, SeededRng};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

fn length(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

/// Values whose bits a copy must keep: NaN payloads, signed zeros, infinities, subnormals.
fn awkward_values(n: usize) -> Vec<f32> {
    let special = [
        f32::from_bits(0x7fc0_1234),
        -0.0,
        0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(1),
        -1.5,
        f32::MAX,
    ];
    (0..n).map(|i| special[i % special.len()]).collect()
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn reshape_copies_bit_for_bit_both_ways() {
    let l: Flatten = FlattenConfig { len: 12 }.init().unwrap();
    assert_eq!((l.input_len(), l.output_len(), l.cache_len(3)), (12, 12, 0));
    let x = awkward_values(36);
    let mut y = vec![0.0; 36];
    l.forward(3, &x, &mut y).unwrap();
    assert_eq!(bits(&y), bits(&x));
    let g = awkward_values(37)[1..].to_vec();
    let mut gi = vec![0.0; 36];
    l.backward(3, &x, &y, &[], &g, Some(&mut gi), None).unwrap();
    assert_eq!(bits(&gi), bits(&g));
}

#[test]
fn reshape_gradient_matches_f64_reference() {
    let l = ReshapeConfig { len: 10 }.init().unwrap();
    let x = SplitMix64::new(1).f32_vec(20, -2.0, 2.0);
    check_input_grad("reshape", &l, 2, &x, 2, |x| x.to_vec());
}

#[test]
fn reshape_errors() {
    assert_eq!(
        ReshapeConfig { len: 0 }.init().unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    let l = ReshapeConfig { len: 4 }.init().unwrap();
    let x = [1.0f32; 8];
    let mut y = [7.0f32; 8];
    assert_eq!(
        l.forward(0, &x, &mut y),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        l.forward(2, &x[1..], &mut y),
        Err(length(Buffer::Input, 8, 7))
    );
    assert_eq!(
        l.forward(2, &x, &mut y[1..]),
        Err(length(Buffer::Output, 8, 7))
    );
    assert_eq!(y, [7.0; 8]);
    let mut gi = [7.0f32; 8];
    assert_eq!(
        l.backward(2, &x, &y, &[], &x[1..], Some(&mut gi), None),
        Err(length(Buffer::GradOutput, 8, 7))
    );
    assert_eq!(
        l.backward(2, &x, &y, &[], &x, Some(&mut gi[1..]), None),
        Err(length(Buffer::GradInput, 8, 7))
    );
    assert_eq!(
        l.backward(2, &x, &y, &[0.0], &x, Some(&mut gi), None),
        Err(length(Buffer::Cache, 0, 1))
    );
    assert_eq!(gi, [7.0; 8]);
}

fn dropout(len: usize, rate: f32) -> Dropout {
    DropoutConfig { len, rate }.init().unwrap()
}

#[test]
fn dropout_rejects_bad_rates() {
    for rate in [
        -0.1,
        1.0,
        1.5,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -f32::MIN_POSITIVE,
    ] {
        assert_eq!(
            DropoutConfig { len: 4, rate }.init().unwrap_err(),
            Error::Config,
            "rate {rate}"
        );
    }
    for rate in [0.0, -0.0, 0.5, 0.999_999] {
        assert!(DropoutConfig { len: 4, rate }.init().is_ok(), "rate {rate}");
    }
    assert_eq!(
        DropoutConfig { len: 0, rate: 0.5 }.init().unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
}

#[test]
fn dropout_inference_is_bitwise_identity() {
    let l = dropout(16, 0.5);
    let x = awkward_values(48);
    let mut y = vec![0.0; 48];
    l.forward(3, &x, &mut y).unwrap();
    assert_eq!(bits(&y), bits(&x));
}

/// Runs `forward_train` and returns `(output, mask)`.
fn train(l: &mut Dropout, batch: usize, x: &[f32], seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut y = vec![f32::NAN; x.len()];
    let mut mask = vec![f32::NAN; l.cache_len(batch)];
    l.forward_train(batch, x, &mut y, &mut mask, &mut rng)
        .unwrap();
    (y, mask)
}

/// Over N = 100 000 values with a fixed seed: the mean output equals the mean input within
/// 5 standard deviations of the mean of `x_i B_i / (1 - p)`, i.e.
/// `5 sqrt(Σ x_i² p / (1 - p)) / N`, and the kept fraction is `1 - p` within
/// `5 sqrt(p (1 - p) / N)`.
#[test]
fn dropout_mean_and_kept_fraction_within_5_sigma() {
    let (batch, len) = (100, 1000);
    let n = (batch * len) as f64;
    let x = SplitMix64::new(42).f32_vec(batch * len, 0.5, 1.5);
    for (k, rate) in [0.1f32, 0.3, 0.5, 0.9].into_iter().enumerate() {
        let mut l = dropout(len, rate);
        assert_eq!(l.cache_len(batch), batch * len);
        let (y, mask) = train(&mut l, batch, &x, 1000 + k as u64);
        let p = rate as f64;
        let mean_in = x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let mean_out = y.iter().map(|&v| v as f64).sum::<f64>() / n;
        let sum_sq: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
        let sigma_mean = (sum_sq * p / (1.0 - p)).sqrt() / n;
        assert!(
            (mean_out - mean_in).abs() <= 5.0 * sigma_mean,
            "rate {rate}: mean {mean_out} vs {mean_in} (5 sigma {})",
            5.0 * sigma_mean
        );
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / n;
        let sigma_kept = (p * (1.0 - p) / n).sqrt();
        assert!(
            (kept - (1.0 - p)).abs() <= 5.0 * sigma_kept,
            "rate {rate}: kept {kept} (5 sigma {})",
            5.0 * sigma_kept
        );
    }
}

/// The mask is one `uniform < 1 - rate` draw per value in order from the given generator: kept
/// values are multiplied by `1 / (1 - rate)`, dropped ones are 0, and the cache holds exactly
/// those multipliers.
#[test]
fn dropout_mask_is_one_draw_per_value_and_scales_kept_values() {
    let (batch, len, rate, seed) = (3, 50, 0.4f32, 9);
    let x = SplitMix64::new(5).f32_vec(batch * len, -2.0, 2.0);
    let mut l = dropout(len, rate);
    let (y, mask) = train(&mut l, batch, &x, seed);
    let scale = 1.0 / (1.0 - rate);
    assert_eq!(l.scale(), scale);
    let mut rng = SeededRng::seed_from_u64(seed);
    for i in 0..x.len() {
        let keep = uniform_f32(&mut rng) < 1.0 - rate;
        let expected_mask = if keep { scale } else { 0.0 };
        assert_eq!(mask[i], expected_mask, "mask[{i}]");
        assert_eq!(y[i], if keep { x[i] * scale } else { 0.0 }, "y[{i}]");
    }
}

#[test]
fn dropout_same_seed_same_mask_other_seed_other_mask() {
    let x = vec![1.0f32; 400];
    let mut l = dropout(100, 0.5);
    let (y1, m1) = train(&mut l, 4, &x, 77);
    let (y2, m2) = train(&mut l, 4, &x, 77);
    let (_, m3) = train(&mut l, 4, &x, 78);
    assert_eq!(bits(&y1), bits(&y2));
    assert_eq!(bits(&m1), bits(&m2));
    assert_ne!(m1, m3);
}

/// Backward multiplies by the cached mask: zero where dropped, `g / (1 - rate)` where kept. It
/// reads the cache rather than drawing again: a mask written by hand is the one applied, and
/// repeated calls agree.
#[test]
fn dropout_backward_uses_exactly_the_cached_mask() {
    let (batch, len, rate) = (2, 64, 0.25f32);
    let mut gen = SplitMix64::new(8);
    let x = gen.f32_vec(batch * len, 0.5, 1.5);
    let g = gen.f32_vec(batch * len, -1.0, 1.0);
    let mut l = dropout(len, rate);
    let (y, mask) = train(&mut l, batch, &x, 3);
    assert!(mask.contains(&0.0) && mask.contains(&l.scale()));
    let mut gi = vec![f32::NAN; batch * len];
    l.backward(batch, &x, &y, &mask, &g, Some(&mut gi), None)
        .unwrap();
    for i in 0..gi.len() {
        if y[i] == 0.0 {
            assert_eq!(gi[i], 0.0, "dropped value {i} got a gradient");
        } else {
            assert_eq!(gi[i], g[i] * (1.0 / (1.0 - rate)), "kept value {i}");
        }
    }
    let mut again = vec![f32::NAN; batch * len];
    l.backward(batch, &x, &y, &mask, &g, Some(&mut again), None)
        .unwrap();
    assert_eq!(bits(&gi), bits(&again));
    let custom: Vec<f32> = (0..batch * len).map(|i| (i % 3) as f32).collect();
    l.backward(batch, &x, &y, &custom, &g, Some(&mut gi), None)
        .unwrap();
    for i in 0..gi.len() {
        assert_eq!(gi[i], g[i] * custom[i]);
    }
}

/// Gradient check of `y = x ⊙ mask` with the drawn mask held fixed (the f64 reference reads the
/// mask, which `dropout_mask_is_one_draw_per_value_and_scales_kept_values` checks separately).
#[test]
fn dropout_gradient_matches_f64_reference() {
    let (batch, len) = (3, 20);
    let x = SplitMix64::new(4).f32_vec(batch * len, -2.0, 2.0);
    let mut l = dropout(len, 0.5);
    let (y, mask) = train(&mut l, batch, &x, 12);
    let g = SplitMix64::new(13).f32_vec(batch * len, -1.0, 1.0);
    let mut gi = vec![f32::NAN; batch * len];
    l.backward(batch, &x, &y, &mask, &g, Some(&mut gi), None)
        .unwrap();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let numeric = tinytune_host_tests::gradcheck::numeric_grad(&x64, |xx| {
        let out: Vec<f64> = xx.iter().zip(&mask).map(|(a, &m)| a * m as f64).collect();
        tinytune_host_tests::gradcheck::weighted_sum(&g, &out)
    });
    tinytune_host_tests::gradcheck::assert_close("dropout", &gi, &numeric);
}

/// `rate == 0`: training is the identity too, the mask is all ones, and nothing is drawn.
#[test]
fn dropout_rate_zero_is_identity_in_training() {
    let mut l = dropout(8, 0.0);
    let x = awkward_values(16);
    let mut rng = SeededRng::seed_from_u64(1);
    let mut y = vec![0.0; 16];
    let mut mask = vec![f32::NAN; 16];
    l.forward_train(2, &x, &mut y, &mut mask, &mut rng).unwrap();
    assert_eq!(bits(&y), bits(&x));
    assert!(mask.iter().all(|&m| m == 1.0));
    assert_eq!(rng.next_u32(), SeededRng::seed_from_u64(1).next_u32());
}

#[test]
fn dropout_errors_write_nothing_and_draw_nothing() {
    let mut l = dropout(4, 0.5);
    let x = [1.0f32; 8];
    let mut y = [7.0f32; 8];
    let mut cache = [7.0f32; 9];
    let mut rng = SeededRng::seed_from_u64(2);
    assert_eq!(
        l.forward_train(2, &x, &mut y, &mut cache[..7], &mut rng),
        Err(length(Buffer::Cache, 8, 7))
    );
    assert_eq!(
        l.forward_train(2, &x[1..], &mut y, &mut cache[..8], &mut rng),
        Err(length(Buffer::Input, 8, 7))
    );
    assert_eq!(
        l.forward_train(2, &x, &mut y[1..], &mut cache[..8], &mut rng),
        Err(length(Buffer::Output, 8, 7))
    );
    assert_eq!(
        l.forward_train(0, &x, &mut y, &mut cache[..8], &mut rng),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        l.forward(2, &x, &mut y[1..]),
        Err(length(Buffer::Output, 8, 7))
    );
    assert_eq!((y, cache), ([7.0; 8], [7.0; 9]));
    assert_eq!(rng.next_u32(), SeededRng::seed_from_u64(2).next_u32());

    let mask = [2.0f32; 8];
    let mut gi = [7.0f32; 8];
    assert_eq!(
        l.backward(2, &x, &y, &mask[1..], &x, Some(&mut gi), None),
        Err(length(Buffer::Cache, 8, 7))
    );
    assert_eq!(
        l.backward(2, &x, &y, &mask, &x[1..], Some(&mut gi), None),
        Err(length(Buffer::GradOutput, 8, 7))
    );
    assert_eq!(
        l.backward(2, &x, &y, &mask, &x, Some(&mut gi[1..]), None),
        Err(length(Buffer::GradInput, 8, 7))
    );
    assert_eq!(
        l.backward(2, &x, &y, &mask, &x, Some(&mut gi), Some(&mut [0.0])),
        Err(length(Buffer::GradParams, 0, 1))
    );
    assert_eq!(gi, [7.0; 8]);
}
