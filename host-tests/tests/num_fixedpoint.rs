//! Tests of the gemmlowp-style fixed-point functions (`tinytune::num::fixedpoint`): hand-checked
//! points, dense sweeps against f64 with stated error bounds, and bit-exact agreement with the
//! independent wide-integer transcription in `reference::softmax`.

use proptest::prelude::*;
use tinytune::num::fixedpoint::*;
use tinytune_host_tests::reference::softmax as r;

/// 2^31: one in Q0.31.
const Q31: f64 = 2_147_483_648.0;

/// Real value of a raw fixed-point number with `integer_bits` integer bits.
fn real(raw: i32, integer_bits: i32) -> f64 {
    raw as f64 / 2f64.powi(31 - integer_bits)
}

// ---- hand-checked points ----

#[test]
fn exp_of_zero_is_one_raw() {
    // exp(0) = 1 is not representable in Q0.31; gemmlowp returns the largest value.
    for bits in [0, 1, 5, 12, 29] {
        assert_eq!(exp_on_negative_values(0, bits), i32::MAX);
    }
}

#[test]
fn exp_of_minus_one_quarter() {
    // -1/4 in Q5.26 is -2^24. Its low 24 bits are 0, so the argument reduction gives
    // t = 0 - 1/4 = -1/4 and nothing left for the barrel shifter: the result is the Taylor
    // polynomial at -1/4. exp(-0.25) = 0.778800783..., times 2^31 = 1672461947.3.
    let got = exp_on_negative_values(-(1 << 24), 5);
    assert!((got - 1_672_461_947).abs() <= 512, "{got}");
    // The same through the interval function directly (-1/4 in Q0.31 is -2^29).
    assert_eq!(
        exp_on_interval_between_negative_one_quarter_and_0_excl(-(1 << 29)),
        got
    );
}

#[test]
fn exp_of_minus_one() {
    // -1 in Q5.26 is -2^26 = -1/4 - 3/4: the polynomial gives exp(-1/4) and the remainder 3/4 has
    // the 1/4 and 1/2 bits set, multiplying by exp(-1/4) and exp(-1/2). exp(-1) * 2^31 =
    // 0.367879441 * 2147483648 = 790015084.4.
    let got = exp_on_negative_values(-(1 << 26), 5);
    assert!((got - 790_015_084).abs() <= 512, "{got}");
}

#[test]
fn exp_of_minus_eight_and_below_range() {
    // exp(-8) * 2^31 = 0.000335462628 * 2147483648 = 720401.4 (gemmlowp's constant for 2^3).
    let got = exp_on_negative_values(-(8 << 26), 5);
    assert!((got - 720_401).abs() <= 4, "{got}");
    // The most negative Q5.26 value is -32: exp(-32) * 2^31 = 2.7e-5, i.e. 0.
    assert_eq!(exp_on_negative_values(i32::MIN, 5), 0);
    // With 6 integer bits, inputs below -32 are cut to 0: -40 in Q6.25.
    assert_eq!(exp_on_negative_values(-40 << 25, 6), 0);
}

#[test]
fn one_over_one_plus_x_points() {
    // 1/(1+0) = 1 saturates just below 1.
    let one = one_over_one_plus_x_for_x_in_0_1(0);
    assert!(one >= i32::MAX - 8, "{one}");
    // 1/(1 + 1/2) = 2/3; 2/3 * 2^31 = 1431655765.3.
    let two_thirds = one_over_one_plus_x_for_x_in_0_1(1 << 30);
    assert!((two_thirds - 1_431_655_765).abs() <= 8, "{two_thirds}");
    // 1/(1 + 3/4) = 4/7; 4/7 * 2^31 = 1227133513.1.
    let four_sevenths = one_over_one_plus_x_for_x_in_0_1(3 << 29);
    assert!(
        (four_sevenths - 1_227_133_513).abs() <= 8,
        "{four_sevenths}"
    );
}

