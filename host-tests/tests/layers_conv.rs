//! The f32 Conv2d and Conv1d layers and their backward kernels, against the independent f64
//! references of `reference::linear` (`conv2d_taps`, `conv1d_taps`, geometry from TensorFlow's
//! formulas): forward within `1e-5 (1 + Σ|terms|)`, gradients within 1e-3 relative of central
//! differences, on shapes with stride 2, dilation 2, SAME and VALID, batch > 1 and odd sizes.

mod common_linear;

use common_linear::{check_errors, check_frozen, check_gradients, check_init, check_layer};
use tinytune::kernels::generic::conv::{Conv1dShape, Conv2dShape};
use tinytune::kernels::generic::grad::conv::{conv1d_backward_f32, conv2d_backward_f32};
use tinytune::kernels::Padding;
use tinytune::layers::conv::{Conv1dConfig, Conv2dConfig};
use tinytune::layers::Layer;
use tinytune::train::init::Fans;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::reference::linear::{axis, conv1d_taps, conv2d_taps, Conv2dParams, Pad};
use tinytune_host_tests::rng::SplitMix64;

fn pad(p: Padding) -> Pad {
    match p {
        Padding::Valid => Pad::Valid,
        Padding::Same => Pad::Same,
    }
}

fn reference_params(c: &Conv2dConfig, batch: usize) -> Conv2dParams {
    Conv2dParams {
        batch,
        in_h: c.in_h,
        in_w: c.in_w,
        in_c: c.in_c,
        out_c: c.out_c,
        kernel_h: c.kernel_h,
        kernel_w: c.kernel_w,
        stride_h: c.stride_h,
        stride_w: c.stride_w,
        dilation_h: c.dilation_h,
        dilation_w: c.dilation_w,
        pad: pad(c.padding),
    }
}

