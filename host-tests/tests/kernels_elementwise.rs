//! Elementwise kernels: hand-worked cases, random values against the references, error paths.

use proptest::prelude::*;
use tinytune::kernels::generic::elementwise::*;
use tinytune::kernels::{ActivationF32, ActivationS8};
use tinytune::{Buffer, QuantError, ShapeError};
use tinytune_host_tests::reference::elementwise::{self as reference, Quant};

#[test]
fn f32_add_mul_by_hand() {
    let a = [1.0f32, 2.0, -3.0, 0.25];
    let b = [0.5f32, -4.0, 1.0, 8.0];
    let mut out = [0.0f32; 4];
    add_f32(&a, &b, ActivationF32::NONE, &mut out).unwrap();
    assert_eq!(out, [1.5, -2.0, -2.0, 8.25]);
    add_f32(&a, &b, ActivationF32::RELU6, &mut out).unwrap();
    assert_eq!(out, [1.5, 0.0, 0.0, 6.0]);
    mul_f32(&a, &b, ActivationF32::NONE, &mut out).unwrap();
    assert_eq!(out, [0.5, -8.0, -3.0, 2.0]);
    mul_f32(&a, &b, ActivationF32::RELU, &mut out).unwrap();
    assert_eq!(out, [0.5, 0.0, 0.0, 2.0]);
}

#[test]
fn add_s8_by_hand() {
    // s1 = s2 = 0.5, s_out = 1, zero points 0: twice_max = 1, input multipliers 0.5
    // (2^30, shift 0), output multiplier 2^-20 (2^30, shift -19).
    // 3 + 4:  (3 << 20) * 0.5 = 3 * 2^19, (4 << 20) * 0.5 = 4 * 2^19, sum 7 * 2^19,
    //         * 2^-20 = 3.5 -> 4 (the final right shift rounds ties away from zero)
    // -3 + -4: -3.5 -> -4;  10 + -10: 0;  127 + 127: 127 exactly
    let p = AddParamsS8::new(0.5, 0, 0.5, 0, 1.0, 0, ActivationS8::NONE).unwrap();
    let mut out = [0i8; 4];
    add_s8(&p, &[3, -3, 10, 127], &[4, -4, -10, 127], &mut out).unwrap();
    assert_eq!(out, [4, -4, 0, 127]);

    // zero points: input 1 zp 10 (13 means 3), input 2 zp -4 (0 means 4), output zp -100:
    // real (3 + 4) * 0.5 = 3.5 -> 4, + (-100) = -96. Clamped to [-98, 0]: -96.
    let act = ActivationS8 { min: -98, max: 0 };
    let p = AddParamsS8::new(0.5, 10, 0.5, -4, 1.0, -100, act).unwrap();
    let mut out = [0i8; 2];
    add_s8(&p, &[13, -128], &[0, -128], &mut out).unwrap();
    // second: (-138 - 124) * 0.5 = -131 -> -231 -> clamped to -98
    assert_eq!(out, [-96, -98]);

    // different scales: s1 = 1, s2 = 0.25, s_out = 0.5: twice_max = 2, multipliers 1/2 and 1/8,
    // output 2 / (2^20 * 0.5). 3 * 1 + 8 * 0.25 = 5 real -> 10 quantized.
    let p = AddParamsS8::new(1.0, 0, 0.25, 0, 0.5, 0, ActivationS8::NONE).unwrap();
    let mut out = [0i8; 1];
    add_s8(&p, &[3], &[8], &mut out).unwrap();
    assert_eq!(out, [10]);
}

#[test]
fn mul_s8_by_hand() {
    // s1 = 0.5, s2 = 0.25, s_out = 0.125: multiplier 1.0 = 2^30 * 2^1 / 2^31.
    // 3 * 5 = 15, exact; with output zp -5: 10. 127 * 127 saturates to 127.
    let p = MulParamsS8::new(0.5, 0, 0.25, 0, 0.125, -5, ActivationS8::NONE).unwrap();
    let mut out = [0i8; 3];
    mul_s8(&p, &[3, 127, -128], &[5, 127, 127], &mut out).unwrap();
    assert_eq!(out, [10, 127, -128]);

    // s1 = s2 = 0.5, s_out = 1: multiplier 0.25 = 2^30 * 2^-1 / 2^31.
    // 3 * 1 = 3: high mul 3 * 2^30 / 2^31 = 1.5 -> 2, then 2 / 2 = 1   (real 0.75 -> 1)
    // -3 * 1 = -3: high mul -1.5 -> -1 (ties toward +inf), then -1 / 2 = -0.5 -> -1
    // 2 * 1 = 2: 1, then 0.5 -> 1 (real 0.5, tie rounded away from zero)
    let p = MulParamsS8::new(0.5, 0, 0.5, 0, 1.0, 0, ActivationS8::NONE).unwrap();
    let mut out = [0i8; 3];
    mul_s8(&p, &[3, -3, 2], &[1, 1, 1], &mut out).unwrap();
    assert_eq!(out, [1, -1, 1]);

    // zero points: zp1 = 1 (4 means 3), zp2 = -2 (0 means 2): 3 * 2 * 0.25 = 1.5 -> 2, with
    // ReLU-style clamp [0, 127]; -4 means -5: -5 * 2 * 0.25 = -2.5 -> clamped to 0.
    let act = ActivationS8 { min: 0, max: 127 };
    let p = MulParamsS8::new(0.5, 1, 0.5, -2, 1.0, 0, act).unwrap();
    let mut out = [9i8; 2];
    mul_s8(&p, &[4, -4], &[0, 0], &mut out).unwrap();
    assert_eq!(out, [2, 0]);
}

