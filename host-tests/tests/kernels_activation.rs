//! Activation kernels: hand-worked cases, random values against the f64 / integer references,
//! lookup tables entry by entry, error paths.

use proptest::prelude::*;
use tinytune::kernels::generic::activation::*;
use tinytune::kernels::ActivationS8;
use tinytune::{Buffer, QuantError, ShapeError};
use tinytune_host_tests::reference::activation as reference;
use tinytune_host_tests::reference::elementwise::Quant;

#[test]
fn f32_piecewise_by_hand() {
    let mut x = [-1.5f32, 0.0, 2.0, 7.0, f32::NAN];
    relu_f32(&mut x);
    assert_eq!(&x[..4], &[0.0, 0.0, 2.0, 7.0]);
    assert!(x[4].is_nan());

    let mut x = [-1.5f32, 3.0, 6.0, 7.0, f32::NAN];
    relu6_f32(&mut x);
    assert_eq!(&x[..4], &[0.0, 3.0, 6.0, 6.0]);
    assert!(x[4].is_nan());

    let mut x = [-2.0f32, 0.0, 3.0, -0.5];
    leaky_relu_f32(&mut x, 0.1);
    assert_eq!(x, [-0.2, 0.0, 3.0, -0.05]);
}

#[test]
fn f32_smooth_by_hand() {
    // sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4; tanh(0) = 0, tanh(ln 2) = 3/5;
    // gelu(0) = 0, gelu(1) = Φ(1) = 0.841344746068543, gelu(-1) = -(1 - Φ(1)) = -0.158655253931457
    let mut s = [0.0f32, 3.0f32.ln()];
    sigmoid_f32(&mut s);
    assert_eq!(s[0], 0.5);
    assert!((s[1] - 0.75).abs() < 1e-7);
    let mut t = [0.0f32, 2.0f32.ln()];
    tanh_f32(&mut t);
    assert_eq!(t[0], 0.0);
    assert!((t[1] - 0.6).abs() < 1e-7);
    let mut g = [0.0f32, 1.0, -1.0];
    gelu_f32(&mut g);
    assert_eq!(g[0], 0.0);
    assert!((g[1] as f64 - 0.841_344_746_068_543).abs() < 1e-6);
    assert!((g[2] as f64 + 0.158_655_253_931_457).abs() < 1e-6);
}

#[test]
fn reference_erf_against_table() {
    // erf values from Abramowitz & Stegun, table 7.1 (and erfc(4) = 1.541725790028e-8)
    let table = [
        (0.5, 0.520_499_877_813_046_5),
        (1.0, 0.842_700_792_949_714_9),
        (2.0, 0.995_322_265_018_952_7),
        (3.5, 0.999_999_256_901_627_7),
        (4.0, 1.0 - 1.541_725_790_028e-8),
    ];
    for (x, want) in table {
        assert!((reference::erf(x) - want).abs() < 1e-14, "erf({x})");
        assert!((reference::erf(-x) + want).abs() < 1e-14, "erf(-{x})");
    }
    // continuity across the switch from series to continued fraction
    assert!((reference::erf(2.999_999_999) - reference::erf(3.0)).abs() < 1e-12);
}

#[test]
fn ranges_by_hand() {
    assert_eq!(relu_range_s8(-5), ActivationS8 { min: -5, max: 127 });
    assert_eq!(relu_range_s8(300), ActivationS8 { min: 127, max: 127 });
    assert_eq!(relu_range_s8(-300), ActivationS8::NONE);
    // 6 / 0.05 = 120: [-128, -8]
    assert_eq!(
        relu6_range_s8(0.05, -128),
        Ok(ActivationS8 { min: -128, max: -8 })
    );
    // 6 / 0.01 = 600: the top saturates at 127
    assert_eq!(
        relu6_range_s8(0.01, 3),
        Ok(ActivationS8 { min: 3, max: 127 })
    );
    // 6 / 4 = 1.5 rounds away from zero to 2
    assert_eq!(relu6_range_s8(4.0, 0), Ok(ActivationS8 { min: 0, max: 2 }));
    assert_eq!(
        relu6_range_s8(1e-30, 0),
        Ok(ActivationS8 { min: 0, max: 127 })
    );
    assert_eq!(relu6_range_s8(0.0, 0), Err(QuantError::InvalidScale));
    assert_eq!(relu6_range_s8(f32::NAN, 0), Err(QuantError::InvalidScale));
    assert_eq!(relu6_range_s8(0.1, 128), Err(QuantError::InvalidZeroPoint));
}

