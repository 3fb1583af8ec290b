//! Affine quantization parameters, (de)quantization, range constructors, per-channel weight and
//! bias quantization and the per-channel requantizers.

use proptest::prelude::*;
use tinytune::num::quant::{
    per_channel_symmetric_scales, per_channel_symmetric_scales_last, quantize_bias,
    quantize_per_channel, quantize_per_channel_last, requantizers, QuantParams, QuantizeError,
    Requantizer,
};
use tinytune::{Buffer, QuantError, ShapeError};
use tinytune_host_tests::reference::num as r;

fn qp(scale: f32, zp: i32) -> QuantParams {
    QuantParams::new(scale, zp).unwrap()
}

#[test]
fn new_validates() {
    assert!(QuantParams::new(0.1, -128).is_ok());
    assert!(QuantParams::new(0.1, 127).is_ok());
    for s in [0.0, -0.1, f32::NAN, f32::INFINITY] {
        assert_eq!(QuantParams::new(s, 0), Err(QuantError::InvalidScale));
    }
    for zp in [-129, 128, i32::MAX] {
        assert_eq!(QuantParams::new(0.1, zp), Err(QuantError::InvalidZeroPoint));
    }
}

#[test]
fn quantize_hand_cases() {
    let p = qp(0.5, -10);
    // 1.0 / 0.5 = 2 -> -8; 0.25 / 0.5 = 0.5 -> ties away from zero -> 1 -> -9;
    // -0.25 -> -0.5 -> -1 -> -11; 0.2 -> 0.4 -> 0 -> -10.
    assert_eq!(p.quantize(1.0), -8);
    assert_eq!(p.quantize(0.25), -9);
    assert_eq!(p.quantize(-0.25), -11);
    assert_eq!(p.quantize(0.2), -10);
    // saturation: 100 / 0.5 = 200 - 10 = 190 -> 127; -100 -> -210 -> -128.
    assert_eq!(p.quantize(100.0), 127);
    assert_eq!(p.quantize(-100.0), -128);
    assert_eq!(p.quantize(f32::INFINITY), 127);
    assert_eq!(p.quantize(f32::NEG_INFINITY), -128);
    assert_eq!(p.quantize(f32::MAX), 127);
    // NaN -> zero point.
    assert_eq!(p.quantize(f32::NAN), -10);
    // dequantize: 0.5 * (-8 + 10) = 1.0; 0.5 * (-128 + 10) = -59.
    assert_eq!(p.dequantize(-8), 1.0);
    assert_eq!(p.dequantize(-128), -59.0);
    assert_eq!(p.dequantize(-10), 0.0);
    // unvalidated fields stay panic-free
    let wild = QuantParams {
        scale: 0.0,
        zero_point: i32::MAX,
    };
    // 1 / 0 = inf -> i32::MAX, + i32::MAX saturates -> 127.
    assert_eq!(wild.quantize(1.0), 127);
    // -1 / 0 = -inf -> i32::MIN, + i32::MAX = -1.
    assert_eq!(wild.quantize(-1.0), -1);
    assert_eq!(wild.dequantize(0), 0.0 * -(i32::MAX as f32));
}

#[test]
fn slices_and_their_errors() {
    let p = qp(0.25, 3);
    let x = [0.0, 0.25, -1.0, 1000.0];
    let mut q = [0i8; 4];
    p.quantize_slice(&x, &mut q).unwrap();
    // 0 -> 3; 1 + 3 = 4; -4 + 3 = -1; saturates.
    assert_eq!(q, [3, 4, -1, 127]);
    let mut y = [0f32; 4];
    p.dequantize_slice(&q, &mut y).unwrap();
    assert_eq!(y, [0.0, 0.25, -1.0, 31.0]);
    let mut short = [7i8; 3];
    assert_eq!(
        p.quantize_slice(&x, &mut short),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 3
        })
    );
    assert_eq!(short, [7; 3], "nothing written on error");
    let mut long = [0f32; 5];
    assert_eq!(
        p.dequantize_slice(&q, &mut long),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 4,
            actual: 5
        })
    );
    p.quantize_slice(&[], &mut []).unwrap();
}

