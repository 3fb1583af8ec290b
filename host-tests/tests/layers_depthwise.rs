//! The f32 DepthwiseConv2d layer and its backward kernel, against the independent f64 reference
//! of `reference::linear::depthwise_taps` (geometry from TensorFlow's formulas): forward within
//! `1e-5 (1 + Σ|terms|)`, gradients within 1e-3 relative of central differences, on shapes with
//! stride 2, dilation 2, SAME and VALID, multiplier > 1, batch > 1 and odd sizes.

mod common_linear;

use common_linear::{check_errors, check_frozen, check_gradients, check_init, check_layer};
use tinytune::kernels::generic::depthwise::DepthwiseConv2dShape;
use tinytune::kernels::generic::grad::depthwise::depthwise_conv2d_backward_f32;
use tinytune::kernels::Padding;
use tinytune::layers::depthwise::DepthwiseConv2dConfig;
use tinytune::layers::Layer;
use tinytune::train::init::Fans;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::reference::linear::{depthwise_taps, Conv2dParams, Pad};
use tinytune_host_tests::rng::SplitMix64;

fn pad(p: Padding) -> Pad {
    match p {
        Padding::Valid => Pad::Valid,
        Padding::Same => Pad::Same,
    }
}

/// The reference's parameters (its `out_c` is the multiplier for depthwise taps).
fn reference_params(c: &DepthwiseConv2dConfig, batch: usize) -> Conv2dParams {
    Conv2dParams {
        batch,
        in_h: c.in_h,
        in_w: c.in_w,
        in_c: c.in_c,
        out_c: c.multiplier,
        kernel_h: c.kernel_h,
        kernel_w: c.kernel_w,
        stride_h: c.stride_h,
        stride_w: c.stride_w,
        dilation_h: c.dilation_h,
        dilation_w: c.dilation_w,
        pad: pad(c.padding),
    }
}

