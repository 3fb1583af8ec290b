//! BatchNorm and LayerNorm against f64 references: forward (tolerance `1e-5 · max(|ref|, 1)`),
//! gradients of input, gamma and beta against central differences of the f64 forward
//! (`gradcheck::assert_close`, relative 1e-3), running statistics against a hand-worked case,
//! and the error paths.

mod common_c;
#[path = "common_c/layer_norm_cases.rs"]
mod layer_norm_cases;

use common_c::{assert_rel, bn_infer, bn_train, uniform, wide};
use tinytune::layers::batch_norm::{BatchNorm, BatchNormConfig};
use tinytune::layers::{Layer, Params};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::Init;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, weighted_sum};
use tinytune_host_tests::rng::SplitMix64;

const FWD_TOL: f64 = 1e-5;

fn rng() -> SeededRng {
    SeededRng::seed_from_u64(0)
}

/// Inputs whose channels have different means and spreads (so normalising matters).
fn bn_input(rng: &mut SplitMix64, rows: usize, channels: usize) -> Vec<f32> {
    let shift = uniform(rng, channels, -3.0, 3.0);
    let spread = uniform(rng, channels, 0.5, 2.0);
    let mut x = uniform(rng, rows * channels, -1.0, 1.0);
    for (i, v) in x.iter_mut().enumerate() {
        *v = *v * spread[i % channels] + shift[i % channels];
    }
    x
}

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn bn_train_forward_and_gradients_match_f64() {
    let mut r = SplitMix64::new(11);
    for &(batch, positions, channels) in &[(2, 3, 4), (3, 1, 5), (4, 2, 1), (2, 5, 3), (5, 4, 2)] {
        let rows = batch * positions;
        let x = bn_input(&mut r, rows, channels);
        let mut params = uniform(&mut r, 2 * channels, 0.5, 1.5);
        params[channels..].copy_from_slice(&uniform(&mut r, channels, -1.0, 1.0));
        let mut stats = vec![0.0f32; 2 * channels];
        stats[channels..].fill(1.0);
        let g = uniform(&mut r, rows * channels, -1.0, 1.0);
        let cfg = BatchNormConfig::new(positions, channels);
        let eps = cfg.eps as f64;
        let (gamma, beta) = (wide(&params[..channels]), wide(&params[channels..]));
        let mut bn = cfg.init(&mut params[..], &mut stats[..]).unwrap();

        let mut y = vec![0.0f32; x.len()];
        let mut cache = vec![0.0f32; bn.cache_len(batch)];
        bn.forward_train(batch, &x, &mut y, &mut cache, &mut rng())
            .unwrap();
        let xw = wide(&x);
        assert_rel(
            "bn train forward",
            &y,
            &bn_train(channels, &xw, &gamma, &beta, eps),
            FWD_TOL,
        );

        let mut gx = vec![0.0f32; x.len()];
        let mut gp = vec![0.0f32; 2 * channels];
        bn.backward(batch, &x, &y, &cache, &g, Some(&mut gx), Some(&mut gp))
            .unwrap();
        let nx = numeric_grad(&xw, |x| {
            weighted_sum(&g, &bn_train(channels, x, &gamma, &beta, eps))
        });
        let ngamma = numeric_grad(&gamma, |gm| {
            weighted_sum(&g, &bn_train(channels, &xw, gm, &beta, eps))
        });
        let nbeta = numeric_grad(&beta, |b| {
            weighted_sum(&g, &bn_train(channels, &xw, &gamma, b, eps))
        });
        assert_close("bn dx", &gx, &nx);
        assert_close("bn dgamma", &gp[..channels], &ngamma);
        assert_close("bn dbeta", &gp[channels..], &nbeta);
    }
}

#[test]
fn bn_inference_forward_matches_f64() {
    let mut r = SplitMix64::new(12);
    for &(batch, positions, channels) in &[(1, 1, 3), (3, 4, 5), (2, 9, 8)] {
        let rows = batch * positions;
        let x = bn_input(&mut r, rows, channels);
        let params = uniform(&mut r, 2 * channels, -1.5, 1.5);
        let mut stats = uniform(&mut r, 2 * channels, -2.0, 2.0);
        stats[channels..].copy_from_slice(&uniform(&mut r, channels, 0.1, 3.0));
        let cfg = BatchNormConfig::new(positions, channels);
        let bn = cfg.init(&params[..], &stats[..]).unwrap();
        let mut y = vec![0.0f32; x.len()];
        bn.forward(batch, &x, &mut y).unwrap();
        let want = bn_infer(
            channels,
            &wide(&x),
            &wide(&params[..channels]),
            &wide(&params[channels..]),
            &wide(&stats[..channels]),
            &wide(&stats[channels..]),
            cfg.eps as f64,
        );
        assert_rel("bn inference", &y, &want, FWD_TOL);
    }
}