/// A 2-D configuration: `(in_h, in_w, in_c, out_c, (kh, kw), (sh, sw), (dh, dw), padding, bias)`.
#[allow(clippy::type_complexity)]
fn conv2d(
    (in_h, in_w, in_c, out_c): (usize, usize, usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    padding: Padding,
    bias: bool,
) -> Conv2dConfig {
    Conv2dConfig {
        in_h,
        in_w,
        in_c,
        out_c,
        kernel_h,
        kernel_w,
        stride_h,
        stride_w,
        dilation_h,
        dilation_w,
        padding,
        bias,
    }
}

/// Checks one 2-D configuration against the reference; returns whether the reference accepts it
/// (when it does not, the layer must refuse it with `ShapeError::Parameter`).
fn check_conv2d(config: Conv2dConfig, batch: usize, rng: &mut SplitMix64) -> bool {
    let p = reference_params(&config, batch);
    let Some((out_h, _, out_w, _)) = p.geometry() else {
        assert_eq!(
            config.init(&[0.0f32][..]).unwrap_err(),
            Error::Shape(ShapeError::Parameter),
            "{config:?}"
        );
        return false;
    };
    let weights_len = config.out_c * config.kernel_h * config.kernel_w * config.in_c;
    let param_len = weights_len + if config.bias { config.out_c } else { 0 };
    assert_eq!(config.param_len(), Ok(param_len));
    let mut params = rng.f32_vec(param_len, -1.0, 1.0);
    let layer = config.init(&mut params[..]).unwrap();
    assert_eq!(layer.output_hw(), (out_h, out_w), "{config:?}");
    let taps = conv2d_taps(&p);
    check_layer(
        &format!("{config:?} batch {batch}"),
        &layer,
        batch,
        &taps,
        weights_len,
        rng,
    );
    true
}

#[test]
fn conv2d_listed_geometries_match_f64_reference() {
    use Padding::{Same, Valid};
    let mut rng = SplitMix64::new(10);
    let cases = [
        (conv2d((5, 7, 3, 4), (3, 3), (1, 1), (1, 1), Same, true), 2),
        (
            conv2d((5, 7, 3, 4), (3, 3), (1, 1), (1, 1), Valid, false),
            1,
        ),
        (conv2d((7, 9, 2, 3), (3, 2), (2, 2), (1, 1), Same, true), 3),
        (conv2d((7, 9, 2, 3), (3, 3), (2, 1), (1, 1), Valid, true), 2),
        (conv2d((7, 8, 2, 2), (3, 3), (1, 1), (2, 2), Same, true), 2),
        (
            conv2d((9, 7, 3, 2), (2, 3), (2, 2), (2, 2), Valid, false),
            2,
        ),
        (conv2d((6, 6, 1, 5), (4, 4), (2, 3), (1, 2), Same, true), 1),
        (conv2d((1, 1, 3, 2), (1, 1), (1, 1), (1, 1), Valid, true), 4),
        (conv2d((3, 3, 2, 2), (3, 3), (2, 2), (2, 2), Same, true), 2),
    ];
    for (config, batch) in cases {
        assert!(check_conv2d(config, batch, &mut rng), "{config:?}");
    }
}

#[test]
fn conv2d_random_geometries_match_f64_reference() {
    let mut rng = SplitMix64::new(11);
    let mut accepted = 0;
    for _ in 0..40 {
        let mut r = |lo, hi| rng.range_i64(lo, hi) as usize;
        let config = conv2d(
            (r(1, 8), r(1, 8), r(1, 3), r(1, 3)),
            (r(1, 3), r(1, 3)),
            (r(1, 2), r(1, 2)),
            (r(1, 2), r(1, 2)),
            if r(0, 1) == 0 {
                Padding::Same
            } else {
                Padding::Valid
            },
            r(0, 1) == 1,
        );
        let batch = r(1, 3);
        accepted += check_conv2d(config, batch, &mut rng) as usize;
    }
    assert!(accepted >= 20, "only {accepted} valid random shapes");
}

#[test]
fn conv2d_accessors_and_fans() {
    let config = conv2d((4, 5, 3, 2), (3, 2), (1, 1), (1, 1), Padding::Valid, true);
    let params: Vec<f32> = (0..38).map(|v| v as f32).collect();
    let layer = config.init(&params[..]).unwrap();
    assert_eq!(layer.config(), &config);
    assert_eq!(layer.weights(), &params[..36]);
    assert_eq!(layer.bias(), Some(&params[36..]));
    assert_eq!(layer.output_hw(), (2, 4));
    assert_eq!((layer.input_len(), layer.output_len()), (60, 16));
    assert_eq!(
        layer.fans(),
        Fans {
            fan_in: 18,
            fan_out: 12
        }
    );
    let no_bias = Conv2dConfig {
        bias: false,
        ..config
    };
    assert_eq!(no_bias.init(&params[..36]).unwrap().bias(), None);
}

#[test]
fn conv2d_config_errors() {
    let ok = conv2d((4, 4, 2, 2), (3, 3), (1, 1), (1, 1), Padding::Valid, true);
    let params = [0.0f32; 38];
    let parameter = Error::Shape(ShapeError::Parameter);
    let dimension = Error::Shape(ShapeError::Dimension);
    for (bad, want) in [
        (Conv2dConfig { kernel_h: 0, ..ok }, parameter),
        (Conv2dConfig { stride_w: 0, ..ok }, parameter),
        (
            Conv2dConfig {
                dilation_h: 0,
                ..ok
            },
            parameter,
        ),
        (Conv2dConfig { kernel_w: 5, ..ok }, parameter),
        (
            Conv2dConfig {
                dilation_w: 2,
                ..ok
            },
            parameter,
        ),
        (Conv2dConfig { in_c: 0, ..ok }, dimension),
        (Conv2dConfig { out_c: 0, ..ok }, dimension),
        (Conv2dConfig { in_h: 0, ..ok }, dimension),
        (
            Conv2dConfig {
                out_c: usize::MAX,
                ..ok
            },
            dimension,
        ),
    ] {
        assert_eq!(bad.param_len(), Err(want), "{bad:?}");
        assert_eq!(bad.init(&params[..]).unwrap_err(), want, "{bad:?}");
    }
    assert_eq!(
        ok.init(&params[..37]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 38,
            actual: 37
        })
    );
}

#[test]
fn conv2d_error_paths_frozen_and_init() {
    let config = conv2d((5, 6, 3, 4), (3, 3), (2, 1), (1, 1), Padding::Same, true);
    let mut rng = SplitMix64::new(12);
    let values = rng.f32_vec(config.param_len().unwrap(), -1.0, 1.0);
    let mut copy = values.clone();
    let trainable = config.init(&mut copy[..]).unwrap();
    check_errors(&trainable);
    let mut frozen = config.init(&values[..]).unwrap();
    check_frozen(&mut frozen, &trainable);
}

