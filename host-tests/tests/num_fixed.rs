//! Fixed-point primitives and Q7/Q15/Q31 against exact i128 references and hand-worked values.

use proptest::prelude::*;
use tinytune::num::fixed::{
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul as srdhm, Q15, Q31, Q7,
};
use tinytune_host_tests::reference::num as r;

/// Edge values of i32: both ends, around zero, around the powers of two that matter.
fn edges() -> Vec<i32> {
    let mut v = vec![
        i32::MIN,
        i32::MIN + 1,
        i32::MAX,
        i32::MAX - 1,
        0,
        1,
        -1,
        2,
        -2,
    ];
    for k in [15, 16, 29, 30] {
        let p = 1i32 << k;
        v.extend([p, p - 1, p + 1, -p, -p - 1, -p + 1]);
    }
    v
}

#[test]
fn srdhm_hand_cases() {
    // MIN * MIN = +1.0 is not representable: saturates.
    assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
    // MIN * MAX = -(2^31 - 1)/2^31 * 2^31 = -(2^31 - 1), exact.
    assert_eq!(srdhm(i32::MIN, i32::MAX), -i32::MAX);
    // 2^30 * 2^30 * 2 / 2^32 = 2^29.
    assert_eq!(srdhm(1 << 30, 1 << 30), 1 << 29);
    // 1 * 2^30: 2^31 / 2^32 = 0.5 -> rounds up to 1.
    assert_eq!(srdhm(1, 1 << 30), 1);
    // -1 * 2^30: -0.5 -> ties go toward +inf: 0 (gemmlowp's nudge 1 - 2^30).
    assert_eq!(srdhm(-1, 1 << 30), 0);
    // -3 * 2^30: -1.5 -> -1.
    assert_eq!(srdhm(-3, 1 << 30), -1);
    // 3 * 2^30: 1.5 -> 2.
    assert_eq!(srdhm(3, 1 << 30), 2);
    // -1 * (2^30 + 1): -0.5000000005 -> -1.
    assert_eq!(srdhm(-1, (1 << 30) + 1), -1);
    assert_eq!(srdhm(0, i32::MIN), 0);
}

#[test]
fn srdhm_edges_exhaustive() {
    let e = edges();
    for &a in &e {
        for &b in &e {
            assert_eq!(srdhm(a, b), r::srdhm(a, b), "srdhm({a}, {b})");
        }
    }
}

#[test]
fn rdbpot_hand_cases() {
    // 5 / 2 = 2.5 -> 3; -5 / 2 = -2.5 -> -3 (ties away from zero).
    assert_eq!(rounding_divide_by_pot(5, 1), 3);
    assert_eq!(rounding_divide_by_pot(-5, 1), -3);
    // 7 / 4 = 1.75 -> 2; -7 / 4 -> -2; 6 / 4 = 1.5 -> 2; -6/4 -> -2; 5/4 = 1.25 -> 1.
    assert_eq!(rounding_divide_by_pot(7, 2), 2);
    assert_eq!(rounding_divide_by_pot(-7, 2), -2);
    assert_eq!(rounding_divide_by_pot(6, 2), 2);
    assert_eq!(rounding_divide_by_pot(-6, 2), -2);
    assert_eq!(rounding_divide_by_pot(5, 2), 1);
    assert_eq!(rounding_divide_by_pot(-5, 2), -1);
    // exponent 0 is the identity.
    assert_eq!(rounding_divide_by_pot(i32::MIN, 0), i32::MIN);
    // exponent 31: MIN / 2^31 = -1 exactly; MAX / 2^31 = 0.99.. -> 1; 2^30 / 2^31 = 0.5 -> 1;
    // -2^30 / 2^31 = -0.5 -> -1; 2^30 - 1 -> 0.
    assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
    assert_eq!(rounding_divide_by_pot(1 << 30, 31), 1);
    assert_eq!(rounding_divide_by_pot(-(1 << 30), 31), -1);
    assert_eq!(rounding_divide_by_pot((1 << 30) - 1, 31), 0);
    // exponents outside 0..=31 are clamped.
    assert_eq!(rounding_divide_by_pot(7, -3), 7);
    assert_eq!(rounding_divide_by_pot(i32::MIN, 40), -1);
}