/// Two channels, two positions, batch two. Channel 0 sees 1, 2, 3, 6: mean 3, squared deviations
/// 4 + 1 + 0 + 9 = 14, biased variance 3.5, unbiased 14/3. Channel 1 is ten times channel 0:
/// mean 30, biased variance 350, unbiased 1400/3. Momentum 0.1 from mean [0, 1], var [1, 2]:
/// running mean [0.3, 0.9 + 3] = [0.3, 3.9], running var [0.9 + 1.4/3, 1.8 + 140/3].
#[test]
fn bn_running_statistics_hand_worked() {
    let x = [1.0f32, 10.0, 2.0, 20.0, 3.0, 30.0, 6.0, 60.0];
    let mut params = [1.0f32, 1.0, 0.0, 0.0];
    let mut stats = [0.0f32, 1.0, 1.0, 2.0];
    let mut bn = BatchNormConfig::new(2, 2)
        .init(&mut params, &mut stats)
        .unwrap();
    let mut y = [0.0f32; 8];
    let mut cache = [0.0f32; 4];
    bn.forward_train(2, &x, &mut y, &mut cache, &mut rng())
        .unwrap();
    let close = |a: f32, b: f64| (a as f64 - b).abs() <= 1e-6 * b.abs().max(1.0);
    let want_stats = [0.3, 3.9, 0.9 + 1.4 / 3.0, 1.8 + 140.0 / 3.0];
    for (i, (&got, &want)) in bn.stats().iter().zip(&want_stats).enumerate() {
        assert!(close(got, want), "stats[{i}] = {got}, want {want}");
    }
    assert_eq!(bn.running_mean(), &bn.stats()[..2]);
    assert_eq!(bn.running_var(), &bn.stats()[2..]);
    // Cache: batch mean, then 1 / sqrt(biased var + 1e-5).
    let want_cache = [3.0, 30.0, 0.534_521_720_222_936_8, 0.053_452_247_618_881_34];
    for (i, (&got, &want)) in cache.iter().zip(&want_cache).enumerate() {
        assert!(close(got, want), "cache[{i}] = {got}, want {want}");
    }
    // The last row is (6 - 3) / sqrt(3.5 + 1e-5) and (60 - 30) / sqrt(350 + 1e-5).
    assert!(close(y[6], 1.603_565_160_668_810_2), "{}", y[6]);
    assert!(close(y[7], 1.603_567_428_566_440_3), "{}", y[7]);

    // A second step with momentum 1 replaces the statistics by the batch's.
    let mut stats2 = [5.0f32, 5.0, 5.0, 5.0];
    let mut cfg = BatchNormConfig::new(2, 2);
    cfg.momentum = 1.0;
    let mut bn = cfg.init(&params[..], &mut stats2[..]).unwrap();
    bn.forward_train(2, &x, &mut y, &mut cache, &mut rng())
        .unwrap();
    let want = [3.0, 30.0, 14.0 / 3.0, 1400.0 / 3.0];
    for (i, (&got, &want)) in bn.stats().iter().zip(&want).enumerate() {
        assert!(
            close(got, want),
            "momentum 1: stats[{i}] = {got}, want {want}"
        );
    }
}

/// With a single value per channel there is no unbiased variance: the running variance is kept,
/// the running mean is updated, and the output is beta (x̂ = 0).
#[test]
fn bn_single_value_keeps_running_variance() {
    let mut params = [2.0f32, 0.25];
    let mut stats = [1.0f32, 4.0];
    let mut bn = BatchNormConfig::new(1, 1)
        .init(&mut params, &mut stats)
        .unwrap();
    let (mut y, mut cache) = ([0.0f32], [0.0f32; 2]);
    bn.forward_train(1, &[3.0], &mut y, &mut cache, &mut rng())
        .unwrap();
    assert_eq!(y, [0.25]);
    assert!((bn.running_mean()[0] - 1.2).abs() < 1e-6);
    assert_eq!(bn.running_var(), &[4.0]);
}