#[test]
fn clamp_s8_by_hand() {
    let mut x = [-128i8, -6, -5, 0, 100, 127];
    clamp_s8(&mut x, ActivationS8 { min: -5, max: 100 });
    assert_eq!(x, [-5, -5, -5, 0, 100, 100]);
    // an inverted range does not panic: everything becomes max
    let mut x = [-128i8, 0, 127];
    clamp_s8(&mut x, ActivationS8 { min: 10, max: -10 });
    assert_eq!(x, [-10, -10, -10]);
}

#[test]
fn leaky_relu_s8_by_hand() {
    // scales 1, zero points 0, alpha 0.5: identity multiplier 1.0 (2^30, shift 1), alpha 0.5
    // (2^30, shift 0).
    //  5 -> 5;  -3 -> -1.5: the doubling high multiply rounds ties toward +inf -> -1;
    //  -4 -> -2;  -128 -> -64;  127 -> 127
    let p = LeakyReluParamsS8::new(1.0, 0, 0.5, 1.0, 0).unwrap();
    let mut out = [0i8; 5];
    leaky_relu_s8(&p, &[5, -3, -4, -128, 127], &mut out).unwrap();
    assert_eq!(out, [5, -1, -2, -64, 127]);

    // zero points and a rescale: input (0.5, zp 10), output (0.25, zp -20), alpha 0.25.
    // 14 means 4 * 0.5 = 2.0 -> 8 steps -> -12;  6 means -2.0, * 0.25 = -0.5 -> -2 steps -> -22;
    // 127 means 58.5 -> 234 steps -> 214 -> saturated to 127
    let p = LeakyReluParamsS8::new(0.5, 10, 0.25, 0.25, -20).unwrap();
    let mut out = [0i8; 3];
    leaky_relu_s8(&p, &[14, 6, 127], &mut out).unwrap();
    assert_eq!(out, [-12, -22, 127]);
}