#[test]
fn rdbpot_edges_exhaustive() {
    for &x in &edges() {
        for e in -2..=33 {
            assert_eq!(
                rounding_divide_by_pot(x, e),
                r::rdbpot(x, e),
                "rdbpot({x}, {e})"
            );
        }
    }
}

#[test]
fn q_constants_and_hand_cases() {
    assert_eq!((Q7::ZERO.0, Q7::MAX.0, Q7::MIN.0), (0, 127, -128));
    assert_eq!((Q15::MAX.0, Q15::MIN.0), (i16::MAX, i16::MIN));
    assert_eq!((Q31::MAX.0, Q31::MIN.0), (i32::MAX, i32::MIN));
    // 0.5 * 0.5 = 0.25: Q7 64 * 64 = 4096, / 128 = 32.
    assert_eq!(Q7(64).saturating_mul(Q7(64)), Q7(32));
    // -1 * -1 saturates.
    assert_eq!(Q7::MIN.saturating_mul(Q7::MIN), Q7::MAX);
    assert_eq!(Q15::MIN.saturating_mul(Q15::MIN), Q15::MAX);
    assert_eq!(Q31::MIN.saturating_mul(Q31::MIN), Q31::MAX);
    // Q7: 1 * 64 = 64 / 128 = 0.5 -> 1 (half up); -1 * 64 -> -0.5 -> 0; 3 * 64 -> 1.5 -> 2.
    assert_eq!(Q7(1).saturating_mul(Q7(64)), Q7(1));
    assert_eq!(Q7(-1).saturating_mul(Q7(64)), Q7(0));
    assert_eq!(Q7(3).saturating_mul(Q7(64)), Q7(2));
    // -1 * x = -x except that -1 * -1 clips.
    assert_eq!(Q15::MIN.saturating_mul(Q15(1000)), Q15(-1000));
    // saturating add/sub.
    assert_eq!(Q7(100).saturating_add(Q7(100)), Q7::MAX);
    assert_eq!(Q7(-100).saturating_sub(Q7(100)), Q7::MIN);
    assert_eq!(Q15(3).saturating_sub(Q15(5)), Q15(-2));
    assert_eq!(Q31::MAX.saturating_add(Q31(1)), Q31::MAX);
    // conversions: 0.5 -> 64 in Q7; 1.0 saturates; -1.0 exact; NaN -> 0; inf saturates.
    assert_eq!(Q7::from_f32(0.5), Q7(64));
    assert_eq!(Q7::from_f32(1.0), Q7::MAX);
    assert_eq!(Q7::from_f32(-1.0), Q7::MIN);
    assert_eq!(Q7::from_f32(-2.0), Q7::MIN);
    assert_eq!(Q7::from_f32(f32::NAN), Q7::ZERO);
    assert_eq!(Q15::from_f32(f32::INFINITY), Q15::MAX);
    assert_eq!(Q31::from_f32(f32::NEG_INFINITY), Q31::MIN);
    assert_eq!(Q31::from_f32(1.0), Q31::MAX);
    assert_eq!(Q31::from_f32(0.25), Q31(1 << 29));
    // 1.5/128 = ties away from zero -> 2; -1.5/128 -> -2; 0.4/128 -> 0.
    assert_eq!(Q7::from_f32(1.5 / 128.0), Q7(2));
    assert_eq!(Q7::from_f32(-1.5 / 128.0), Q7(-2));
    assert_eq!(Q7::from_f32(0.4 / 128.0), Q7(0));
    assert_eq!(Q15(-16384).to_f32(), -0.5);
    assert_eq!(Q7::MIN.to_f32(), -1.0);
    assert_eq!(Q31(1 << 30).to_f32(), 0.5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn srdhm_matches_reference(a in any::<i32>(), b in any::<i32>()) {
        prop_assert_eq!(srdhm(a, b), r::srdhm(a, b));
    }

    #[test]
    fn rdbpot_matches_reference(x in any::<i32>(), e in -4i32..36) {
        prop_assert_eq!(rounding_divide_by_pot(x, e), r::rdbpot(x, e));
    }

    #[test]
    fn q7_matches_reference(a in any::<i8>(), b in any::<i8>()) {
        let (qa, qb) = (Q7(a), Q7(b));
        prop_assert_eq!(qa.saturating_mul(qb).0 as i64, r::q_mul(a as i64, b as i64, 7, -128, 127));
        prop_assert_eq!(qa.saturating_add(qb).0 as i64, (a as i64 + b as i64).clamp(-128, 127));
        prop_assert_eq!(qa.saturating_sub(qb).0 as i64, (a as i64 - b as i64).clamp(-128, 127));
        // to_f32 is exact and from_f32 inverts it.
        prop_assert_eq!(qa.to_f32() as f64, a as f64 / 128.0);
        prop_assert_eq!(Q7::from_f32(qa.to_f32()), qa);
    }

    #[test]
    fn q15_matches_reference(a in any::<i16>(), b in any::<i16>()) {
        let (qa, qb) = (Q15(a), Q15(b));
        let (lo, hi) = (i16::MIN as i64, i16::MAX as i64);
        prop_assert_eq!(qa.saturating_mul(qb).0 as i64, r::q_mul(a as i64, b as i64, 15, lo, hi));
        prop_assert_eq!(qa.saturating_add(qb).0 as i64, (a as i64 + b as i64).clamp(lo, hi));
        prop_assert_eq!(qa.saturating_sub(qb).0 as i64, (a as i64 - b as i64).clamp(lo, hi));
        prop_assert_eq!(qa.to_f32() as f64, a as f64 / 32768.0);
        prop_assert_eq!(Q15::from_f32(qa.to_f32()), qa);
    }

    #[test]
    fn q31_matches_reference(a in any::<i32>(), b in any::<i32>()) {
        let (qa, qb) = (Q31(a), Q31(b));
        let (lo, hi) = (i32::MIN as i64, i32::MAX as i64);
        prop_assert_eq!(qa.saturating_mul(qb).0 as i64, r::q_mul(a as i64, b as i64, 31, lo, hi));
        prop_assert_eq!(qa.saturating_mul(qb).0, srdhm(a, b));
        prop_assert_eq!(qa.saturating_add(qb).0 as i64, (a as i64 + b as i64).clamp(lo, hi));
        prop_assert_eq!(qa.saturating_sub(qb).0 as i64, (a as i64 - b as i64).clamp(lo, hi));
        // to_f32 is the nearest f32 to a / 2^31 (within half an ulp of the f32 result).
        let t = qa.to_f32() as f64;
        let exact = a as f64 / 2f64.powi(31);
        prop_assert!((t - exact).abs() <= (t.abs() * f32::EPSILON as f64 / 2.0) + 1e-45);
    }

    #[test]
    fn q_from_f32_matches_reference(x in prop_oneof![-1.5f32..1.5, any::<f32>()]) {
        prop_assert_eq!(Q7::from_f32(x).0 as i64, r::q_from_f32(x, 7, -128, 127));
        prop_assert_eq!(Q15::from_f32(x).0 as i64, r::q_from_f32(x, 15, i16::MIN as i64, i16::MAX as i64));
        prop_assert_eq!(Q31::from_f32(x).0 as i64, r::q_from_f32(x, 31, i32::MIN as i64, i32::MAX as i64));
    }
}
