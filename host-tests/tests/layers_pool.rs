//! Pooling layers: forward against an f64 reference, input gradients against central
//! differences of that reference (relative error ≤ 1e-3), hand-worked tie and padding cases,
//! error paths.

mod common_b;

use common_b::{check_forward, check_input_grad, distinct_values, PoolRef};
use tinytune::kernels::Padding;
use tinytune::layers::pool::{GlobalAvgPoolConfig, Pool1dConfig, Pool2d, Pool2dConfig, PoolKind};
use tinytune::layers::Layer;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

/// `(batch, in_h, in_w, channels, window, stride, padding)`.
type Case = (
    usize,
    usize,
    usize,
    usize,
    (usize, usize),
    (usize, usize),
    Padding,
);

/// SAME and VALID, stride equal to, below (overlapping windows) and above (skipped inputs) the
/// window, non-square, batch > 1.
const CASES: &[Case] = &[
    (1, 4, 4, 1, (2, 2), (2, 2), Padding::Valid),
    (2, 5, 5, 3, (2, 2), (2, 2), Padding::Same),
    (3, 5, 6, 2, (3, 3), (1, 1), Padding::Same),
    (2, 6, 5, 2, (3, 2), (2, 1), Padding::Valid),
    (2, 7, 7, 1, (2, 2), (3, 3), Padding::Valid),
    (2, 7, 6, 2, (2, 3), (3, 2), Padding::Same),
    (1, 3, 8, 4, (3, 1), (1, 3), Padding::Same),
    (2, 4, 4, 2, (4, 4), (1, 1), Padding::Same),
    (1, 1, 1, 3, (1, 1), (1, 1), Padding::Valid),
];

fn layer(kind: PoolKind, case: &Case) -> (Pool2d, PoolRef) {
    let &(batch, in_h, in_w, channels, window, stride, padding) = case;
    let config = Pool2dConfig {
        kind,
        in_h,
        in_w,
        channels,
        window_h: window.0,
        window_w: window.1,
        stride_h: stride.0,
        stride_w: stride.1,
        padding,
    };
    let reference = PoolRef {
        max: kind == PoolKind::Max,
        batch,
        in_h,
        in_w,
        channels,
        window,
        stride,
        same: padding == Padding::Same,
    };
    (config.init().unwrap(), reference)
}

#[test]
fn pool2d_output_shape_matches_tensorflow_definition() {
    for case in CASES {
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let (l, r) = layer(kind, case);
            let (oh, ow) = r.output_hw().unwrap();
            assert_eq!(l.output_hw(), (oh, ow), "{case:?}");
            assert_eq!(l.config().output_hw().unwrap(), (oh, ow));
            assert_eq!(l.input_len(), case.1 * case.2 * case.3);
            assert_eq!(l.output_len(), oh * ow * case.3);
            assert_eq!(l.cache_len(case.0), 0);
            assert_eq!(l.param_len(), 0);
        }
    }
}

#[test]
fn pool2d_forward_and_input_gradient_match_f64_reference() {
    for (k, case) in CASES.iter().enumerate() {
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let (l, r) = layer(kind, case);
            let batch = case.0;
            let mut rng = SplitMix64::new(100 + k as u64);
            // Distinct values: no ties, so the max is differentiable everywhere sampled.
            let x = distinct_values(&mut rng, batch * l.input_len());
            let what = format!("{kind:?} {case:?}");
            check_forward(&what, &l, batch, &x, |x| r.forward(x));
            check_input_grad(&what, &l, batch, &x, 200 + k as u64, |x| r.forward(x));
        }
    }
}

#[test]
fn pool2d_random_shapes_match_f64_reference() {
    let mut rng = SplitMix64::new(7);
    let mut checked = 0;
    while checked < 40 {
        let dim = |rng: &mut SplitMix64, lo, hi| rng.range_i64(lo, hi) as usize;
        let case = (
            dim(&mut rng, 1, 3),
            dim(&mut rng, 1, 7),
            dim(&mut rng, 1, 7),
            dim(&mut rng, 1, 3),
            (dim(&mut rng, 1, 4), dim(&mut rng, 1, 4)),
            (dim(&mut rng, 1, 4), dim(&mut rng, 1, 4)),
            if rng.range_i64(0, 1) == 0 {
                Padding::Valid
            } else {
                Padding::Same
            },
        );
        let kind = if checked % 2 == 0 {
            PoolKind::Max
        } else {
            PoolKind::Avg
        };
        let config_ok = PoolRef {
            max: true,
            batch: case.0,
            in_h: case.1,
            in_w: case.2,
            channels: case.3,
            window: case.4,
            stride: case.5,
            same: case.6 == Padding::Same,
        }
        .output_hw()
        .is_some();
        if !config_ok {
            // VALID with a window larger than the input: the layer must refuse it.
            let (.., window, stride, padding) = case;
            let err = Pool2dConfig {
                kind,
                in_h: case.1,
                in_w: case.2,
                channels: case.3,
                window_h: window.0,
                window_w: window.1,
                stride_h: stride.0,
                stride_w: stride.1,
                padding,
            }
            .init()
            .unwrap_err();
            assert_eq!(err, Error::Shape(ShapeError::Parameter));
            continue;
        }
        let (l, r) = layer(kind, &case);
        let x = distinct_values(&mut rng, case.0 * l.input_len());
        let what = format!("{kind:?} {case:?}");
        check_forward(&what, &l, case.0, &x, |x| r.forward(x));
        check_input_grad(&what, &l, case.0, &x, 1000 + checked, |x| r.forward(x));
        checked += 1;
    }
}

