//! LayerNorm cases of the `layers_norm` test crate (kept apart to keep files short).

use super::common_c::{assert_rel, column_stats, layer_norm, uniform, wide};
use super::{len_err, rng, FWD_TOL};
use tinytune::layers::layer_norm::LayerNormConfig;
use tinytune::layers::Layer;
use tinytune::train::init::Init;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, weighted_sum};
use tinytune_host_tests::rng::SplitMix64;

#[test]
fn ln_forward_and_gradients_match_f64() {
    let mut r = SplitMix64::new(21);
    // Not dim = 2: there x̂ = ±1 whatever x, so dx is only eps-sized f32 cancellation noise.
    for &(batch, positions, dim) in &[(1, 1, 4), (2, 3, 5), (3, 2, 8), (2, 2, 3)] {
        let rows = batch * positions;
        let mut x = uniform(&mut r, rows * dim, -2.0, 2.0);
        // Give each row its own offset.
        for (i, v) in x.iter_mut().enumerate() {
            *v += (i / dim) as f32 * 0.7 - 1.0;
        }
        let mut params = uniform(&mut r, 2 * dim, 0.5, 1.5);
        params[dim..].copy_from_slice(&uniform(&mut r, dim, -1.0, 1.0));
        let g = uniform(&mut r, x.len(), -1.0, 1.0);
        let cfg = LayerNormConfig::new(positions, dim);
        let eps = cfg.eps as f64;
        let (gamma, beta) = (wide(&params[..dim]), wide(&params[dim..]));
        let mut ln = cfg.init(&mut params[..]).unwrap();
        assert_eq!(ln.cache_len(batch), 2 * rows);

        let xw = wide(&x);
        let want = layer_norm(dim, &xw, &gamma, &beta, eps);
        let mut y_inf = vec![0.0f32; x.len()];
        ln.forward(batch, &x, &mut y_inf).unwrap();
        assert_rel("ln forward", &y_inf, &want, FWD_TOL);
        let mut y = vec![0.0f32; x.len()];
        let mut cache = vec![0.0f32; ln.cache_len(batch)];
        ln.forward_train(batch, &x, &mut y, &mut cache, &mut rng())
            .unwrap();
        assert_eq!(y, y_inf, "training and inference agree");
        // Cache: (mean, 1 / sqrt(var + eps)) per row.
        for (row, st) in xw.chunks(dim).zip(cache.chunks(2)) {
            let (mean, var) = column_stats(1, row);
            let want = [mean[0], 1.0 / (var[0] + eps).sqrt()];
            assert_rel("ln cache", st, &want, FWD_TOL);
        }

        let mut gx = vec![0.0f32; x.len()];
        let mut gp = vec![0.0f32; 2 * dim];
        ln.backward(batch, &x, &y, &cache, &g, Some(&mut gx), Some(&mut gp))
            .unwrap();
        let nx = numeric_grad(&xw, |x| {
            weighted_sum(&g, &layer_norm(dim, x, &gamma, &beta, eps))
        });
        let ngamma = numeric_grad(&gamma, |gm| {
            weighted_sum(&g, &layer_norm(dim, &xw, gm, &beta, eps))
        });
        let nbeta = numeric_grad(&beta, |b| {
            weighted_sum(&g, &layer_norm(dim, &xw, &gamma, b, eps))
        });
        assert_close("ln dx", &gx, &nx);
        assert_close("ln dgamma", &gp[..dim], &ngamma);
        assert_close("ln dbeta", &gp[dim..], &nbeta);

        // Accumulation: a second call doubles the parameter gradients (up to the rounding of
        // adding row by row onto a non-zero buffer).
        let once = gp.clone();
        ln.backward(batch, &x, &y, &cache, &g, None, Some(&mut gp))
            .unwrap();
        assert_rel(
            "ln accumulated",
            &gp,
            &once.iter().map(|&v| 2.0 * v as f64).collect::<Vec<_>>(),
            1e-6,
        );
    }
}

#[test]
fn ln_errors() {
    let p = [1.0f32, 1.0, 1.0, 0.0, 0.0, 0.0];
    for eps in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        let cfg = LayerNormConfig {
            eps,
            ..LayerNormConfig::new(2, 3)
        };
        assert_eq!(cfg.init(&p[..]).err(), Some(Error::Config));
    }
    let dim = Some(Error::Shape(ShapeError::Dimension));
    assert_eq!(LayerNormConfig::new(0, 3).init(&p[..]).err(), dim);
    assert_eq!(LayerNormConfig::new(2, 0).init(&p[..0]).err(), dim);
    assert_eq!(
        LayerNormConfig::new(2, 3).init(&p[..5]).err(),
        Some(len_err(Buffer::Params, 6, 5))
    );

    let mut params = p;
    let mut ln = LayerNormConfig::new(2, 3).init(&mut params[..]).unwrap();
    let x = [1.0f32, 2.0, 4.0, -1.0, 0.0, 3.0];
    let mut y = [9.0f32; 6];
    assert_eq!(
        ln.forward(1, &x[..5], &mut y),
        Err(len_err(Buffer::Input, 6, 5))
    );
    assert_eq!(
        ln.forward(1, &x, &mut y[..5]),
        Err(len_err(Buffer::Output, 6, 5))
    );
    assert_eq!(
        ln.forward(0, &x[..0], &mut y[..0]),
        Err(ShapeError::Dimension.into())
    );
    let mut cache = [9.0f32; 3];
    let e = ln.forward_train(1, &x, &mut y, &mut cache, &mut rng());
    assert_eq!(e, Err(len_err(Buffer::Cache, 4, 3)));
    assert_eq!((y, cache), ([9.0; 6], [9.0; 3]));
    let mut cache = [0.0f32; 4];
    ln.forward_train(1, &x, &mut y, &mut cache, &mut rng())
        .unwrap();
    let (mut gx, mut gp) = ([9.0f32; 6], [9.0f32; 6]);
    let e = ln.backward(1, &x, &y, &cache, &x[..5], Some(&mut gx), Some(&mut gp));
    assert_eq!(e, Err(len_err(Buffer::GradOutput, 6, 5)));
    let e = ln.backward(1, &x, &y, &cache, &x, Some(&mut gx), Some(&mut gp[..5]));
    assert_eq!(e, Err(len_err(Buffer::GradParams, 6, 5)));
    assert_eq!((gx, gp), ([9.0; 6], [9.0; 6]));
    ln.init_params(Init::Zeros, &mut rng()).unwrap();
    assert_eq!(ln.params(), &[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);

    let frozen = LayerNormConfig::new(2, 3).init(&p[..]).unwrap();
    let e = frozen.backward(1, &x, &y, &cache, &x, Some(&mut gx), Some(&mut gp));
    assert_eq!(e, Err(Error::Frozen));
    assert_eq!((gx, gp), ([9.0; 6], [9.0; 6]));
    let mut frozen = frozen;
    assert_eq!(
        frozen.init_params(Init::Zeros, &mut rng()),
        Err(Error::Frozen)
    );
}

#[test]
fn ln_nan_poisons_only_its_row() {
    let p = [1.0f32, 1.0, 0.0, 0.0];
    let ln = LayerNormConfig::new(2, 2).init(&p[..]).unwrap();
    let mut y = [0.0f32; 4];
    ln.forward(1, &[f32::NAN, 1.0, 2.0, 3.0], &mut y).unwrap();
    assert!(y[0].is_nan() && y[1].is_nan() && y[2].is_finite() && y[3].is_finite());
}
