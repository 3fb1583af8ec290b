//! The weight quantization helpers of `layers::s8` and `activation_range_s8`.
//!
//! Claims: per-channel scales are `max |w| / 127` of each output channel (first index for dense
//! and conv, last for depthwise); every dequantized weight `scale[c] · q` is within
//! `scale[c] / 2` of the f32 weight; every dequantized bias `q · input_scale · scale[c]` is within
//! half its step of the f32 bias; each requantizer represents `input_scale · scale[c] /
//! output_scale` to within 2^-30 relative. Checked with independent f64 arithmetic.

mod common_d;

use common_d::*;
use tinytune::kernels::{ActivationF32, ActivationS8};
use tinytune::layers::s8::*;
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::{Buffer, Error, QuantError, ShapeError};

type Helper = fn(
    &[f32],
    Option<&[f32]>,
    usize,
    QuantParams,
    QuantParams,
    &mut [i8],
    &mut [i32],
    &mut [Requantizer],
    &mut [f32],
) -> Result<(), Error>;

/// Checks one quantization; `channel_of(i)` is the channel of weight `i`.
fn check_helper(helper: Helper, seed: u64, channel_of: fn(usize, usize, usize) -> usize) {
    let mut rng = SplitMix64::new(seed);
    for _ in 0..40 {
        let channels = rng.range_i64(1, 8) as usize;
        let per = rng.range_i64(1, 30) as usize;
        let len = channels * per;
        let mags: Vec<f64> = (0..channels).map(|_| rng.uniform(0.01, 5.0)).collect();
        let mut w: Vec<f32> = (0..len)
            .map(|i| {
                let m = mags[channel_of(i, per, channels)];
                rng.uniform(-m, m) as f32
            })
            .collect();
        if channels > 1 && rng.range_i64(0, 3) == 0 {
            // An all-zero channel gets scale 1.0 and zero weights.
            for (i, v) in w.iter_mut().enumerate() {
                if channel_of(i, per, channels) == 0 {
                    *v = 0.0;
                }
            }
        }
        let bias = rng.f32_vec(channels, -2.0, 2.0);
        let input = random_params(&mut rng);
        let output = random_params(&mut rng);
        let (mut ws, mut bs, mut rs, mut ss) = (
            vec![0i8; len],
            vec![0i32; channels],
            vec![Requantizer::ZERO; channels],
            vec![0f32; channels],
        );
        helper(
            &w,
            Some(&bias),
            channels,
            input,
            output,
            &mut ws,
            &mut bs,
            &mut rs,
            &mut ss,
        )
        .unwrap();
        let mut max_abs = vec![0f64; channels];
        for (i, &v) in w.iter().enumerate() {
            let c = channel_of(i, per, channels);
            max_abs[c] = max_abs[c].max((v as f64).abs());
        }
        for c in 0..channels {
            let want = if max_abs[c] == 0.0 {
                1.0
            } else {
                max_abs[c] / 127.0
            };
            assert!(((ss[c] as f64) - want).abs() <= want * 1e-6, "scale {c}");
        }
        for (i, (&q, &v)) in ws.iter().zip(&w).enumerate() {
            let s = ss[channel_of(i, per, channels)] as f64;
            assert!((-127..=127).contains(&q));
            let err = (s * q as f64 - v as f64).abs();
            assert!(
                err <= s / 2.0 * (1.0 + 1e-6),
                "weight {i}: error {err}, scale {s}"
            );
        }
        for c in 0..channels {
            let step = input.scale as f64 * ss[c] as f64;
            let err = (bs[c] as f64 * step - bias[c] as f64).abs();
            assert!(err <= step / 2.0 * (1.0 + 1e-6), "bias {c}");
            let real = input.scale as f64 * ss[c] as f64 / output.scale as f64;
            let got = rs[c].multiplier as f64 * 2f64.powi(rs[c].shift - 31);
            assert!((got - real).abs() <= real * 2f64.powi(-30), "requant {c}");
        }
        // Without a bias, a given bias buffer is zeroed and an empty one accepted.
        let mut zeroed = vec![7i32; channels];
        helper(
            &w,
            None,
            channels,
            input,
            output,
            &mut ws,
            &mut zeroed,
            &mut rs,
            &mut ss,
        )
        .unwrap();
        assert!(zeroed.iter().all(|&b| b == 0));
        helper(
            &w,
            None,
            channels,
            input,
            output,
            &mut ws,
            &mut [],
            &mut rs,
            &mut ss,
        )
        .unwrap();
    }
}

#[test]
fn dense_weights_within_half_a_step_of_f32_per_output_row() {
    check_helper(quantize_dense_weights, 1, |i, per, _| i / per);
}

#[test]
fn conv_weights_within_half_a_step_of_f32_per_leading_channel() {
    check_helper(quantize_conv_weights, 2, |i, per, _| i / per);
}

#[test]
fn depthwise_weights_within_half_a_step_of_f32_per_trailing_channel() {
    check_helper(quantize_depthwise_weights, 3, |i, _, channels| i % channels);
}

fn q(scale: f32, zero_point: i32) -> QuantParams {
    QuantParams { scale, zero_point }
}