/// 1-D windows of length 3, stride 1, SAME over 3 inputs: padding 1 before, so the windows are
/// {0,1}, {0,1,2}, {1,2} with 2, 3, 2 unpadded values. Each input gets `g / count` from every
/// window covering it.
#[test]
fn avg_pool_same_padding_divides_by_unpadded_count() {
    let l = Pool1dConfig {
        kind: PoolKind::Avg,
        len: 3,
        channels: 1,
        window: 3,
        stride: 1,
        padding: Padding::Same,
    }
    .init()
    .unwrap();
    assert_eq!(l.output_len_axis(), 3);
    let x = [3.0, 6.0, 9.0];
    let mut y = [0.0; 3];
    l.forward(1, &x, &mut y).unwrap();
    assert_eq!(y, [4.5, 6.0, 7.5]);
    let g = [1.0, 2.0, 4.0];
    let mut gi = [f32::NAN; 3];
    l.backward(1, &x, &y, &[], &g, Some(&mut gi), None).unwrap();
    let expected = [
        1.0 / 2.0 + 2.0 / 3.0,
        1.0 / 2.0 + 2.0 / 3.0 + 4.0 / 2.0,
        2.0 / 3.0 + 4.0 / 2.0,
    ];
    for (a, e) in gi.iter().zip(expected) {
        assert!((a - e).abs() <= 1e-6, "{gi:?} vs {expected:?}");
    }
}

/// With ties the first maximum in row-major window order (the one the forward kernel returns)
/// gets the whole gradient; overlapping windows add.
#[test]
fn max_pool_ties_send_gradient_to_first_maximum() {
    let l = Pool2dConfig {
        kind: PoolKind::Max,
        in_h: 2,
        in_w: 3,
        channels: 1,
        window_h: 2,
        window_w: 2,
        stride_h: 1,
        stride_w: 1,
        padding: Padding::Valid,
    }
    .init()
    .unwrap();
    // Windows: columns {0,1} and {1,2}. Maxima 5 at (0,1) and (1,0) / (0,1) and (1,2).
    let x = [1.0, 5.0, 2.0, 5.0, 0.0, 5.0];
    let mut y = [0.0; 2];
    l.forward(1, &x, &mut y).unwrap();
    assert_eq!(y, [5.0, 5.0]);
    let mut gi = [f32::NAN; 6];
    l.backward(1, &x, &y, &[], &[1.0, 10.0], Some(&mut gi), None)
        .unwrap();
    assert_eq!(gi, [0.0, 11.0, 0.0, 0.0, 0.0, 0.0]);
}

/// Each max window routes its whole gradient to exactly one element: the input gradient sums to
/// the output gradient, for SAME windows that stick out of the input too.
#[test]
fn max_pool_gradient_is_conserved() {
    for (k, case) in CASES.iter().enumerate() {
        let (l, _) = layer(PoolKind::Max, case);
        let mut rng = SplitMix64::new(300 + k as u64);
        let x = distinct_values(&mut rng, case.0 * l.input_len());
        let g = rng.f32_vec(case.0 * l.output_len(), 0.5, 1.5);
        let mut y = vec![0.0; g.len()];
        l.forward(case.0, &x, &mut y).unwrap();
        let mut gi = vec![f32::NAN; x.len()];
        l.backward(case.0, &x, &y, &[], &g, Some(&mut gi), None)
            .unwrap();
        let (sg, sgi): (f64, f64) = (
            g.iter().map(|&v| v as f64).sum(),
            gi.iter().map(|&v| v as f64).sum(),
        );
        assert!((sg - sgi).abs() <= 1e-5 * sg, "{case:?}: {sg} vs {sgi}");
    }
}