#[test]
fn asymmetric_hand_cases() {
    // TFLite's documented example [-10, 30]: scale 40/255 = 0.156863, uint8 zero point 64, which
    // is -64 in int8 (the zero point from min: -128 + 10 / (40/255) = -128 + 63.75 -> -64).
    let p = QuantParams::asymmetric_from_min_max(-10.0, 30.0).unwrap();
    assert!((p.scale - 0.156_863).abs() < 1e-5);
    assert_eq!(p.zero_point, -64);
    // zero on the min boundary: [0, 30] -> scale 30/255 = 0.117647, zero point -128.
    let p = QuantParams::asymmetric_from_min_max(0.0, 30.0).unwrap();
    assert!((p.scale - 0.117_647).abs() < 1e-5);
    assert_eq!(p.zero_point, -128);
    // zero on the max boundary: [-10, 0] -> 10/255 = 0.039216, zero point 127.
    let p = QuantParams::asymmetric_from_min_max(-10.0, 0.0).unwrap();
    assert!((p.scale - 0.039_216).abs() < 1e-5);
    assert_eq!(p.zero_point, 127);
    // a range not containing 0 is extended: [5, 10] -> [0, 10].
    let p = QuantParams::asymmetric_from_min_max(5.0, 10.0).unwrap();
    assert_eq!(p.scale, (10.0f64 / 255.0) as f32);
    assert_eq!(p.zero_point, -128);
    let p = QuantParams::asymmetric_from_min_max(-10.0, -5.0).unwrap();
    assert_eq!(p.zero_point, 127);
    // degenerate range: defined as scale 1, zero point 0.
    assert_eq!(
        QuantParams::asymmetric_from_min_max(0.0, 0.0),
        Ok(qp(1.0, 0))
    );
    assert_eq!(
        QuantParams::asymmetric_from_min_max(-0.0, 0.0),
        Ok(qp(1.0, 0))
    );
    for (lo, hi) in [
        (f32::NAN, 1.0),
        (0.0, f32::NAN),
        (f32::NEG_INFINITY, 0.0),
        (0.0, f32::INFINITY),
        (1.0, -1.0),
    ] {
        assert_eq!(
            QuantParams::asymmetric_from_min_max(lo, hi),
            Err(QuantError::InvalidRange)
        );
    }
    // the extremes of f32 still give a usable scale.
    let p = QuantParams::asymmetric_from_min_max(-f32::MAX, f32::MAX).unwrap();
    assert!(p.scale.is_finite() && p.scale > 0.0);
}

#[test]
fn symmetric_hand_cases() {
    // 12.7 / 127 = 0.1
    assert_eq!(
        QuantParams::symmetric_from_max_abs(12.7),
        Ok(qp(12.7f32 / 127.0, 0))
    );
    assert_eq!(QuantParams::symmetric_from_max_abs(0.0), Ok(qp(1.0, 0)));
    for bad in [-1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(
            QuantParams::symmetric_from_max_abs(bad),
            Err(QuantError::InvalidRange)
        );
    }
    let p = QuantParams::symmetric_from_max_abs(12.7).unwrap();
    assert_eq!(p.quantize(12.7), 127);
    assert_eq!(p.quantize(-12.7), -127);
}

#[test]
fn per_channel_leading() {
    // [2, 3]: channel 0 max |w| = 1.27 -> scale 0.01; channel 1 all zero -> scale 1.
    let w = [0.5, -1.27, 0.1, 0.0, 0.0, 0.0];
    let mut s = [0f32; 2];
    per_channel_symmetric_scales(&w, 2, &mut s).unwrap();
    assert_eq!(s, [1.27f32 / 127.0, 1.0]);
    let mut q = [9i8; 6];
    quantize_per_channel(&w, &s, &mut q).unwrap();
    // 0.5 / 0.01 = 50, -1.27 / 0.01 = -127, 0.1 / 0.01 = 10.
    assert_eq!(q, [50, -127, 10, 0, 0, 0]);
    // beyond the scale: clamps to +-127, never -128; NaN -> 0.
    let mut q2 = [0i8; 3];
    quantize_per_channel(&[-5.0, 5.0, f32::NAN], &[0.01], &mut q2).unwrap();
    assert_eq!(q2, [-127, 127, 0]);
}

#[test]
fn per_channel_trailing() {
    // [2, 3] with channels last: channel 0 = {1, -0.25}, 1 = {-2, 0.5}, 2 = {0, 0}.
    let w = [1.0, -2.0, 0.0, -0.25, 0.5, 0.0];
    let mut s = [0f32; 3];
    per_channel_symmetric_scales_last(&w, 3, &mut s).unwrap();
    assert_eq!(s, [1.0f32 / 127.0, 2.0f32 / 127.0, 1.0]);
    let mut q = [0i8; 6];
    quantize_per_channel_last(&w, &s, &mut q).unwrap();
    // -0.25 * 127 = -31.75 -> -32; 0.5 * 127 / 2 = 31.75 -> 32.
    assert_eq!(q, [127, -127, 0, -32, 32, 0]);
}