#[test]
fn quantize_helpers_reject_bad_buffers_and_values_writing_nothing() {
    let w = [0.5f32, -1.0, 0.25, 2.0, 0.0, 1.0];
    let b = [0.1f32, -0.2];
    let (i, o) = (q(0.02, 3), q(0.1, -5));
    let run = |w: &[f32],
               b: Option<&[f32]>,
               ch: usize,
               i,
               o,
               nw: usize,
               nb: usize,
               nr: usize,
               ns: usize| {
        let (mut ws, mut bs, mut rs, mut ss) = (
            vec![9i8; nw],
            vec![9i32; nb],
            vec![Requantizer::ZERO; nr],
            vec![9f32; ns],
        );
        let r = quantize_dense_weights(w, b, ch, i, o, &mut ws, &mut bs, &mut rs, &mut ss);
        let untouched = ws.iter().all(|&v| v == 9)
            && bs.iter().all(|&v| v == 9)
            && rs.iter().all(|&v| v == Requantizer::ZERO)
            && ss.iter().all(|&v| v == 9.0);
        (r, untouched)
    };
    let len = |buffer, expected, actual| {
        Err(Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        }))
    };
    assert_eq!(run(&w, Some(&b), 2, i, o, 6, 2, 2, 2).0, Ok(()));
    let cases = [
        (
            run(&w, Some(&b), 0, i, o, 6, 2, 2, 2),
            Err(Error::Shape(ShapeError::Dimension)),
        ),
        (
            run(&w, Some(&b), 4, i, o, 6, 2, 2, 2),
            Err(Error::Shape(ShapeError::Dimension)),
        ),
        (
            run(&[], None, 1, i, o, 0, 0, 1, 1),
            Err(Error::Shape(ShapeError::Dimension)),
        ),
        (
            run(&w, Some(&b), 2, i, o, 5, 2, 2, 2),
            len(Buffer::Weights, 6, 5),
        ),
        (
            run(&w, Some(&b[..1]), 2, i, o, 6, 2, 2, 2),
            len(Buffer::Bias, 2, 1),
        ),
        (
            run(&w, Some(&b), 2, i, o, 6, 3, 2, 2),
            len(Buffer::Bias, 2, 3),
        ),
        (run(&w, None, 2, i, o, 6, 1, 2, 2), len(Buffer::Bias, 2, 1)),
        (
            run(&w, Some(&b), 2, i, o, 6, 2, 1, 2),
            len(Buffer::Requant, 2, 1),
        ),
        (
            run(&w, Some(&b), 2, i, o, 6, 2, 2, 3),
            len(Buffer::Requant, 2, 3),
        ),
        (
            run(&w, Some(&b), 2, q(0.0, 0), o, 6, 2, 2, 2),
            Err(Error::Quant(QuantError::InvalidScale)),
        ),
        (
            run(&w, Some(&b), 2, i, q(0.1, 128), 6, 2, 2, 2),
            Err(Error::Quant(QuantError::InvalidZeroPoint)),
        ),
        (
            run(&[f32::NAN, 0.0], None, 1, i, o, 2, 0, 1, 1),
            Err(Error::Quant(QuantError::InvalidRange)),
        ),
        (
            run(&w, Some(&[f32::INFINITY, 0.0]), 2, i, o, 6, 2, 2, 2),
            Err(Error::Quant(QuantError::InvalidRange)),
        ),
    ];
    for (k, ((got, untouched), want)) in cases.into_iter().enumerate() {
        assert_eq!(got, want, "case {k}");
        assert!(untouched, "case {k} wrote into a buffer");
    }
}

#[test]
fn activation_range_s8_quantizes_the_clamp_bounds() {
    let p = q(0.05, -10);
    // ReLU: [zp, 127]; ReLU6: [zp, zp + round(6 / 0.05)] = [-10, 110].
    assert_eq!(
        activation_range_s8(ActivationF32::RELU, p),
        Ok(ActivationS8 { min: -10, max: 127 })
    );
    assert_eq!(
        activation_range_s8(ActivationF32::RELU6, p),
        Ok(ActivationS8 { min: -10, max: 110 })
    );
    assert_eq!(
        activation_range_s8(ActivationF32::NONE, p),
        Ok(ActivationS8::NONE)
    );
    // ReLU6 saturates at 127 when 6 is beyond the range.
    assert_eq!(
        activation_range_s8(ActivationF32::RELU6, q(0.1, 0)),
        Ok(ActivationS8 { min: 0, max: 60 })
    );
    assert_eq!(
        activation_range_s8(ActivationF32::RELU6, q(0.01, 0)),
        Ok(ActivationS8 { min: 0, max: 127 })
    );
    // A general clamp [-1, 1] at scale 1/64: [-64, 64].
    let ab = ActivationF32 {
        min: -1.0,
        max: 1.0,
    };
    assert_eq!(
        activation_range_s8(ab, q(1.0 / 64.0, 0)),
        Ok(ActivationS8 { min: -64, max: 64 })
    );
    let bad = ActivationF32 {
        min: f32::NAN,
        max: 1.0,
    };
    assert_eq!(activation_range_s8(bad, p), Err(Error::Config));
    let reversed = ActivationF32 { min: 1.0, max: 0.0 };
    assert_eq!(activation_range_s8(reversed, p), Err(Error::Config));
    assert_eq!(
        activation_range_s8(ActivationF32::RELU, q(-1.0, 0)),
        Err(Error::Quant(QuantError::InvalidScale))
    );
}
