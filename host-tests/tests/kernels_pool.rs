//! Pooling kernels: hand-worked cases, random shapes against the references, error paths.

use proptest::prelude::*;
use tinytune::kernels::generic::pool::*;
use tinytune::kernels::{ActivationF32, ActivationS8, Padding};
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::reference::pool as reference;

fn shape2d(
    (batch, in_h, in_w, channels): (usize, usize, usize, usize),
    (window_h, window_w): (usize, usize),
    (stride_h, stride_w): (usize, usize),
    padding: Padding,
) -> Pool2dShape {
    Pool2dShape {
        batch,
        in_h,
        in_w,
        channels,
        window_h,
        window_w,
        stride_h,
        stride_w,
        padding,
    }
}

fn ref_shape(s: &Pool2dShape) -> reference::Pool2d {
    reference::Pool2d {
        batch: s.batch,
        in_h: s.in_h,
        in_w: s.in_w,
        channels: s.channels,
        window_h: s.window_h,
        window_w: s.window_w,
        stride_h: s.stride_h,
        stride_w: s.stride_w,
        same: s.padding == Padding::Same,
    }
}

// 3x3 single-channel input, 2x2 window, stride 2, Same padding:
// out = ceil(3/2) = 2, total padding (2-1)*2 + 2 - 3 = 1, all of it after (bottom/right).
//   1 2 3
//   4 5 6
//   7 8 9
// windows: {1,2,4,5} {3,6} {7,8} {9}
const GRID: [f32; 9] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];

fn grid_shape() -> Pool2dShape {
    shape2d((1, 3, 3, 1), (2, 2), (2, 2), Padding::Same)
}

#[test]
fn max_pool2d_f32_same_padding_by_hand() {
    let mut out = [0.0f32; 4];
    max_pool2d_f32(&grid_shape(), ActivationF32::NONE, &GRID, &mut out).unwrap();
    assert_eq!(out, [5.0, 6.0, 8.0, 9.0]);
}

#[test]
fn avg_pool2d_f32_excludes_padding_by_hand() {
    // means: 12/4 = 3, 9/2 = 4.5, 15/2 = 7.5, 9/1 = 9 (padding not counted)
    let mut out = [0.0f32; 4];
    avg_pool2d_f32(&grid_shape(), ActivationF32::NONE, &GRID, &mut out).unwrap();
    assert_eq!(out, [3.0, 4.5, 7.5, 9.0]);
    // with ReLU6 the means above 6 are clamped
    avg_pool2d_f32(&grid_shape(), ActivationF32::RELU6, &GRID, &mut out).unwrap();
    assert_eq!(out, [3.0, 4.5, 6.0, 6.0]);
}

#[test]
fn pool2d_two_channels_are_independent() {
    // 1x2x2x2: channel 0 = [1, -2, 3, 0], channel 1 = [-1, -5, -3, -7]; one 2x2 Valid window.
    let input = [1.0, -1.0, -2.0, -5.0, 3.0, -3.0, 0.0, -7.0];
    let s = shape2d((1, 2, 2, 2), (2, 2), (1, 1), Padding::Valid);
    let mut out = [0.0f32; 2];
    max_pool2d_f32(&s, ActivationF32::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [3.0, -1.0]);
    avg_pool2d_f32(&s, ActivationF32::NONE, &input, &mut out).unwrap();
    // (1 - 2 + 3 + 0)/4 = 0.5, (-1 - 5 - 3 - 7)/4 = -4
    assert_eq!(out, [0.5, -4.0]);
}

#[test]
fn max_pool_propagates_nan() {
    let input = [1.0, f32::NAN, 3.0, 4.0];
    let s = shape2d((1, 1, 4, 1), (1, 2), (1, 2), Padding::Valid);
    let mut out = [0.0f32; 2];
    max_pool2d_f32(&s, ActivationF32::RELU, &input, &mut out).unwrap();
    assert!(out[0].is_nan());
    assert_eq!(out[1], 4.0);
}