#[test]
fn conv2d_init_params_variance_within_5_standard_errors() {
    // 48 * 3 * 3 * 16 = 6912 weights; fans (3*3*16, 3*3*48) = (144, 432).
    let config = conv2d((6, 6, 16, 48), (3, 3), (1, 1), (1, 1), Padding::Same, true);
    let mut params = vec![0.0f32; config.param_len().unwrap()];
    let mut layer = config.init(&mut params[..]).unwrap();
    check_init(&mut layer, 6912, 144, 432);
}

#[test]
fn conv2d_backward_kernel_errors_name_the_buffer() {
    let s = Conv2dShape {
        batch: 2,
        in_h: 4,
        in_w: 4,
        in_c: 2,
        out_c: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
    };
    let (x, w, g) = (vec![0.0f32; 64], vec![0.0f32; 54], vec![0.0f32; 24]);
    let (mut gi, mut gw, mut gb) = (vec![5.0f32; 64], vec![5.0f32; 54], vec![5.0f32; 3]);
    let len = |buffer, expected, actual| {
        Err(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    };
    assert_eq!(
        conv2d_backward_f32(&s, &x[1..], &w, &g, None, None, None),
        len(Buffer::Input, 64, 63)
    );
    assert_eq!(
        conv2d_backward_f32(&s, &x, &w[1..], &g, None, None, None),
        len(Buffer::Weights, 54, 53)
    );
    assert_eq!(
        conv2d_backward_f32(&s, &x, &w, &g[1..], None, None, None),
        len(Buffer::GradOutput, 24, 23)
    );
    assert_eq!(
        conv2d_backward_f32(
            &s,
            &x,
            &w,
            &g,
            Some(&mut gi[1..]),
            Some(&mut gw),
            Some(&mut gb)
        ),
        len(Buffer::GradInput, 64, 63)
    );
    assert_eq!(
        conv2d_backward_f32(
            &s,
            &x,
            &w,
            &g,
            Some(&mut gi),
            Some(&mut gw[1..]),
            Some(&mut gb)
        ),
        len(Buffer::GradParams, 54, 53)
    );
    assert_eq!(
        conv2d_backward_f32(
            &s,
            &x,
            &w,
            &g,
            Some(&mut gi),
            Some(&mut gw),
            Some(&mut gb[1..])
        ),
        len(Buffer::GradParams, 3, 2)
    );
    let too_big = Conv2dShape { kernel_h: 5, ..s };
    assert_eq!(
        conv2d_backward_f32(&too_big, &x, &w, &g, None, None, None),
        Err(ShapeError::Parameter)
    );
    let zero_stride = Conv2dShape { stride_w: 0, ..s };
    assert_eq!(
        conv2d_backward_f32(&zero_stride, &x, &w, &g, None, None, None),
        Err(ShapeError::Parameter)
    );
    let zero_batch = Conv2dShape { batch: 0, ..s };
    assert_eq!(
        conv2d_backward_f32(&zero_batch, &[], &w, &[], None, None, None),
        Err(ShapeError::Dimension)
    );
    assert!(gi.iter().chain(&gw).chain(&gb).all(|&v| v == 5.0));
}

fn check_conv1d(config: Conv1dConfig, batch: usize, rng: &mut SplitMix64) -> bool {
    let reference = axis(
        config.len,
        config.kernel,
        config.stride,
        config.dilation,
        pad(config.padding),
    );
    let Some((out_len, _)) = reference else {
        assert_eq!(
            config.init(&[0.0f32][..]).unwrap_err(),
            Error::Shape(ShapeError::Parameter),
            "{config:?}"
        );
        return false;
    };
    let weights_len = config.out_c * config.kernel * config.in_c;
    let param_len = weights_len + if config.bias { config.out_c } else { 0 };
    assert_eq!(config.param_len(), Ok(param_len));
    let mut params = rng.f32_vec(param_len, -1.0, 1.0);
    let layer = config.init(&mut params[..]).unwrap();
    assert_eq!(layer.out_len(), out_len);
    let taps = conv1d_taps(
        batch,
        config.len,
        config.in_c,
        config.out_c,
        config.kernel,
        config.stride,
        config.dilation,
        pad(config.padding),
    );
    let what = format!("{config:?} batch {batch}");
    check_layer(&what, &layer, batch, &taps, weights_len, rng);
    true
}

#[test]
fn conv1d_geometries_match_f64_reference() {
    let mut rng = SplitMix64::new(20);
    let mut accepted = 0;
    for i in 0..40 {
        let mut r = |lo, hi| rng.range_i64(lo, hi) as usize;
        let config = Conv1dConfig {
            len: r(1, 13),
            in_c: r(1, 4),
            out_c: r(1, 4),
            kernel: r(1, 4),
            stride: r(1, 2),
            dilation: r(1, 2),
            padding: if i % 2 == 0 {
                Padding::Same
            } else {
                Padding::Valid
            },
            bias: r(0, 1) == 1,
        };
        let batch = r(1, 3);
        accepted += check_conv1d(config, batch, &mut rng) as usize;
    }
    assert!(accepted >= 25, "only {accepted} valid random shapes");
}

#[test]
fn conv1d_accessors_errors_frozen_and_init() {
    let config = Conv1dConfig {
        len: 9,
        in_c: 3,
        out_c: 2,
        kernel: 3,
        stride: 2,
        dilation: 2,
        padding: Padding::Same,
        bias: true,
    };
    assert_eq!(config.param_len(), Ok(20));
    let mut rng = SplitMix64::new(21);
    let values = rng.f32_vec(20, -1.0, 1.0);
    let mut copy = values.clone();
    let trainable = config.init(&mut copy[..]).unwrap();
    assert_eq!(trainable.config(), &config);
    assert_eq!(trainable.weights(), &values[..18]);
    assert_eq!(trainable.bias(), Some(&values[18..]));
    assert_eq!((trainable.out_len(), trainable.output_len()), (5, 10));
    assert_eq!(
        trainable.fans(),
        Fans {
            fan_in: 9,
            fan_out: 6
        }
    );
    check_errors(&trainable);
    let mut frozen = config.init(&values[..]).unwrap();
    check_frozen(&mut frozen, &trainable);
    assert_eq!(
        config.init(&values[..19]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 20,
            actual: 19
        })
    );
    for bad in [
        Conv1dConfig {
            kernel: 0,
            ..config
        },
        Conv1dConfig {
            stride: 0,
            ..config
        },
        Conv1dConfig {
            kernel: 6,
            padding: Padding::Valid,
            ..config
        },
    ] {
        assert_eq!(bad.param_len(), Err(Error::Shape(ShapeError::Parameter)));
    }
    assert_eq!(
        Conv1dConfig { len: 0, ..config }.param_len(),
        Err(Error::Shape(ShapeError::Dimension))
    );

    // 48 * 5 * 16 = 3840 weights; fans (5*16, 5*48) = (80, 240).
    let big = Conv1dConfig {
        len: 20,
        in_c: 16,
        out_c: 48,
        kernel: 5,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
        bias: true,
    };
    let mut params = vec![0.0f32; big.param_len().unwrap()];
    let mut layer = big.init(&mut params[..]).unwrap();
    check_init(&mut layer, 3840, 80, 240);
}