#[test]
fn per_channel_errors() {
    let w = [1.0f32; 6];
    let mut s2 = [5f32; 2];
    let dim = Err(QuantizeError::Shape(ShapeError::Dimension));
    assert_eq!(per_channel_symmetric_scales(&w, 0, &mut []), dim);
    assert_eq!(per_channel_symmetric_scales(&w[..5], 2, &mut s2), dim);
    assert_eq!(per_channel_symmetric_scales_last(&w[..5], 2, &mut s2), dim);
    assert_eq!(
        per_channel_symmetric_scales(&w, 3, &mut s2),
        Err(QuantizeError::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        }))
    );
    let nan = [1.0, f32::NAN, 0.0, 0.0];
    let inf = [1.0, 0.0, f32::NEG_INFINITY, 0.0];
    for bad in [&nan, &inf] {
        assert_eq!(
            per_channel_symmetric_scales(bad, 2, &mut s2),
            Err(QuantizeError::Quant(QuantError::InvalidRange))
        );
        assert_eq!(
            per_channel_symmetric_scales_last(bad, 2, &mut s2),
            Err(QuantizeError::Quant(QuantError::InvalidRange))
        );
    }
    assert_eq!(s2, [5.0; 2], "nothing written on error");
    let mut q = [0i8; 6];
    assert_eq!(quantize_per_channel(&w, &[], &mut q), dim);
    assert_eq!(quantize_per_channel_last(&w, &[0.1; 4], &mut q), dim);
    assert_eq!(
        quantize_per_channel(&w, &[0.1; 2], &mut q[..5]),
        Err(QuantizeError::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 6,
            actual: 5
        }))
    );
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(
            quantize_per_channel(&w, &[0.1, bad], &mut q),
            Err(QuantizeError::Quant(QuantError::InvalidScale))
        );
        assert_eq!(
            quantize_per_channel_last(&w, &[bad, 0.1], &mut q),
            Err(QuantizeError::Quant(QuantError::InvalidScale))
        );
    }
    assert_eq!(q, [0; 6]);
}

#[test]
fn bias_hand_cases_and_errors() {
    let mut out = [0i32; 2];
    // 1 / (0.5 * 0.01) = 200; -0.5 / (0.5 * 0.02) = -50.
    quantize_bias(&[1.0, -0.5], 0.5, &[0.01, 0.02], &mut out).unwrap();
    assert_eq!(out, [200, -50]);
    // per-tensor weight scale broadcasts; saturation and NaN.
    quantize_bias(&[1e30, f32::NAN], 0.5, &[0.01], &mut out).unwrap();
    assert_eq!(out, [i32::MAX, 0]);
    quantize_bias(&[-1e30, f32::NEG_INFINITY], 0.5, &[0.01], &mut out).unwrap();
    assert_eq!(out, [i32::MIN, i32::MIN]);
    let before = out;
    assert_eq!(
        quantize_bias(&[1.0, 2.0], 0.5, &[0.1; 3], &mut out),
        Err(QuantizeError::Quant(QuantError::ChannelCount))
    );
    assert_eq!(
        quantize_bias(&[1.0, 2.0], 0.0, &[0.1], &mut out),
        Err(QuantizeError::Quant(QuantError::InvalidScale))
    );
    assert_eq!(
        quantize_bias(&[1.0, 2.0], 0.5, &[0.1, f32::NAN], &mut out),
        Err(QuantizeError::Quant(QuantError::InvalidScale))
    );
    assert_eq!(
        quantize_bias(&[1.0, 2.0, 3.0], 0.5, &[0.1], &mut out),
        Err(QuantizeError::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        }))
    );
    assert_eq!(out, before);
}