#[test]
fn pool1d_matches_f64_reference() {
    // (batch, len, channels, window, stride, padding)
    let cases = [
        (2, 9, 3, 3, 2, Padding::Same),
        (3, 8, 2, 2, 3, Padding::Valid),
        (1, 10, 1, 4, 1, Padding::Same),
        (2, 5, 2, 5, 5, Padding::Valid),
    ];
    for (k, &(batch, len, channels, window, stride, padding)) in cases.iter().enumerate() {
        for kind in [PoolKind::Max, PoolKind::Avg] {
            let l = Pool1dConfig {
                kind,
                len,
                channels,
                window,
                stride,
                padding,
            }
            .init()
            .unwrap();
            // A sequence is an image of height 1 for the reference.
            let r = PoolRef {
                max: kind == PoolKind::Max,
                batch,
                in_h: 1,
                in_w: len,
                channels,
                window: (1, window),
                stride: (1, stride),
                same: padding == Padding::Same,
            };
            assert_eq!(l.output_len_axis(), r.output_hw().unwrap().1);
            let mut rng = SplitMix64::new(400 + k as u64);
            let x = distinct_values(&mut rng, batch * len * channels);
            let what = format!("1d {kind:?} {:?}", cases[k]);
            check_forward(&what, &l, batch, &x, |x| r.forward(x));
            check_input_grad(&what, &l, batch, &x, 500 + k as u64, |x| r.forward(x));
        }
    }
}

#[test]
fn global_avg_pool_matches_f64_reference() {
    for (k, &(batch, positions, channels)) in [(1, 1, 1), (2, 9, 3), (3, 16, 5), (2, 7, 1)]
        .iter()
        .enumerate()
    {
        let l = GlobalAvgPoolConfig {
            positions,
            channels,
        }
        .init()
        .unwrap();
        assert_eq!(
            (l.input_len(), l.output_len()),
            (positions * channels, channels)
        );
        let reference = |x: &[f64]| -> Vec<f64> {
            let mut out = vec![0.0; batch * channels];
            for b in 0..batch {
                for p in 0..positions {
                    for c in 0..channels {
                        out[b * channels + c] +=
                            x[(b * positions + p) * channels + c] / positions as f64;
                    }
                }
            }
            out
        };
        let mut rng = SplitMix64::new(600 + k as u64);
        let x = rng.f32_vec(batch * positions * channels, -2.0, 2.0);
        check_forward("global", &l, batch, &x, reference);
        check_input_grad("global", &l, batch, &x, 700 + k as u64, reference);
    }
}

#[test]
fn nan_input_gives_nan_output() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        let (l, _) = layer(kind, &CASES[0]);
        let mut x = [1.0f32; 16];
        x[5] = f32::NAN; // in the top-left 2x2 window (rows 0-1, columns 0-1)
        let mut y = [0.0; 4];
        l.forward(1, &x, &mut y).unwrap();
        assert!(y[0].is_nan(), "{kind:?}: {y:?}");
        assert!(y[1..].iter().all(|v| *v == 1.0), "{kind:?}: {y:?}");
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let base = Pool2dConfig {
        kind: PoolKind::Max,
        in_h: 4,
        in_w: 4,
        channels: 2,
        window_h: 2,
        window_w: 2,
        stride_h: 2,
        stride_w: 2,
        padding: Padding::Valid,
    };
    let dim = Error::Shape(ShapeError::Dimension);
    let param = Error::Shape(ShapeError::Parameter);
    assert_eq!(
        Pool2dConfig {
            channels: 0,
            ..base
        }
        .init(),
        Err(dim)
    );
    assert_eq!(Pool2dConfig { in_h: 0, ..base }.init(), Err(dim));
    assert_eq!(
        Pool2dConfig {
            window_w: 0,
            ..base
        }
        .init(),
        Err(param)
    );
    assert_eq!(
        Pool2dConfig {
            stride_h: 0,
            ..base
        }
        .init(),
        Err(param)
    );
    assert_eq!(
        Pool2dConfig {
            window_h: 5,
            ..base
        }
        .init(),
        Err(param)
    );
    assert_eq!(
        Pool2dConfig {
            in_w: usize::MAX,
            ..base
        }
        .init(),
        Err(dim)
    );
    // SAME accepts a window larger than the input.
    assert!(Pool2dConfig {
        window_h: 5,
        padding: Padding::Same,
        ..base
    }
    .init()
    .is_ok());
    let base1 = Pool1dConfig {
        kind: PoolKind::Avg,
        len: 4,
        channels: 1,
        window: 2,
        stride: 1,
        padding: Padding::Valid,
    };
    assert_eq!(
        Pool1dConfig { window: 5, ..base1 }.init().unwrap_err(),
        param
    );
    assert_eq!(
        Pool1dConfig { stride: 0, ..base1 }.init().unwrap_err(),
        param
    );
    assert_eq!(Pool1dConfig { len: 0, ..base1 }.init().unwrap_err(), dim);
    let g = GlobalAvgPoolConfig {
        positions: 0,
        channels: 3,
    };
    assert_eq!(g.init().unwrap_err(), dim);
    let g = GlobalAvgPoolConfig {
        positions: usize::MAX,
        channels: 3,
    };
    assert_eq!(g.init().unwrap_err(), dim);
}