#[test]
fn reciprocal_points() {
    // 1.0 in Q12.19 is 2^19: 12 leading zeros, no bits over the unit, f = 0 -> 1/(1+0).
    let (scale, over) = get_reciprocal(1 << 19, 12);
    assert_eq!(over, 0);
    assert!(scale >= i32::MAX - 8);
    // 3.0 = 1.5 * 2^1: one bit over the unit, f = 1/2 -> 2/3, and 1/3 = 2/3 * 2^-1.
    let (scale, over) = get_reciprocal(3 << 19, 12);
    assert_eq!(over, 1);
    assert!((scale - 1_431_655_765).abs() <= 8, "{scale}");
    // 10.0 = 1.25 * 2^3: 1/(1.25) = 0.8; 0.8 * 2^31 = 1717986918.4.
    let (scale, over) = get_reciprocal(10 << 19, 12);
    assert_eq!(over, 3);
    assert!((scale - 1_717_986_918).abs() <= 8, "{scale}");
}

#[test]
fn log_points() {
    // ln(1) = 0.
    assert_eq!(log_x_for_x_greater_than_or_equal_to_1(1 << 19, 12, 5), 0);
    // ln(2) in Q5.26: 0.693147181 * 2^26 = 46516320.4.
    let ln2 = log_x_for_x_greater_than_or_equal_to_1(2 << 19, 12, 5);
    assert!((ln2 - 46_516_320).abs() <= 4, "{ln2}");
    // ln(e) = 1 is 2^26 in Q5.26. e * 2^19 = 1425162.54 rounds to 1425163, whose ln is
    // 1 + 0.46/1425162.5 = 1 + 3.2e-7, i.e. 2^26 + 21.5 steps.
    let ln_e = log_x_for_x_greater_than_or_equal_to_1(1_425_163, 12, 5);
    assert!((ln_e - (1 << 26)).abs() <= 32, "{ln_e}");
}

#[test]
fn rescale_and_helpers() {
    // 1.5 in Q0.31 cannot exist; 0.75 in Q0.31 is 3 * 2^29, in Q2.29 it is 3 * 2^27.
    assert_eq!(rescale(3 << 29, 0, 2), 3 << 27);
    assert_eq!(rescale(3 << 27, 2, 0), 3 << 29);
    // Moving 3.0 (Q2.29) to Q0.31 saturates.
    assert_eq!(rescale(3 << 29, 2, 0), i32::MAX);
    assert_eq!(rescale(-(3 << 29), 2, 0), i32::MIN);
    // Rounding to nearest, ties away from zero: 5 / 2 = 2.5 -> 3, -5 / 2 -> -3.
    assert_eq!(saturating_rounding_multiply_by_pot(5, -1), 3);
    assert_eq!(saturating_rounding_multiply_by_pot(-5, -1), -3);
    assert_eq!(rounding_half_sum(3, 4), 4);
    assert_eq!(rounding_half_sum(-3, -4), -4);
    assert_eq!(rounding_half_sum(i32::MAX, i32::MAX), i32::MAX);
    // 0.5 * 0.5 = 0.25 in Q0.31.
    assert_eq!(mul(1 << 30, 1 << 30), 1 << 29);
    assert_eq!(one(0), i32::MAX);
    assert_eq!(one(5), 1 << 26);
}

// ---- dense sweeps against f64 ----

/// Largest absolute error of `exp_on_negative_values` over Q5.26 (the softmax input format), in
/// Q0.31 steps: 512 (about 2.4e-7).
const EXP_MAX_ERROR_LSB: f64 = 512.0;

#[test]
fn exp_on_negative_values_whole_q5_domain() {
    // Every 997th value of [-32, 0], about 2.2 million points, plus the end points.
    let mut a = 0i64;
    let mut worst = 0f64;
    while a >= i32::MIN as i64 {
        let got = exp_on_negative_values(a as i32, 5) as f64;
        let want = real(a as i32, 5).exp() * Q31;
        worst = worst.max((got - want).abs());
        a -= 997;
    }
    let at_min = exp_on_negative_values(i32::MIN, 5) as f64;
    worst = worst.max(at_min - (-32f64).exp() * Q31);
    assert!(worst <= EXP_MAX_ERROR_LSB, "max error {worst} LSB");
}