#[test]
fn requantizers_hand_cases_and_errors() {
    let mut out = [Requantizer::ZERO; 2];
    requantizers(0.5, &[0.01, 0.02], 0.1, &mut out).unwrap();
    for (o, s_w) in out.iter().zip([0.01f32, 0.02]) {
        let real = 0.5f64 * s_w as f64 / 0.1f32 as f64;
        assert_eq!(
            (o.multiplier, o.shift),
            r::quantize_multiplier(real).unwrap()
        );
    }
    // 0.5 * 0.01 / 0.1 = 0.05 = 0.8 * 2^-4.
    assert_eq!(out[0].shift, -4);
    // 0.1 = 0.8 * 2^-3.
    assert_eq!(out[1].shift, -3);
    let mut three = [Requantizer::ZERO; 3];
    requantizers(0.5, &[0.02], 0.1, &mut three).unwrap();
    assert!(three.iter().all(|q| *q == out[1]));
    let before = out;
    assert_eq!(
        requantizers(0.5, &[0.1; 3], 0.1, &mut out),
        Err(QuantError::ChannelCount)
    );
    assert_eq!(
        requantizers(0.5, &[0.1, 0.1], 0.0, &mut out),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        requantizers(f32::NAN, &[0.1, 0.1], 0.1, &mut out),
        Err(QuantError::InvalidScale)
    );
    // the second channel's multiplier 1e10 * 1 / 1e-10 = 1e20 >= 2^30: nothing written at all.
    assert_eq!(
        requantizers(1e10, &[1e-30, 1.0], 1e-10, &mut out),
        Err(QuantError::InvalidMultiplier)
    );
    assert_eq!(out, before);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn quantize_matches_reference(
        scale in 1e-4f32..10.0,
        zp in -128i32..=127,
        x in prop_oneof![-2000.0f32..2000.0, any::<f32>()],
    ) {
        let p = qp(scale, zp);
        prop_assert_eq!(p.quantize(x), r::quantize_affine(x, scale, zp));
        // dequantize is the correctly rounded f64 product.
        let q = p.quantize(x);
        prop_assert_eq!(p.dequantize(q), (scale as f64 * (q as i32 - zp) as f64) as f32);
    }

    #[test]
    fn asymmetric_matches_reference(a in -1e4f32..1e4, b in -1e4f32..1e4) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let p = QuantParams::asymmetric_from_min_max(lo, hi).unwrap();
        match r::choose_quantization_params(lo as f64, hi as f64) {
            Some((scale, zp)) => {
                prop_assert_eq!(p.scale, scale as f32);
                prop_assert_eq!(p.zero_point, zp);
                // 0 is exact; every value of the range is within one step after the round trip.
                prop_assert_eq!(p.dequantize(p.quantize(0.0)), 0.0);
                for x in [lo, hi, 0.5 * (lo + hi)] {
                    let err = (p.dequantize(p.quantize(x)) - x).abs();
                    prop_assert!(err <= p.scale * 1.001, "x {} err {}", x, err);
                }
            }
            None => prop_assert_eq!(p, qp(1.0, 0)),
        }
    }

    #[test]
    fn per_channel_matches_reference(
        channels in 1usize..6,
        n in 0usize..7,
        seed in any::<u64>(),
    ) {
        let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
        let w = rng.f32_vec(channels * n, -3.0, 3.0);
        let mut s = vec![0f32; channels];
        let mut q = vec![0i8; w.len()];
        per_channel_symmetric_scales(&w, channels, &mut s).unwrap();
        quantize_per_channel(&w, &s, &mut q).unwrap();
        for c in 0..channels {
            let row = &w[c * n..(c + 1) * n];
            let max_abs = row.iter().fold(0.0f32, |m, v| if v.abs() > m { v.abs() } else { m });
            let expect = if max_abs > 0.0 { max_abs / 127.0 } else { 1.0 };
            prop_assert_eq!(s[c], expect);
            for i in 0..n {
                let e = r::quantize_affine(row[i], expect, 0).max(-127);
                prop_assert_eq!(q[c * n + i], e);
            }
        }
        // the same tensor read as channels-last gives the transposed result.
        let mut wt = vec![0f32; w.len()];
        for c in 0..channels {
            for i in 0..n {
                wt[i * channels + c] = w[c * n + i];
            }
        }
        let mut st = vec![0f32; channels];
        let mut qt = vec![0i8; w.len()];
        per_channel_symmetric_scales_last(&wt, channels, &mut st).unwrap();
        quantize_per_channel_last(&wt, &st, &mut qt).unwrap();
        prop_assert_eq!(&st, &s);
        for c in 0..channels {
            for i in 0..n {
                prop_assert_eq!(qt[i * channels + c], q[c * n + i]);
            }
        }
    }

    #[test]
    fn bias_matches_reference(
        b in prop_oneof![-100.0f32..100.0, any::<f32>()],
        s_in in 1e-4f32..1.0,
        s_w in 1e-4f32..1.0,
    ) {
        let mut out = [0i32];
        quantize_bias(&[b], s_in, &[s_w], &mut out).unwrap();
        prop_assert_eq!(out[0], r::round_f64_to_i32(b as f64 / (s_in as f64 * s_w as f64)));
    }

    #[test]
    fn requantizers_match_reference(
        s_in in 1e-4f32..1.0,
        s_w in 1e-4f32..1.0,
        s_out in 1e-4f32..1.0,
    ) {
        let mut out = [Requantizer::ZERO];
        requantizers(s_in, &[s_w], s_out, &mut out).unwrap();
        let real = s_in as f64 * s_w as f64 / s_out as f64;
        prop_assert_eq!((out[0].multiplier, out[0].shift), r::quantize_multiplier(real).unwrap());
    }
}