#[test]
fn parameter_errors() {
    let n = ActivationS8::NONE;
    assert_eq!(
        AddParamsS8::new(0.0, 0, 1.0, 0, 1.0, 0, n),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        AddParamsS8::new(1.0, 0, f32::NAN, 0, 1.0, 0, n),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        AddParamsS8::new(1.0, 0, 1.0, 0, f32::INFINITY, 0, n),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        AddParamsS8::new(1.0, 128, 1.0, 0, 1.0, 0, n),
        Err(QuantError::InvalidZeroPoint)
    );
    assert_eq!(
        AddParamsS8::new(1.0, 0, 1.0, 0, 1.0, -129, n),
        Err(QuantError::InvalidZeroPoint)
    );
    // output multiplier 2 / (2^20 * 1e-9) >= 1: not representable as TFLite's add needs
    assert_eq!(
        AddParamsS8::new(1.0, 0, 1.0, 0, 1e-9, 0, n),
        Err(QuantError::InvalidMultiplier)
    );
    assert_eq!(
        MulParamsS8::new(-1.0, 0, 1.0, 0, 1.0, 0, n),
        Err(QuantError::InvalidScale)
    );
    assert_eq!(
        MulParamsS8::new(1.0, 0, 1.0, 200, 1.0, 0, n),
        Err(QuantError::InvalidZeroPoint)
    );
    // 1e20 * 1e20 overflows f32 to infinity
    assert_eq!(
        MulParamsS8::new(1e20, 0, 1e20, 0, 1.0, 0, n),
        Err(QuantError::InvalidMultiplier)
    );
    // 2^30 is one past the largest representable multiplier
    assert_eq!(
        MulParamsS8::new(32768.0, 0, 32768.0, 0, 1.0, 0, n),
        Err(QuantError::InvalidMultiplier)
    );
}

#[test]
fn length_errors_write_nothing() {
    let mut out = [5.0f32; 3];
    assert_eq!(
        add_f32(&[1.0; 3], &[1.0; 2], ActivationF32::NONE, &mut out),
        Err(ShapeError::Length {
            buffer: Buffer::Input2,
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(
        mul_f32(&[1.0; 3], &[1.0; 3], ActivationF32::NONE, &mut out[..2]),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 3,
            actual: 2
        })
    );
    assert_eq!(out, [5.0; 3]);

    let pa = AddParamsS8::new(1.0, 0, 1.0, 0, 1.0, 0, ActivationS8::NONE).unwrap();
    let pm = MulParamsS8::new(1.0, 0, 1.0, 0, 1.0, 0, ActivationS8::NONE).unwrap();
    let mut q = [5i8; 3];
    assert_eq!(
        add_s8(&pa, &[1; 3], &[1; 4], &mut q),
        Err(ShapeError::Length {
            buffer: Buffer::Input2,
            expected: 3,
            actual: 4
        })
    );
    assert_eq!(
        mul_s8(&pm, &[1; 2], &[1; 2], &mut q),
        Err(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 2,
            actual: 3
        })
    );
    assert_eq!(q, [5; 3]);
    // empty slices are a valid (empty) elementwise operation
    assert_eq!(add_s8(&pa, &[], &[], &mut []), Ok(()));
}

#[test]
fn inverted_activation_range_does_not_panic() {
    let act = ActivationS8 { min: 10, max: -10 };
    let p = AddParamsS8::new(1.0, 0, 1.0, 0, 1.0, 0, act).unwrap();
    let mut out = [0i8; 2];
    add_s8(&p, &[1, 100], &[1, 20], &mut out).unwrap();
    assert_eq!(out, [-10, -10]);
}

/// Scales spread over three decades, zero points over the whole int8 range.
fn any_quant() -> impl Strategy<Value = Quant> {
    (-3.0f64..0.0, -128i32..=127).prop_map(|(e, zero_point)| Quant {
        scale: 10f64.powf(e) as f32,
        zero_point,
    })
}

