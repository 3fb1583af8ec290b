//! The f32 dense layer and its backward kernel, against the independent f64 reference of
//! `reference::linear::dense_taps` (forward within `1e-5 (1 + Σ|terms|)`, gradients within 1e-3
//! relative of central differences).

mod common_linear;

use common_linear::{check_errors, check_frozen, check_gradients, check_init, check_layer};
use tinytune::kernels::generic::dense::DenseShape;
use tinytune::kernels::generic::grad::dense::dense_backward_f32;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::Layer;
use tinytune::train::init::Fans;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::reference::linear::dense_taps;
use tinytune_host_tests::rng::SplitMix64;

fn random_params(rng: &mut SplitMix64, config: &DenseConfig) -> Vec<f32> {
    rng.f32_vec(config.param_len().unwrap(), -1.0, 1.0)
}

#[test]
fn forward_and_gradients_match_f64_reference() {
    let mut rng = SplitMix64::new(1);
    let cases = [
        (1, 1, 1, true),
        (3, 5, 4, true),
        (2, 7, 3, false),
        (4, 16, 9, true),
        (5, 3, 11, false),
    ];
    for (batch, in_features, out_features, bias) in cases {
        let config = DenseConfig {
            in_features,
            out_features,
            bias,
        };
        let mut params = random_params(&mut rng, &config);
        let layer = config.init(&mut params[..]).unwrap();
        let taps = dense_taps(batch, in_features, out_features);
        check_layer(
            &format!("{config:?} batch {batch}"),
            &layer,
            batch,
            &taps,
            in_features * out_features,
            &mut rng,
        );
    }
}

#[test]
fn random_shapes_match_f64_reference() {
    let mut rng = SplitMix64::new(2);
    for _ in 0..20 {
        let batch = rng.range_i64(1, 4) as usize;
        let config = DenseConfig {
            in_features: rng.range_i64(1, 12) as usize,
            out_features: rng.range_i64(1, 12) as usize,
            bias: rng.range_i64(0, 1) == 1,
        };
        let mut params = random_params(&mut rng, &config);
        let layer = config.init(&mut params[..]).unwrap();
        let taps = dense_taps(batch, config.in_features, config.out_features);
        let weights_len = config.in_features * config.out_features;
        check_layer(
            &format!("{config:?}"),
            &layer,
            batch,
            &taps,
            weights_len,
            &mut rng,
        );
    }
}

#[test]
fn accessors_expose_parameter_layout() {
    let config = DenseConfig {
        in_features: 3,
        out_features: 2,
        bias: true,
    };
    assert_eq!(config.param_len(), Ok(8));
    let params: Vec<f32> = (0..8).map(|v| v as f32).collect();
    let layer = config.init(&params[..]).unwrap();
    assert_eq!(layer.weights(), &params[..6]);
    assert_eq!(layer.bias(), Some(&params[6..]));
    assert_eq!(layer.config(), &config);
    assert_eq!((layer.input_len(), layer.output_len()), (3, 2));
    assert_eq!(
        layer.fans(),
        Fans {
            fan_in: 3,
            fan_out: 2
        }
    );
    // y = w x + b worked by hand: rows [0 1 2], [3 4 5], bias [6 7], x = [1 -1 2].
    let mut y = [0.0f32; 2];
    layer.forward(1, &[1.0, -1.0, 2.0], &mut y).unwrap();
    assert_eq!(y, [6.0 + 3.0, 7.0 + 9.0]);

    let no_bias = DenseConfig {
        bias: false,
        ..config
    };
    assert_eq!(no_bias.param_len(), Ok(6));
    assert_eq!(no_bias.init(&params[..6]).unwrap().bias(), None);
}

#[test]
fn config_errors() {
    let ok = DenseConfig {
        in_features: 3,
        out_features: 2,
        bias: true,
    };
    let params = [0.0f32; 8];
    for bad in [
        DenseConfig {
            in_features: 0,
            ..ok
        },
        DenseConfig {
            out_features: 0,
            ..ok
        },
        DenseConfig {
            in_features: usize::MAX,
            out_features: 2,
            bias: false,
        },
    ] {
        assert_eq!(bad.param_len(), Err(Error::Shape(ShapeError::Dimension)));
        assert_eq!(
            bad.init(&params[..]).unwrap_err(),
            Error::Shape(ShapeError::Dimension)
        );
    }
    assert_eq!(
        ok.init(&params[..7]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 8,
            actual: 7
        })
    );
}

#[test]
fn layer_error_paths_write_nothing() {
    let config = DenseConfig {
        in_features: 4,
        out_features: 3,
        bias: true,
    };
    let mut params = vec![0.25f32; config.param_len().unwrap()];
    check_errors(&config.init(&mut params[..]).unwrap());
}