#[test]
fn pool2d_s8_by_hand() {
    // 1x2x4x1, 2x2 window, stride 2, Valid: two windows
    //   row0:  1  2 -1 -3
    //   row1:  2  0 -2  0
    // max: 2, 0; sums: 5 -> 5/4 = 1.25 -> 1; -6 -> -1.5 -> -2 (half away from zero)
    let input = [1i8, 2, -1, -3, 2, 0, -2, 0];
    let s = shape2d((1, 2, 4, 1), (2, 2), (2, 2), Padding::Valid);
    let mut out = [0i8; 2];
    max_pool2d_s8(&s, ActivationS8::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [2, 0]);
    avg_pool2d_s8(&s, ActivationS8::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [1, -2]);
    // clamped into [-1, 1]
    let act = ActivationS8 { min: -1, max: 1 };
    max_pool2d_s8(&s, act, &input, &mut out).unwrap();
    assert_eq!(out, [1, 0]);
    avg_pool2d_s8(&s, act, &input, &mut out).unwrap();
    assert_eq!(out, [1, -1]);
}

#[test]
fn avg_pool_s8_rounds_half_away_from_zero() {
    // windows of two: 1.5 -> 2, -1.5 -> -2, 0.5 -> 1, -0.5 -> -1, 127 stays, -128 stays
    let input = [1i8, 2, -1, -2, 0, 1, 0, -1, 127, 127, -128, -128];
    let s = Pool1dShape {
        batch: 1,
        len: 12,
        channels: 1,
        window: 2,
        stride: 2,
        padding: Padding::Valid,
    };
    let mut out = [0i8; 6];
    avg_pool1d_s8(&s, ActivationS8::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [2, -2, 1, -1, 127, -128]);
}

#[test]
fn pool1d_by_hand() {
    // len 5, window 3, stride 2, Valid: windows {1,5,2} {2,8,3}
    let input = [1.0f32, 5.0, 2.0, 8.0, 3.0];
    let s = Pool1dShape {
        batch: 1,
        len: 5,
        channels: 1,
        window: 3,
        stride: 2,
        padding: Padding::Valid,
    };
    assert_eq!(s.output_len_axis(), Ok(2));
    let mut out = [0.0f32; 2];
    max_pool1d_f32(&s, ActivationF32::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [5.0, 8.0]);
    avg_pool1d_f32(&s, ActivationF32::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [8.0 / 3.0, 13.0 / 3.0]);
    let q = [1i8, 5, 2, 8, 3];
    let mut qo = [0i8; 2];
    max_pool1d_s8(&s, ActivationS8::NONE, &q, &mut qo).unwrap();
    assert_eq!(qo, [5, 8]);
    // 8/3 = 2.67 -> 3, 13/3 = 4.33 -> 4
    avg_pool1d_s8(&s, ActivationS8::NONE, &q, &mut qo).unwrap();
    assert_eq!(qo, [3, 4]);
}

#[test]
fn global_avg_pool_by_hand() {
    // batch 2, spatial 4, channels 2
    // b0 c0: 1,1,1,0 -> 0.75 -> 1        b0 c1: -1,-1,0,0 -> -0.5 -> -1
    // b1 c0: 2,0,0,0 -> 0.5 -> 1         b1 c1: 4,4,4,-100 -> -22 -> -22
    let input = [1i8, -1, 1, -1, 1, 0, 0, 0, 2, 4, 0, 4, 0, 4, 0, -100];
    let mut out = [0i8; 4];
    global_avg_pool_s8(2, 4, 2, ActivationS8::NONE, &input, &mut out).unwrap();
    assert_eq!(out, [1, -1, 1, -22]);
    global_avg_pool_s8(2, 4, 2, ActivationS8 { min: -5, max: 0 }, &input, &mut out).unwrap();
    assert_eq!(out, [0, -1, 0, -5]);
    let f: Vec<f32> = input.iter().map(|&v| v as f32).collect();
    let mut fo = [0.0f32; 4];
    global_avg_pool_f32(2, 4, 2, &f, &mut fo).unwrap();
    assert_eq!(fo, [0.75, -0.5, 0.5, -22.0]);
}