fn any_act() -> impl Strategy<Value = (i8, i8)> {
    prop_oneof![
        Just((i8::MIN, i8::MAX)),
        (any::<i8>(), any::<i8>()).prop_map(|(a, b)| (a.min(b), a.max(b))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn f32_add_mul_are_correctly_rounded(
        v in prop::collection::vec((-1e3f32..1e3, -1e3f32..1e3), 0..40), relu in any::<bool>(),
    ) {
        // The exact f64 sum / product rounded once to f32 is what IEEE f32 arithmetic returns,
        // so the tolerance is zero.
        let (a, b): (Vec<f32>, Vec<f32>) = v.into_iter().unzip();
        let act = if relu { ActivationF32::RELU } else { ActivationF32::NONE };
        let mut out = vec![0.0f32; a.len()];
        add_f32(&a, &b, act, &mut out).unwrap();
        for (g, w) in out.iter().zip(reference::add_f64(&a, &b, act.min, act.max)) {
            prop_assert_eq!(*g, w as f32);
        }
        mul_f32(&a, &b, act, &mut out).unwrap();
        for (g, w) in out.iter().zip(reference::mul_f64(&a, &b, act.min, act.max)) {
            prop_assert_eq!(*g, w as f32);
        }
    }

    #[test]
    fn add_s8_is_bit_exact(
        q1 in any_quant(), q2 in any_quant(), qo in any_quant(), act in any_act(),
        v in prop::collection::vec((any::<i8>(), any::<i8>()), 1..64),
    ) {
        let (a, b): (Vec<i8>, Vec<i8>) = v.into_iter().unzip();
        let ta = ActivationS8 { min: act.0, max: act.1 };
        let p = AddParamsS8::new(q1.scale, q1.zero_point, q2.scale, q2.zero_point, qo.scale, qo.zero_point, ta);
        let want = reference::add_i8(q1, q2, qo, act, &a, &b);
        prop_assert_eq!(p.is_ok(), want.is_some());
        if let (Ok(p), Some(want)) = (p, want) {
            let mut out = vec![0i8; a.len()];
            add_s8(&p, &a, &b, &mut out).unwrap();
            prop_assert_eq!(out, want);
        }
    }

    #[test]
    fn mul_s8_is_bit_exact(
        q1 in any_quant(), q2 in any_quant(), qo in any_quant(), act in any_act(),
        v in prop::collection::vec((any::<i8>(), any::<i8>()), 1..64),
    ) {
        let (a, b): (Vec<i8>, Vec<i8>) = v.into_iter().unzip();
        let ta = ActivationS8 { min: act.0, max: act.1 };
        let p = MulParamsS8::new(q1.scale, q1.zero_point, q2.scale, q2.zero_point, qo.scale, qo.zero_point, ta);
        let want = reference::mul_i8(q1, q2, qo, act, &a, &b);
        prop_assert_eq!(p.is_ok(), want.is_some());
        if let (Ok(p), Some(want)) = (p, want) {
            let mut out = vec![0i8; a.len()];
            mul_s8(&p, &a, &b, &mut out).unwrap();
            prop_assert_eq!(out, want);
        }
    }

    #[test]
    fn add_s8_is_close_to_real_add(
        q1 in any_quant(), q2 in any_quant(), a in any::<i8>(), b in any::<i8>(),
    ) {
        // Independent of any rounding detail: with the output on the larger input scale, the
        // result is within one step of the real sum, or saturated.
        let qo = Quant { scale: q1.scale.max(q2.scale), zero_point: 0 };
        let p = AddParamsS8::new(q1.scale, q1.zero_point, q2.scale, q2.zero_point, qo.scale, 0, ActivationS8::NONE).unwrap();
        let mut out = [0i8];
        add_s8(&p, &[a], &[b], &mut out).unwrap();
        let real = (a as f64 - q1.zero_point as f64) * q1.scale as f64
            + (b as f64 - q2.zero_point as f64) * q2.scale as f64;
        let ideal = (real / qo.scale as f64).clamp(-128.0, 127.0);
        prop_assert!((out[0] as f64 - ideal).abs() <= 1.0, "got {} ideal {}", out[0], ideal);
    }
}

#[test]
fn reference_primitives_by_hand() {
    // floor((a b + 2^30) / 2^31): 2^30 * 3 -> 1.5 -> 2; -1.5 -> -1; MIN * MIN saturates.
    assert_eq!(reference::srdhm(1 << 30, 3), 2);
    assert_eq!(reference::srdhm(1 << 30, -3), -1);
    assert_eq!(
        reference::srdhm(i32::MIN as i64, i32::MIN as i64),
        i32::MAX as i64
    );
    // ties away from zero
    assert_eq!(reference::rounding_divide_by_pot(5, 1), 3);
    assert_eq!(reference::rounding_divide_by_pot(-5, 1), -3);
    assert_eq!(reference::rounding_divide_by_pot(-5, 2), -1);
    assert_eq!(reference::quantize_multiplier(1.0), Some((1 << 30, 1)));
    assert_eq!(reference::quantize_multiplier(0.25), Some((1 << 30, -1)));
    assert_eq!(reference::quantize_multiplier(0.0), Some((0, 0)));
    assert_eq!(reference::quantize_multiplier(-1.0), None);
}