#[test]
fn leaky_relu_s8_errors() {
    assert_eq!(
        LeakyReluParamsS8::new(0.0, 0, 0.1, 1.0, 0),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        LeakyReluParamsS8::new(1.0, 0, 0.1, -1.0, 0),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        LeakyReluParamsS8::new(1.0, -129, 0.1, 1.0, 0),
        Err(QuantError::InvalidZeroPoint)
    );
    assert_eq!(
        LeakyReluParamsS8::new(1.0, 0, -0.1, 1.0, 0),
        Err(QuantError::InvalidMultiplier)
    );
    assert_eq!(
        LeakyReluParamsS8::new(1.0, 0, f32::NAN, 1.0, 0),
        Err(QuantError::InvalidMultiplier)
    );
    let p = LeakyReluParamsS8::new(1.0, 0, 0.1, 1.0, 0).unwrap();
    let mut out = [3i8; 2];
    assert_eq!(
        leaky_relu_s8(&p, &[1, 2, 3], &mut out),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(out, [3, 3]);
}

#[test]
fn lut_by_hand() {
    // sigmoid, input scale 0.1, zp 0, output 1/256, zp -128:
    //   q = 0:    sigmoid(0) = 0.5 -> 128 steps -> 0
    //   q = 127:  sigmoid(12.7) = 0.999997 -> 255.9992 -> 256 -> 128 -> saturated to 127
    //   q = -128: sigmoid(-12.8) = 2.8e-6 -> 0.0007 -> 0 -> -128
    //   q = 10:   sigmoid(1) = 0.7310586 -> 187.151 -> 187 -> 59
    let lut = LutS8::sigmoid(0.1, 0).unwrap();
    assert_eq!(lut.lookup(0), 0);
    assert_eq!(lut.lookup(127), 127);
    assert_eq!(lut.lookup(-128), -128);
    assert_eq!(lut.lookup(10), 59);
    // tanh, input scale 1/16, zp 0, output 1/128: q = 16 -> tanh(1) = 0.7615942 -> 97.48 -> 97;
    // q = -16 -> -97
    let lut = LutS8::tanh(1.0 / 16.0, 0).unwrap();
    assert_eq!(lut.lookup(0), 0);
    assert_eq!(lut.lookup(16), 97);
    assert_eq!(lut.lookup(-16), -97);
    // gelu, input scale 0.05, zp 0, output 0.05, zp 0: q = 20 -> gelu(1) = 0.8413447 -> 16.83
    // -> 17; q = -20 -> gelu(-1) = -0.1586553 -> -3.17 -> -3
    let lut = LutS8::gelu(0.05, 0, 0.05, 0).unwrap();
    assert_eq!(lut.lookup(20), 17);
    assert_eq!(lut.lookup(-20), -3);
    let mut x = [20i8, -20, 0];
    lut.apply(&mut x);
    assert_eq!(x, [17, -3, 0]);
    let mut y = [0i8; 3];
    lut.apply_to(&[20, -20, 0], &mut y).unwrap();
    assert_eq!(y, [17, -3, 0]);
}

#[test]
fn lut_custom_function_and_nan() {
    // identity with equal quantizations is the identity table
    let id = LutS8::new(0.3, 5, 0.3, 5, |x| x).unwrap();
    for q in i8::MIN..=i8::MAX {
        assert_eq!(id.lookup(q), q);
    }
    // a NaN result is stored as the output zero point
    let nan = LutS8::new(1.0, 0, 1.0, -7, |_| f32::NAN).unwrap();
    assert!(nan.0.iter().all(|&v| v == -7));
    // infinities saturate
    let inf = LutS8::new(1.0, 0, 1.0, 0, |x| {
        if x < 0.0 {
            f32::NEG_INFINITY
        } else {
            f32::INFINITY
        }
    })
    .unwrap();
    assert_eq!(inf.lookup(-1), -128);
    assert_eq!(inf.lookup(0), 127);
}

#[test]
fn lut_errors() {
    assert_eq!(
        LutS8::sigmoid(0.0, 0).map(|_| ()),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        LutS8::tanh(0.1, 128).map(|_| ()),
        Err(QuantError::InvalidZeroPoint)
    );
    assert_eq!(
        LutS8::gelu(0.1, 0, f32::INFINITY, 0).map(|_| ()),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        LutS8::new(0.1, 0, 0.1, -200, |x| x).map(|_| ()),
        Err(QuantError::InvalidZeroPoint)
    );
    let lut = LutS8::tanh(0.1, 0).unwrap();
    let mut out = [1i8; 2];
    assert_eq!(
        lut.apply_to(&[0; 3], &mut out),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(out, [1, 1]);
}

/// Checks every table entry against the f64 value: equal, or off by one only where the f64
/// pre-rounding value lies within 1e-3 of a rounding tie (f32 evaluation may land either side).
fn check_lut(lut: &LutS8, qi: Quant, qo: Quant, f: fn(f64) -> f64) -> Result<(), TestCaseError> {
    for (i, pre) in reference::lut_prerounding(qi, qo, f)
        .into_iter()
        .enumerate()
    {
        let want = reference::round_saturate_i8(pre);
        let got = lut.0[i];
        if got != want {
            let near_tie = ((pre - pre.floor()) - 0.5).abs() < 1e-3;
            prop_assert!(
                near_tie && (got as i32 - want as i32).abs() == 1,
                "entry {} (q = {}): got {} want {} (pre-rounding {})",
                i,
                i as u8 as i8,
                got,
                want,
                pre
            );
        }
    }
    Ok(())
}

fn any_quant() -> impl Strategy<Value = Quant> {
    (-3.0f64..0.5, -128i32..=127).prop_map(|(e, zero_point)| Quant {
        scale: 10f64.powf(e) as f32,
        zero_point,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn f32_smooth_match_f64(v in prop::collection::vec(-12.0f32..12.0, 1..64)) {
        // libm's f32 functions are within a few ulp: 1e-6 absolute plus 1e-6 relative.
        let close = |g: f32, w: f64| (g as f64 - w).abs() <= 1e-6 + 1e-6 * w.abs();
        let mut s = v.clone();
        sigmoid_f32(&mut s);
        let mut t = v.clone();
        tanh_f32(&mut t);
        let mut g = v.clone();
        gelu_f32(&mut g);
        for i in 0..v.len() {
            let x = v[i] as f64;
            prop_assert!(close(s[i], reference::sigmoid(x)), "sigmoid({})", x);
            prop_assert!(close(t[i], reference::tanh(x)), "tanh({})", x);
            prop_assert!(close(g[i], reference::gelu(x)), "gelu({}) = {} vs {}", x, g[i], reference::gelu(x));
        }
    }

    #[test]
    fn f32_piecewise_match_definition(v in prop::collection::vec(-10.0f32..10.0, 1..64), alpha in 0.0f32..1.0) {
        let mut r = v.clone();
        relu_f32(&mut r);
        let mut r6 = v.clone();
        relu6_f32(&mut r6);
        let mut l = v.clone();
        leaky_relu_f32(&mut l, alpha);
        for i in 0..v.len() {
            let x = v[i] as f64;
            prop_assert_eq!(r[i] as f64, x.max(0.0));
            prop_assert_eq!(r6[i] as f64, x.clamp(0.0, 6.0));
            // alpha * x is one f32 rounding of the exact product
            prop_assert_eq!(l[i], if x < 0.0 { (alpha as f64 * x) as f32 } else { v[i] });
        }
    }

    #[test]
    fn leaky_relu_s8_is_bit_exact(qi in any_quant(), qo in any_quant(), alpha in 0.0f32..1.0) {
        let input: Vec<i8> = (i8::MIN..=i8::MAX).collect();
        let p = LeakyReluParamsS8::new(qi.scale, qi.zero_point, alpha, qo.scale, qo.zero_point);
        let want = reference::leaky_relu_i8(qi, alpha, qo, &input);
        prop_assert_eq!(p.is_ok(), want.is_some());
        if let (Ok(p), Some(want)) = (p, want) {
            let mut out = vec![0i8; 256];
            leaky_relu_s8(&p, &input, &mut out).unwrap();
            prop_assert_eq!(out, want);
        }
    }

    #[test]
    fn relu6_range_matches_reference(e in -3.0f64..1.0, zp in -128i32..=127) {
        let scale = 10f64.powf(e) as f32;
        let got = relu6_range_s8(scale, zp).unwrap();
        let (min, max) = reference::relu6_range(scale, zp);
        prop_assert_eq!(got.min, min);
        // f32 and f64 division can only disagree when 6 / scale is within an ulp of a tie
        let t = 6.0 / scale as f64;
        if ((t - t.floor()) - 0.5).abs() > 1e-4 {
            prop_assert_eq!(got.max, max);
        }
        prop_assert_eq!(relu_range_s8(zp), ActivationS8 { min: zp as i8, max: 127 });
    }

    #[test]
    fn sigmoid_tanh_luts_match_f64(qi in any_quant()) {
        let lut = LutS8::sigmoid(qi.scale, qi.zero_point).unwrap();
        let qo = Quant { scale: SIGMOID_OUTPUT_SCALE, zero_point: SIGMOID_OUTPUT_ZERO_POINT };
        check_lut(&lut, qi, qo, reference::sigmoid)?;
        let lut = LutS8::tanh(qi.scale, qi.zero_point).unwrap();
        let qo = Quant { scale: TANH_OUTPUT_SCALE, zero_point: TANH_OUTPUT_ZERO_POINT };
        check_lut(&lut, qi, qo, reference::tanh)?;
    }

    #[test]
    fn gelu_lut_matches_f64(qi in any_quant(), qo in any_quant()) {
        let lut = LutS8::gelu(qi.scale, qi.zero_point, qo.scale, qo.zero_point).unwrap();
        check_lut(&lut, qi, qo, reference::gelu)?;
        // applying the table is a lookup of each element
        let mut x: Vec<i8> = (i8::MIN..=i8::MAX).collect();
        lut.apply(&mut x);
        for (q, y) in (i8::MIN..=i8::MAX).zip(&x) {
            prop_assert_eq!(*y, lut.0[q as u8 as usize]);
        }
    }
}