#[test]
fn shape_queries() {
    let s = grid_shape();
    assert_eq!(s.output_hw(), Ok((2, 2)));
    assert_eq!(s.input_len(), Ok(9));
    assert_eq!(s.output_len(), Ok(4));
    let v = shape2d((2, 5, 7, 3), (3, 2), (2, 3), Padding::Valid);
    // (5-3)/2+1 = 2, (7-2)/3+1 = 2
    assert_eq!(v.output_hw(), Ok((2, 2)));
    assert_eq!(v.output_len(), Ok(2 * 2 * 2 * 3));
}

#[test]
fn errors_are_reported_and_nothing_is_written() {
    let s = grid_shape();
    let mut out = [42.0f32; 4];
    assert_eq!(
        max_pool2d_f32(&s, ActivationF32::NONE, &GRID[..8], &mut out),
        Err(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 9,
            actual: 8
        })
    );
    assert_eq!(
        avg_pool2d_f32(&s, ActivationF32::NONE, &GRID, &mut out[..3]),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(out, [42.0; 4]);

    let mut qo = [42i8; 4];
    let q = [0i8; 9];
    assert!(matches!(
        max_pool2d_s8(&s, ActivationS8::NONE, &q, &mut qo[..1]),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            ..
        })
    ));
    assert!(matches!(
        avg_pool2d_s8(&s, ActivationS8::NONE, &q[..3], &mut qo),
        Err(ShapeError::Length {
            buffer: Buffer::Input,
            ..
        })
    ));
    assert_eq!(qo, [42; 4]);

    let zero_stride = Pool2dShape { stride_w: 0, ..s };
    assert_eq!(zero_stride.output_hw(), Err(ShapeError::Parameter));
    assert_eq!(
        max_pool2d_s8(&zero_stride, ActivationS8::NONE, &q, &mut qo),
        Err(ShapeError::Parameter)
    );
    let zero_window = Pool2dShape { window_h: 0, ..s };
    assert_eq!(zero_window.output_len(), Err(ShapeError::Parameter));
    let too_big = Pool2dShape {
        window_h: 4,
        padding: Padding::Valid,
        ..s
    };
    assert_eq!(too_big.output_hw(), Err(ShapeError::Parameter));
    let no_channels = Pool2dShape { channels: 0, ..s };
    assert_eq!(no_channels.output_hw(), Err(ShapeError::Dimension));
    let no_batch = Pool2dShape { batch: 0, ..s };
    assert_eq!(no_batch.input_len(), Err(ShapeError::Dimension));
    let no_rows = Pool2dShape { in_h: 0, ..s };
    assert_eq!(no_rows.output_hw(), Err(ShapeError::Dimension));
    let huge = Pool2dShape {
        batch: usize::MAX,
        ..s
    };
    assert_eq!(huge.input_len(), Err(ShapeError::Dimension));
    // an int8 average window whose sum could overflow i32
    let wide = Pool2dShape {
        window_h: 5000,
        window_w: 5000,
        ..s
    };
    assert_eq!(
        avg_pool2d_s8(&wide, ActivationS8::NONE, &q, &mut qo),
        Err(ShapeError::Parameter)
    );
    assert_eq!(qo, [42; 4]);

    let p1 = Pool1dShape {
        batch: 1,
        len: 4,
        channels: 1,
        window: 0,
        stride: 1,
        padding: Padding::Same,
    };
    assert_eq!(p1.output_len_axis(), Err(ShapeError::Parameter));
    assert_eq!(
        avg_pool1d_f32(&p1, ActivationF32::NONE, &[0.0; 4], &mut [0.0; 4]),
        Err(ShapeError::Parameter)
    );
}