#[test]
fn bn_frozen_stats_reject_training_and_write_nothing() {
    let mut params = [1.0f32, 1.0, 0.0, 0.0];
    let stats = [0.0f32, 0.0, 1.0, 1.0];
    let mut bn = BatchNormConfig::new(1, 2)
        .init(&mut params[..], &stats[..])
        .unwrap();
    assert!(bn.stats_mut().is_none());
    let (mut y, mut cache) = ([7.0f32; 4], [7.0f32; 4]);
    let err = bn.forward_train(2, &[1.0, 2.0, 3.0, 4.0], &mut y, &mut cache, &mut rng());
    assert_eq!(err, Err(Error::Frozen));
    assert_eq!((y, cache), ([7.0; 4], [7.0; 4]));
    assert_eq!(bn.reset_stats(), Err(Error::Frozen));
    // Inference still works with frozen statistics.
    bn.forward(2, &[1.0, 2.0, 3.0, 4.0], &mut y).unwrap();
    assert!((y[3] - 4.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-6);
}

#[test]
fn bn_config_errors() {
    let p = [0.0f32; 6];
    let s = [0.0f32; 6];
    for eps in [0.0, -1e-5, f32::NAN, f32::INFINITY] {
        let cfg = BatchNormConfig {
            eps,
            ..BatchNormConfig::new(2, 3)
        };
        assert_eq!(
            cfg.init(&p[..], &s[..]).err(),
            Some(Error::Config),
            "eps {eps}"
        );
    }
    for momentum in [-0.1, 1.5, f32::NAN] {
        let cfg = BatchNormConfig {
            momentum,
            ..BatchNormConfig::new(2, 3)
        };
        assert_eq!(
            cfg.init(&p[..], &s[..]).err(),
            Some(Error::Config),
            "momentum {momentum}"
        );
    }
    for momentum in [0.0, 1.0] {
        let cfg = BatchNormConfig {
            momentum,
            ..BatchNormConfig::new(2, 3)
        };
        assert!(cfg.init(&p[..], &s[..]).is_ok());
    }
    let cfg = BatchNormConfig::new(2, 3);
    assert_eq!(cfg.param_len(), Ok(6));
    assert_eq!(
        cfg.init(&p[..5], &s[..]).err(),
        Some(len_err(Buffer::Params, 6, 5))
    );
    assert_eq!(
        cfg.init(&p[..], &s[..4]).err(),
        Some(len_err(Buffer::Stats, 6, 4))
    );
    let dim = Some(Error::Shape(ShapeError::Dimension));
    assert_eq!(BatchNormConfig::new(0, 3).init(&p[..], &s[..]).err(), dim);
    assert_eq!(BatchNormConfig::new(2, 0).init(&p[..0], &s[..0]).err(), dim);
    assert_eq!(
        BatchNormConfig::new(usize::MAX, 3)
            .init(&p[..], &s[..])
            .err(),
        dim
    );
}

#[test]
fn bn_shape_errors_write_nothing() {
    let mut params = [1.0f32, 1.0, 0.0, 0.0];
    let mut stats = [0.0f32, 0.0, 1.0, 1.0];
    let mut bn = BatchNormConfig::new(2, 2)
        .init(&mut params, &mut stats)
        .unwrap();
    let x = [1.0f32; 8];
    let mut y = [9.0f32; 8];
    assert_eq!(
        bn.forward(2, &x[..7], &mut y),
        Err(len_err(Buffer::Input, 8, 7))
    );
    assert_eq!(
        bn.forward(2, &x, &mut y[..7]),
        Err(len_err(Buffer::Output, 8, 7))
    );
    assert_eq!(
        bn.forward(0, &x[..0], &mut y[..0]),
        Err(ShapeError::Dimension.into())
    );
    let mut cache = [9.0f32; 3];
    let err = bn.forward_train(2, &x, &mut y, &mut cache, &mut rng());
    assert_eq!(err, Err(len_err(Buffer::Cache, 4, 3)));
    assert_eq!((y, cache), ([9.0; 8], [9.0; 3]));
    assert_eq!(bn.stats(), &[0.0, 0.0, 1.0, 1.0]);

    let cache = [0.0f32, 0.0, 1.0, 1.0];
    let (mut gx, mut gp) = ([9.0f32; 8], [9.0f32; 4]);
    let g = [1.0f32; 8];
    let e = bn.backward(2, &x, &y, &cache, &g[..7], Some(&mut gx), Some(&mut gp));
    assert_eq!(e, Err(len_err(Buffer::GradOutput, 8, 7)));
    let e = bn.backward(2, &x, &y, &cache, &g, Some(&mut gx[..7]), Some(&mut gp));
    assert_eq!(e, Err(len_err(Buffer::GradInput, 8, 7)));
    let e = bn.backward(2, &x, &y, &cache, &g, Some(&mut gx), Some(&mut gp[..3]));
    assert_eq!(e, Err(len_err(Buffer::GradParams, 4, 3)));
    let e = bn.backward(2, &x, &y, &cache[..3], &g, Some(&mut gx), Some(&mut gp));
    assert_eq!(e, Err(len_err(Buffer::Cache, 4, 3)));
    assert_eq!((gx, gp), ([9.0; 8], [9.0; 4]));

    let frozen_params = [1.0f32, 1.0, 0.0, 0.0];
    let bn = BatchNormConfig::new(2, 2)
        .init(&frozen_params[..], &stats[..])
        .unwrap();
    let e = bn.backward(2, &x, &y, &cache, &g, Some(&mut gx), Some(&mut gp));
    assert_eq!(e, Err(Error::Frozen));
    assert_eq!((gx, gp), ([9.0; 8], [9.0; 4]));
    // Without grad_params, frozen parameters are fine.
    bn.backward(2, &x, &y, &cache, &g, Some(&mut gx), None)
        .unwrap();
}

#[test]
fn bn_grad_params_accumulate_and_grad_input_is_overwritten() {
    let mut r = SplitMix64::new(13);
    let (batch, positions, channels) = (3, 2, 3);
    let x = bn_input(&mut r, batch * positions, channels);
    let g = uniform(&mut r, x.len(), -1.0, 1.0);
    let mut params = uniform(&mut r, 2 * channels, 0.5, 1.5);
    let mut stats = vec![0.0f32; 2 * channels];
    let mut bn = BatchNormConfig::new(positions, channels)
        .init(&mut params[..], &mut stats[..])
        .unwrap();
    let mut y = vec![0.0f32; x.len()];
    let mut cache = vec![0.0f32; bn.cache_len(batch)];
    bn.forward_train(batch, &x, &mut y, &mut cache, &mut rng())
        .unwrap();
    let mut gx1 = vec![0.0f32; x.len()];
    let mut gp = vec![0.0f32; 2 * channels];
    bn.backward(batch, &x, &y, &cache, &g, Some(&mut gx1), Some(&mut gp))
        .unwrap();
    let once = gp.clone();
    assert!(once.iter().any(|&v| v != 0.0));
    let mut gx2 = vec![123.0f32; x.len()];
    bn.backward(batch, &x, &y, &cache, &g, Some(&mut gx2), Some(&mut gp))
        .unwrap();
    for (two, one) in gp.iter().zip(&once) {
        assert_eq!(*two, 2.0 * one);
    }
    assert_eq!(gx1, gx2);
}

#[test]
fn bn_init_params_and_reset_stats() {
    let mut params = [3.0f32; 6];
    let mut stats = [3.0f32; 6];
    let mut bn = BatchNormConfig::new(1, 3)
        .init(&mut params, &mut stats)
        .unwrap();
    bn.init_params(
        Init::HeNormal(tinytune::train::init::FanMode::FanIn),
        &mut rng(),
    )
    .unwrap();
    assert_eq!(bn.gamma(), &[1.0; 3]);
    assert_eq!(bn.beta(), &[0.0; 3]);
    assert_eq!(bn.stats(), &[3.0; 6]);
    bn.reset_stats().unwrap();
    assert_eq!(bn.running_mean(), &[0.0; 3]);
    assert_eq!(bn.running_var(), &[1.0; 3]);
    bn.stats_mut().unwrap()[0] = 5.0;
    assert_eq!(bn.running_mean()[0], 5.0);
    let frozen = [3.0f32; 6];
    let mut bn: BatchNorm = BatchNormConfig::new(1, 3)
        .init(Params::Frozen(&frozen), &mut stats)
        .unwrap();
    assert_eq!(bn.init_params(Init::Zeros, &mut rng()), Err(Error::Frozen));
    assert!(bn.params_mut().is_none());
}

#[test]
fn bn_nan_input_gives_nan_in_its_channel() {
    let mut params = [1.0f32, 1.0, 0.0, 0.0];
    let mut stats = [0.0f32, 0.0, 1.0, 1.0];
    let mut bn = BatchNormConfig::new(1, 2)
        .init(&mut params, &mut stats)
        .unwrap();
    let x = [f32::NAN, 1.0, 2.0, 3.0];
    let mut y = [0.0f32; 4];
    bn.forward(2, &x, &mut y).unwrap();
    assert!(y[0].is_nan() && y[1].is_finite() && y[2].is_finite());
    let mut cache = [0.0f32; 4];
    bn.forward_train(2, &x, &mut y, &mut cache, &mut rng())
        .unwrap();
    assert!(y[0].is_nan() && y[2].is_nan() && y[1].is_finite() && y[3].is_finite());
    assert!(bn.running_mean()[0].is_nan() && bn.running_mean()[1].is_finite());
}