/// `(in_h, in_w, in_c, multiplier), (kh, kw), (sh, sw), (dh, dw), padding, bias`.
fn depthwise(
    (in_h, in_w, in_c, multiplier): (usize, usize, usize, usize),
    (kernel_h, kernel_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    (dilation_h, dilation_w): (usize, usize),
    padding: Padding,
    bias: bool,
) -> DepthwiseConv2dConfig {
    DepthwiseConv2dConfig {
        in_h,
        in_w,
        in_c,
        multiplier,
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

/// Checks one configuration against the reference; returns whether the reference accepts it
/// (when it does not, the layer must refuse it with `ShapeError::Parameter`).
fn check_depthwise(config: DepthwiseConv2dConfig, batch: usize, rng: &mut SplitMix64) -> bool {
    let p = reference_params(&config, batch);
    let Some((out_h, _, out_w, _)) = p.geometry() else {
        assert_eq!(
            config.init(&[0.0f32][..]).unwrap_err(),
            Error::Shape(ShapeError::Parameter),
            "{config:?}"
        );
        return false;
    };
    let out_c = config.in_c * config.multiplier;
    let weights_len = config.kernel_h * config.kernel_w * out_c;
    let param_len = weights_len + if config.bias { out_c } else { 0 };
    assert_eq!(config.param_len(), Ok(param_len));
    let mut params = rng.f32_vec(param_len, -1.0, 1.0);
    let layer = config.init(&mut params[..]).unwrap();
    assert_eq!(layer.output_hw(), (out_h, out_w), "{config:?}");
    let taps = depthwise_taps(&p);
    let what = format!("{config:?} batch {batch}");
    check_layer(&what, &layer, batch, &taps, weights_len, rng);
    true
}

#[test]
fn listed_geometries_match_f64_reference() {
    use Padding::{Same, Valid};
    let mut rng = SplitMix64::new(30);
    let cases = [
        (
            depthwise((5, 7, 3, 1), (3, 3), (1, 1), (1, 1), Same, true),
            2,
        ),
        (
            depthwise((5, 7, 3, 2), (3, 3), (1, 1), (1, 1), Valid, false),
            1,
        ),
        (
            depthwise((7, 9, 2, 3), (3, 2), (2, 2), (1, 1), Same, true),
            3,
        ),
        (
            depthwise((7, 9, 2, 1), (3, 3), (2, 1), (1, 1), Valid, true),
            2,
        ),
        (
            depthwise((7, 8, 2, 2), (3, 3), (1, 1), (2, 2), Same, true),
            2,
        ),
        (
            depthwise((9, 7, 3, 2), (2, 3), (2, 2), (2, 2), Valid, false),
            2,
        ),
        (
            depthwise((6, 6, 1, 4), (4, 4), (2, 3), (1, 2), Same, true),
            1,
        ),
        (
            depthwise((1, 1, 3, 2), (1, 1), (1, 1), (1, 1), Valid, true),
            4,
        ),
        (
            depthwise((3, 3, 2, 2), (3, 3), (2, 2), (2, 2), Same, true),
            2,
        ),
    ];
    for (config, batch) in cases {
        assert!(check_depthwise(config, batch, &mut rng), "{config:?}");
    }
}

#[test]
fn random_geometries_match_f64_reference() {
    let mut rng = SplitMix64::new(31);
    let mut accepted = 0;
    for _ in 0..40 {
        let mut r = |lo, hi| rng.range_i64(lo, hi) as usize;
        let config = depthwise(
            (r(1, 8), r(1, 8), r(1, 4), r(1, 3)),
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
        accepted += check_depthwise(config, batch, &mut rng) as usize;
    }
    assert!(accepted >= 20, "only {accepted} valid random shapes");
}

#[test]
fn accessors_and_fans() {
    let config = depthwise((4, 5, 3, 2), (3, 2), (1, 1), (1, 1), Padding::Valid, true);
    // Weights 3 * 2 * 6 = 36, bias 6.
    assert_eq!(config.param_len(), Ok(42));
    let params: Vec<f32> = (0..42).map(|v| v as f32).collect();
    let layer = config.init(&params[..]).unwrap();
    assert_eq!(layer.config(), &config);
    assert_eq!(layer.weights(), &params[..36]);
    assert_eq!(layer.bias(), Some(&params[36..]));
    assert_eq!(layer.output_hw(), (2, 4));
    assert_eq!((layer.input_len(), layer.output_len()), (60, 48));
    assert_eq!(
        layer.fans(),
        Fans {
            fan_in: 6,
            fan_out: 12
        }
    );
    let no_bias = DepthwiseConv2dConfig {
        bias: false,
        ..config
    };
    assert_eq!(no_bias.init(&params[..36]).unwrap().bias(), None);
}

#[test]
fn config_errors() {
    let ok = depthwise((4, 4, 2, 2), (3, 3), (1, 1), (1, 1), Padding::Valid, true);
    let params = [0.0f32; 40];
    let parameter = Error::Shape(ShapeError::Parameter);
    let dimension = Error::Shape(ShapeError::Dimension);
    for (bad, want) in [
        (
            DepthwiseConv2dConfig {
                multiplier: 0,
                ..ok
            },
            parameter,
        ),
        (DepthwiseConv2dConfig { kernel_h: 0, ..ok }, parameter),
        (DepthwiseConv2dConfig { stride_w: 0, ..ok }, parameter),
        (
            DepthwiseConv2dConfig {
                dilation_h: 0,
                ..ok
            },
            parameter,
        ),
        (DepthwiseConv2dConfig { kernel_w: 5, ..ok }, parameter),
        (DepthwiseConv2dConfig { in_c: 0, ..ok }, dimension),
        (DepthwiseConv2dConfig { in_w: 0, ..ok }, dimension),
        (
            DepthwiseConv2dConfig {
                multiplier: usize::MAX,
                ..ok
            },
            dimension,
        ),
    ] {
        assert_eq!(bad.param_len(), Err(want), "{bad:?}");
        assert_eq!(bad.init(&params[..]).unwrap_err(), want, "{bad:?}");
    }
    assert_eq!(
        ok.init(&params[..39]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 40,
            actual: 39
        })
    );
}

#[test]
fn error_paths_frozen_and_init() {
    let config = depthwise((5, 6, 3, 2), (3, 3), (2, 1), (1, 1), Padding::Same, true);
    let mut rng = SplitMix64::new(32);
    let values = rng.f32_vec(config.param_len().unwrap(), -1.0, 1.0);
    let mut copy = values.clone();
    let trainable = config.init(&mut copy[..]).unwrap();
    check_errors(&trainable);
    let mut frozen = config.init(&values[..]).unwrap();
    check_frozen(&mut frozen, &trainable);
}

#[test]
fn init_params_variance_within_5_standard_errors() {
    // 5 * 3 * 64 * 4 = 3840 weights; fans (5*3, 5*3*4) = (15, 60).
    let config = depthwise((8, 8, 64, 4), (5, 3), (1, 1), (1, 1), Padding::Same, true);
    let mut params = vec![0.0f32; config.param_len().unwrap()];
    let mut layer = config.init(&mut params[..]).unwrap();
    check_init(&mut layer, 3840, 15, 60);
}

#[test]
fn backward_kernel_without_bias_matches_reference() {
    let mut rng = SplitMix64::new(33);
    let s = DepthwiseConv2dShape {
        batch: 2,
        in_h: 5,
        in_w: 6,
        in_c: 2,
        multiplier: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 2,
        padding: Padding::Same,
    };
    let x = rng.f32_vec(s.input_len().unwrap(), -1.0, 1.0);
    let w = rng.f32_vec(s.weights_len().unwrap(), -1.0, 1.0);
    let g = rng.f32_vec(s.output_len().unwrap(), -1.0, 1.0);
    let mut gi = vec![0.0f32; x.len()];
    let mut gw = vec![0.0f32; w.len()];
    depthwise_conv2d_backward_f32(&s, &x, &w, &g, Some(&mut gi), Some(&mut gw), None).unwrap();
    let p = Conv2dParams {
        batch: 2,
        in_h: 5,
        in_w: 6,
        in_c: 2,
        out_c: 3,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 2,
        pad: Pad::Same,
    };
    let taps = depthwise_taps(&p);
    check_gradients("depthwise kernel", &taps, &x, &w, None, &g, &gi, &gw, None);
}

#[test]
fn backward_kernel_errors_name_the_buffer() {
    let s = DepthwiseConv2dShape {
        batch: 2,
        in_h: 4,
        in_w: 4,
        in_c: 2,
        multiplier: 2,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
    };
    let (x, w, g) = (vec![0.0f32; 64], vec![0.0f32; 36], vec![0.0f32; 32]);
    let (mut gi, mut gw, mut gb) = (vec![5.0f32; 64], vec![5.0f32; 36], vec![5.0f32; 4]);
    let len = |buffer, expected, actual| {
        Err(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    };
    let f = depthwise_conv2d_backward_f32;
    assert_eq!(
        f(&s, &x[1..], &w, &g, None, None, None),
        len(Buffer::Input, 64, 63)
    );
    assert_eq!(
        f(&s, &x, &w[1..], &g, None, None, None),
        len(Buffer::Weights, 36, 35)
    );
    assert_eq!(
        f(&s, &x, &w, &g[1..], None, None, None),
        len(Buffer::GradOutput, 32, 31)
    );
    assert_eq!(
        f(
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
        f(
            &s,
            &x,
            &w,
            &g,
            Some(&mut gi),
            Some(&mut gw[1..]),
            Some(&mut gb)
        ),
        len(Buffer::GradParams, 36, 35)
    );
    assert_eq!(
        f(
            &s,
            &x,
            &w,
            &g,
            Some(&mut gi),
            Some(&mut gw),
            Some(&mut gb[1..])
        ),
        len(Buffer::GradParams, 4, 3)
    );
    let zero_multiplier = DepthwiseConv2dShape { multiplier: 0, ..s };
    assert_eq!(
        f(&zero_multiplier, &x, &w, &g, None, None, None),
        Err(ShapeError::Parameter)
    );
    let too_big = DepthwiseConv2dShape { kernel_w: 5, ..s };
    assert_eq!(
        f(&too_big, &x, &w, &g, None, None, None),
        Err(ShapeError::Parameter)
    );
    assert!(gi.iter().chain(&gw).chain(&gb).all(|&v| v == 5.0));
}