#[test]
fn global_pool_errors() {
    let mut out = [7i8; 2];
    assert_eq!(
        global_avg_pool_s8(1, 0, 2, ActivationS8::NONE, &[], &mut out),
        Err(ShapeError::Dimension)
    );
    assert_eq!(
        global_avg_pool_s8(1, 3, 2, ActivationS8::NONE, &[0; 5], &mut out),
        Err(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 6,
            actual: 5
        })
    );
    assert_eq!(
        global_avg_pool_s8(1, 3, 2, ActivationS8::NONE, &[0; 6], &mut out[..1]),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 2,
            actual: 1
        })
    );
    assert_eq!(out, [7; 2]);
    let mut fo = [7.0f32; 2];
    assert_eq!(
        global_avg_pool_f32(0, 3, 2, &[], &mut fo),
        Err(ShapeError::Dimension)
    );
    assert_eq!(
        global_avg_pool_f32(1, 3, 2, &[0.0; 6], &mut fo[..1]),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 2,
            actual: 1
        })
    );
    assert_eq!(
        global_avg_pool_f32(usize::MAX, 2, 2, &[], &mut fo),
        Err(ShapeError::Dimension)
    );
    assert_eq!(fo, [7.0; 2]);
}

fn any_shape() -> impl Strategy<Value = Pool2dShape> {
    (
        (1usize..=2, 1usize..=7, 1usize..=7, 1usize..=4),
        (1usize..=4, 1usize..=4),
        (1usize..=3, 1usize..=3),
        prop_oneof![Just(Padding::Valid), Just(Padding::Same)],
    )
        .prop_map(|(dims, window, stride, padding)| shape2d(dims, window, stride, padding))
        .prop_filter("window fits", |s| s.output_hw().is_ok())
}