fn length(buffer: Buffer, expected: usize, actual: usize) -> Error {
    Error::Shape(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

/// Wrong lengths name the buffer, batch 0 is a dimension error, and nothing is written.
fn check_error_paths<L: Layer>(l: &L) {
    let batch = 2;
    let (n_in, n_out) = (batch * l.input_len(), batch * l.output_len());
    let x = vec![1.0f32; n_in];
    let mut y = vec![7.0f32; n_out];
    assert_eq!(
        l.forward(0, &x, &mut y),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        l.forward(batch, &x[1..], &mut y),
        Err(length(Buffer::Input, n_in, n_in - 1))
    );
    let mut long = vec![7.0f32; n_out + 1];
    assert_eq!(
        l.forward(batch, &x, &mut long),
        Err(length(Buffer::Output, n_out, n_out + 1))
    );
    assert!(
        y.iter().chain(&long).all(|&v| v == 7.0),
        "forward wrote on error"
    );

    let g = vec![1.0f32; n_out];
    let mut gi = vec![7.0f32; n_in];
    let mut gp = [7.0f32; 1];
    // (error, input, output, cache, grad_output, with grad_params)
    type Bad<'a> = (Error, &'a [f32], &'a [f32], &'a [f32], &'a [f32], bool);
    let cases: [Bad; 5] = [
        (
            length(Buffer::Input, n_in, n_in - 1),
            &x[1..],
            &y,
            &[],
            &g,
            false,
        ),
        (
            length(Buffer::Output, n_out, n_out - 1),
            &x,
            &y[1..],
            &[],
            &g,
            false,
        ),
        (length(Buffer::Cache, 0, 1), &x, &y, &[0.0], &g, false),
        (
            length(Buffer::GradOutput, n_out, n_out - 1),
            &x,
            &y,
            &[],
            &g[1..],
            false,
        ),
        (length(Buffer::GradParams, 0, 1), &x, &y, &[], &g, true),
    ];
    for (err, x, y, cache, g, with_params) in cases {
        let gp = if with_params { Some(&mut gp[..]) } else { None };
        assert_eq!(
            l.backward(batch, x, y, cache, g, Some(&mut gi), gp),
            Err(err)
        );
    }
    assert_eq!(
        l.backward(batch, &x, &y, &[], &g, Some(&mut gi[1..]), None),
        Err(length(Buffer::GradInput, n_in, n_in - 1))
    );
    assert_eq!(
        l.backward(0, &x, &y, &[], &g, Some(&mut gi), None),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert!(
        gi.iter().all(|&v| v == 7.0) && gp[0] == 7.0,
        "backward wrote on error"
    );
    // Without grad_input there is nothing to compute; an empty grad_params is accepted.
    assert_eq!(
        l.backward(batch, &x, &y, &[], &g, None, Some(&mut [])),
        Ok(())
    );
}

#[test]
fn wrong_lengths_are_reported_and_nothing_is_written() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        check_error_paths(&layer(kind, &CASES[2]).0);
    }
    let l = Pool1dConfig {
        kind: PoolKind::Max,
        len: 6,
        channels: 2,
        window: 2,
        stride: 2,
        padding: Padding::Same,
    }
    .init()
    .unwrap();
    check_error_paths(&l);
    let l = GlobalAvgPoolConfig {
        positions: 4,
        channels: 3,
    }
    .init()
    .unwrap();
    check_error_paths(&l);
}

/// Backward overwrites the input gradient: a second call gives the same values, not twice them.
#[test]
fn backward_overwrites_grad_input() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        let (l, _) = layer(kind, &CASES[2]);
        let batch = CASES[2].0;
        let mut rng = SplitMix64::new(900);
        let x = distinct_values(&mut rng, batch * l.input_len());
        let g = rng.f32_vec(batch * l.output_len(), -1.0, 1.0);
        let mut y = vec![0.0; g.len()];
        l.forward(batch, &x, &mut y).unwrap();
        let mut first = vec![0.0; x.len()];
        l.backward(batch, &x, &y, &[], &g, Some(&mut first), None)
            .unwrap();
        let mut second = first.clone();
        l.backward(batch, &x, &y, &[], &g, Some(&mut second), None)
            .unwrap();
        assert_eq!(first, second);
    }
}