#[test]
fn conv1d_backward_kernel_matches_reference() {
    let mut rng = SplitMix64::new(22);
    for (padding, stride, dilation) in [
        (Padding::Same, 2, 1),
        (Padding::Valid, 1, 2),
        (Padding::Same, 3, 2),
    ] {
        let s = Conv1dShape {
            batch: 2,
            len: 11,
            in_c: 3,
            out_c: 2,
            kernel: 3,
            stride,
            dilation,
            padding,
        };
        let x = rng.f32_vec(s.input_len().unwrap(), -1.0, 1.0);
        let w = rng.f32_vec(s.weights_len().unwrap(), -1.0, 1.0);
        let b = rng.f32_vec(2, -1.0, 1.0);
        let g = rng.f32_vec(s.output_len().unwrap(), -1.0, 1.0);
        let mut gi = vec![3.0f32; x.len()];
        let mut gw = vec![0.0f32; w.len()];
        let mut gb = vec![0.0f32; 2];
        conv1d_backward_f32(&s, &x, &w, &g, Some(&mut gi), Some(&mut gw), Some(&mut gb)).unwrap();
        let taps = conv1d_taps(2, 11, 3, 2, 3, stride, dilation, pad(padding));
        let what = format!("{s:?}");
        check_gradients(&what, &taps, &x, &w, Some(&b), &g, &gi, &gw, Some(&gb));
    }
}