fn any_act_s8() -> impl Strategy<Value = ActivationS8> {
    (any::<i8>(), any::<i8>()).prop_map(|(a, b)| ActivationS8 {
        min: a.min(b),
        max: a.max(b),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn pool2d_f32_matches_reference(s in any_shape(), seed in any::<u64>(), relu in any::<bool>()) {
        let r = ref_shape(&s);
        prop_assert_eq!(s.output_hw().ok(), r.output_hw());
        let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
        let input = rng.f32_vec(s.input_len().unwrap(), -10.0, 10.0);
        let act = if relu { ActivationF32::RELU } else { ActivationF32::NONE };
        let n = s.output_len().unwrap();

        // Max is exact: the reference maximum of f32 values is an f32 value.
        let mut out = vec![0.0f32; n];
        max_pool2d_f32(&s, act, &input, &mut out).unwrap();
        let want = reference::max_pool2d_f64(&r, &input, act.min, act.max);
        for (g, w) in out.iter().zip(&want) {
            prop_assert_eq!(*g as f64, *w);
        }

        // Average: an f32 sum of k terms is within (k-1) eps max|x| k of the exact sum, so the
        // mean is within k eps max|x| (+ one rounding of the quotient) of the f64 mean.
        avg_pool2d_f32(&s, act, &input, &mut out).unwrap();
        let want = reference::avg_pool2d_f64(&r, &input, act.min, act.max);
        for ((g, w), win) in out.iter().zip(&want).zip(r.windows(&input)) {
            let k = win.len() as f64;
            let max_abs = win.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
            let tol = (k + 1.0) * f32::EPSILON as f64 * max_abs + 1e-30;
            prop_assert!((*g as f64 - w).abs() <= tol, "got {} want {} tol {}", g, w, tol);
        }
    }

    #[test]
    fn pool2d_s8_is_bit_exact(s in any_shape(), seed in any::<u64>(), act in any_act_s8()) {
        let r = ref_shape(&s);
        let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
        let input = rng.i8_vec(s.input_len().unwrap());
        let n = s.output_len().unwrap();
        let mut out = vec![0i8; n];
        max_pool2d_s8(&s, act, &input, &mut out).unwrap();
        prop_assert_eq!(&out, &reference::max_pool2d_i8(&r, &input, act.min, act.max));
        avg_pool2d_s8(&s, act, &input, &mut out).unwrap();
        prop_assert_eq!(&out, &reference::avg_pool2d_i8(&r, &input, act.min, act.max));
    }

    #[test]
    fn pool1d_matches_reference(
        batch in 1usize..=2, len in 1usize..=12, channels in 1usize..=3,
        window in 1usize..=5, stride in 1usize..=3, same in any::<bool>(),
        seed in any::<u64>(), act in any_act_s8(),
    ) {
        let padding = if same { Padding::Same } else { Padding::Valid };
        let s = Pool1dShape { batch, len, channels, window, stride, padding };
        let r = reference::Pool2d {
            batch, in_h: 1, in_w: len, channels, window_h: 1, window_w: window,
            stride_h: 1, stride_w: stride, same,
        };
        let Some((_, out_len)) = r.output_hw() else {
            prop_assert_eq!(s.output_len_axis(), Err(ShapeError::Parameter));
            return Ok(());
        };
        prop_assert_eq!(s.output_len_axis(), Ok(out_len));
        let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
        let q = rng.i8_vec(batch * len * channels);
        let mut qo = vec![0i8; batch * out_len * channels];
        max_pool1d_s8(&s, act, &q, &mut qo).unwrap();
        prop_assert_eq!(&qo, &reference::max_pool2d_i8(&r, &q, act.min, act.max));
        avg_pool1d_s8(&s, act, &q, &mut qo).unwrap();
        prop_assert_eq!(&qo, &reference::avg_pool2d_i8(&r, &q, act.min, act.max));

        let f = rng.f32_vec(batch * len * channels, -4.0, 4.0);
        let mut fo = vec![0.0f32; qo.len()];
        max_pool1d_f32(&s, ActivationF32::NONE, &f, &mut fo).unwrap();
        let want = reference::max_pool2d_f64(&r, &f, f32::NEG_INFINITY, f32::INFINITY);
        for (g, w) in fo.iter().zip(&want) {
            prop_assert_eq!(*g as f64, *w);
        }
        avg_pool1d_f32(&s, ActivationF32::NONE, &f, &mut fo).unwrap();
        let want = reference::avg_pool2d_f64(&r, &f, f32::NEG_INFINITY, f32::INFINITY);
        for (g, w) in fo.iter().zip(&want) {
            // at most 5 terms of magnitude <= 4
            prop_assert!((*g as f64 - w).abs() <= 6.0 * 4.0 * f32::EPSILON as f64);
        }
    }

    #[test]
    fn global_avg_pool_matches_reference(
        batch in 1usize..=3, spatial in 1usize..=40, channels in 1usize..=5,
        seed in any::<u64>(), act in any_act_s8(),
    ) {
        let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
        let q = rng.i8_vec(batch * spatial * channels);
        let mut qo = vec![0i8; batch * channels];
        global_avg_pool_s8(batch, spatial, channels, act, &q, &mut qo).unwrap();
        prop_assert_eq!(
            &qo,
            &reference::global_avg_i8(batch, spatial, channels, &q, act.min, act.max)
        );
        let f = rng.f32_vec(batch * spatial * channels, -3.0, 3.0);
        let mut fo = vec![0.0f32; batch * channels];
        global_avg_pool_f32(batch, spatial, channels, &f, &mut fo).unwrap();
        let want = reference::global_avg_f64(batch, spatial, channels, &f);
        let tol = (spatial as f64 + 1.0) * f32::EPSILON as f64 * 3.0;
        for (g, w) in fo.iter().zip(&want) {
            prop_assert!((*g as f64 - w).abs() <= tol, "got {} want {}", g, w);
        }
    }
}