#[test]
fn frozen_params_refuse_gradients_and_init() {
    let config = DenseConfig {
        in_features: 5,
        out_features: 4,
        bias: true,
    };
    let mut rng = SplitMix64::new(3);
    let values = random_params(&mut rng, &config);
    let mut copy = values.clone();
    let trainable = config.init(&mut copy[..]).unwrap();
    let mut frozen = config.init(&values[..]).unwrap();
    check_frozen(&mut frozen, &trainable);
}

#[test]
fn init_params_variance_within_5_standard_errors() {
    // 64 x 96 = 6144 weights; fans (64, 96).
    let config = DenseConfig {
        in_features: 64,
        out_features: 96,
        bias: true,
    };
    let mut params = vec![0.0f32; config.param_len().unwrap()];
    let mut layer = config.init(&mut params[..]).unwrap();
    check_init(&mut layer, 64 * 96, 64, 96);
}

#[test]
fn nan_propagates() {
    let config = DenseConfig {
        in_features: 3,
        out_features: 2,
        bias: true,
    };
    let mut params = [0.5f32; 8];
    let layer = config.init(&mut params[..]).unwrap();
    let x = [1.0, f32::NAN, 2.0, 1.0, 1.0, 1.0];
    let mut y = [0.0f32; 4];
    layer.forward(2, &x, &mut y).unwrap();
    assert!(y[0].is_nan() && y[1].is_nan());
    assert_eq!(&y[2..], &[2.0, 2.0]);
    let g = [1.0, 1.0, f32::NAN, 0.0];
    let mut gi = [0.0f32; 6];
    let mut gp = [0.0f32; 8];
    layer
        .backward(2, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp))
        .unwrap();
    assert!(gi[3..].iter().all(|v| v.is_nan()));
    assert!(gi[..3].iter().all(|v| !v.is_nan()));
    // Weight row 0 meets g[1, 0] = NaN; row 1 meets x[0, 1] = NaN only in column 1.
    assert!(gp[..3].iter().all(|v| v.is_nan()));
    assert_eq!((gp[3], gp[5]), (1.0, 2.0));
    assert!(gp[4].is_nan() && gp[6].is_nan());
    assert_eq!(gp[7], 1.0);
}

#[test]
fn backward_kernel_without_bias_matches_reference() {
    let mut rng = SplitMix64::new(4);
    let shape = DenseShape {
        batch: 3,
        in_features: 6,
        out_features: 5,
    };
    let x = rng.f32_vec(18, -1.0, 1.0);
    let w = rng.f32_vec(30, -1.0, 1.0);
    let g = rng.f32_vec(15, -1.0, 1.0);
    let mut gi = vec![0.0f32; 18];
    let mut gw = vec![0.0f32; 30];
    dense_backward_f32(shape, &x, &w, &g, Some(&mut gi), Some(&mut gw), None).unwrap();
    let taps = dense_taps(3, 6, 5);
    check_gradients("dense kernel", &taps, &x, &w, None, &g, &gi, &gw, None);
}

#[test]
fn backward_kernel_errors_name_the_buffer() {
    let shape = DenseShape {
        batch: 2,
        in_features: 3,
        out_features: 4,
    };
    let (x, w, g) = ([0.0f32; 6], [0.0f32; 12], [0.0f32; 8]);
    let (mut gi, mut gw, mut gb) = ([5.0f32; 6], [5.0f32; 12], [5.0f32; 4]);
    let len = |buffer, expected, actual| {
        Err(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    };
    assert_eq!(
        dense_backward_f32(shape, &x[1..], &w, &g, None, None, None),
        len(Buffer::Input, 6, 5)
    );
    assert_eq!(
        dense_backward_f32(shape, &x, &w[1..], &g, None, None, None),
        len(Buffer::Weights, 12, 11)
    );
    assert_eq!(
        dense_backward_f32(shape, &x, &w, &g[1..], None, None, None),
        len(Buffer::GradOutput, 8, 7)
    );
    assert_eq!(
        dense_backward_f32(shape, &x, &w, &g, Some(&mut gi[1..]), Some(&mut gw), None),
        len(Buffer::GradInput, 6, 5)
    );
    assert_eq!(
        dense_backward_f32(shape, &x, &w, &g, Some(&mut gi), Some(&mut gw[1..]), None),
        len(Buffer::GradParams, 12, 11)
    );
    assert_eq!(
        dense_backward_f32(
            shape,
            &x,
            &w,
            &g,
            Some(&mut gi),
            Some(&mut gw),
            Some(&mut gb[1..])
        ),
        len(Buffer::GradParams, 4, 3)
    );
    let zero = DenseShape { batch: 0, ..shape };
    assert_eq!(
        dense_backward_f32(zero, &[], &w, &[], None, None, None),
        Err(ShapeError::Dimension)
    );
    assert!(gi.iter().chain(&gw).chain(&gb).all(|&v| v == 5.0));
}