#[test]
fn exp_on_negative_values_other_formats() {
    // The same bound holds for other integer-bit counts on their whole domains.
    for bits in [0, 1, 2, 3, 4, 6, 8, 12] {
        let step = 1_000_003i64;
        let mut a = 0i64;
        while a >= i32::MIN as i64 {
            let got = exp_on_negative_values(a as i32, bits) as f64;
            let want = real(a as i32, bits).exp() * Q31;
            assert!(
                (got - want).abs() <= EXP_MAX_ERROR_LSB,
                "bits {bits} a {a}: {got} vs {want}"
            );
            a -= step;
        }
    }
}

#[test]
fn one_over_one_plus_x_whole_domain() {
    // Max error 8 Q0.31 steps (about 4e-9) over [0, 1).
    let mut a = 0i64;
    while a <= i32::MAX as i64 {
        let got = one_over_one_plus_x_for_x_in_0_1(a as i32) as f64;
        let want = Q31 / (1.0 + a as f64 / Q31);
        assert!((got - want).abs() <= 8.0, "a {a}: {got} vs {want}");
        a += 1009;
    }
}

#[test]
fn reciprocal_whole_q12_range() {
    // Relative error at most 1e-8 for every sum of exponentials softmax can produce ([1, 4096)).
    let mut x = 1i64 << 19;
    while x <= i32::MAX as i64 {
        let (scale, over) = get_reciprocal(x as i32, 12);
        let got = scale as f64 / Q31 * 2f64.powi(-over);
        let want = 1.0 / real(x as i32, 12);
        assert!((got / want - 1.0).abs() <= 1e-8, "x {x}: {got} vs {want}");
        x += 1013;
    }
}

#[test]
fn log_whole_q12_range() {
    // Absolute error at most 4 Q5.26 steps (6e-8) for ln of [1, 4096).
    let mut x = 1i64 << 19;
    while x <= i32::MAX as i64 {
        let got = log_x_for_x_greater_than_or_equal_to_1(x as i32, 12, 5) as f64;
        let want = real(x as i32, 12).ln() * 2f64.powi(26);
        assert!((got - want).abs() <= 4.0, "x {x}: {got} vs {want}");
        x += 1013;
    }
}

// ---- bit-exact against the wide-integer transcription ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn exp_matches_reference(a in i32::MIN..=0, bits in 0i32..=29) {
        prop_assert_eq!(exp_on_negative_values(a, bits), r::exp_negative(a, bits as u32));
    }

    #[test]
    fn exp_interval_matches_reference(a in -(1i32 << 29)..0) {
        prop_assert_eq!(
            exp_on_interval_between_negative_one_quarter_and_0_excl(a),
            r::exp_quarter(a)
        );
    }

    #[test]
    fn one_over_matches_reference(a in 0..=i32::MAX) {
        prop_assert_eq!(one_over_one_plus_x_for_x_in_0_1(a), r::one_over_one_plus_x(a));
    }

    #[test]
    fn reciprocal_matches_reference(x in 1..=i32::MAX, bits in 0i32..=20) {
        prop_assert_eq!(get_reciprocal(x, bits), r::reciprocal(x, bits));
    }

    #[test]
    fn log_matches_reference(x in 1..=i32::MAX, io in prop::sample::select(vec![(12, 5), (5, 3), (20, 5), (0, 1), (30, 6)])) {
        prop_assert_eq!(
            log_x_for_x_greater_than_or_equal_to_1(x, io.0, io.1),
            r::log_x(x, io.0, io.1)
        );
    }

    #[test]
    fn mul_and_rescale_match_reference(a in any::<i32>(), b in any::<i32>(), e in -31i32..=31) {
        prop_assert_eq!(mul(a, b), r::srdhm(a, b));
        prop_assert_eq!(saturating_rounding_multiply_by_pot(a, e) as i64, r::mul_pot(a as i64, e));
    }

    #[test]
    fn no_panic_on_any_input(a in any::<i32>(), bits in any::<i32>()) {
        // Outside their domains the functions return something defined, never panic.
        let _ = exp_on_negative_values(a, bits);
        let _ = exp_on_interval_between_negative_one_quarter_and_0_excl(a);
        let _ = one_over_one_plus_x_for_x_in_0_1(a);
        let _ = get_reciprocal(a, bits);
        let _ = log_x_for_x_greater_than_or_equal_to_1(a, bits, bits);
        let _ = rescale(a, bits, -bits);
        let _ = one(bits);
    }
}
