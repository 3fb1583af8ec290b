//! The requantizer (`QuantizeMultiplier` + double-rounding `MultiplyByQuantizedMultiplier`)
//! against an exact i128 reference, TFLite's published test values and edge cases.

use proptest::prelude::*;
use tinytune::num::quant::Requantizer;
use tinytune::QuantError;
use tinytune_host_tests::reference::num as r;
use tinytune_host_tests::rng::SplitMix64;

fn rq(real: f64) -> Requantizer {
    Requantizer::from_real(real).unwrap()
}

fn pair(real: f64) -> (i32, i32) {
    let q = rq(real);
    (q.multiplier, q.shift)
}

/// Accumulators at the edges of i32 and around zero.
const ACCS: [i32; 12] = [
    i32::MIN,
    i32::MIN + 1,
    i32::MAX,
    i32::MAX - 1,
    0,
    1,
    -1,
    2,
    -2,
    1 << 20,
    -(1 << 20),
    123_456_789,
];

fn check_against_reference(real: f64) {
    let q = rq(real);
    let (m, s) = r::quantize_multiplier(real).expect("representable");
    assert_eq!((q.multiplier, q.shift), (m, s), "from_real({real:e})");
    for &x in &ACCS {
        assert_eq!(
            q.apply(x),
            r::multiply_by_quantized_multiplier(x, m, s),
            "apply({x}) for {real:e}"
        );
    }
}

#[test]
fn published_tflite_values() {
    // From TFLite's quantization_util_test.cc (QuantizeMultiplierArray, ...Underflow,
    // ...GreaterThanOne, ...SmallerThanOneExp).
    for (real, expected) in [
        (0.0, (0, 0)),
        (0.125, (1_073_741_824, -2)),
        (0.25, (1_073_741_824, -1)),
        (0.5, (1_073_741_824, 0)),
        (1.0, (1_073_741_824, 1)),
        (2.0, (1_073_741_824, 2)),
        (4.0, (1_073_741_824, 3)),
        (2f64.powi(-31), (1_073_741_824, -30)),
        (2f64.powi(-32), (1_073_741_824, -31)),
        ((0.99f32 as f64) * 2f64.powi(-32), (0, 0)),
        (2f64.powi(-33), (0, 0)),
        (1.0 + 1e-11, (1_073_741_824, 1)),
        (1.25, (1_342_177_280, 1)),
        (1.5, (1_610_612_736, 1)),
        (1.75, (1_879_048_192, 1)),
        (2.0 - 1e-9, (2_147_483_647, 1)),
        (2.0 - 1e-11, (1_073_741_824, 2)),
        (0.5 - 5e-9, (2_147_483_627, -1)),
        (0.5 - 1e-10, (1_073_741_824, 0)),
        (0.75, (1_610_612_736, 0)),
        (1.0 - 1e-9, (2_147_483_646, 0)),
    ] {
        assert_eq!(pair(real), expected, "from_real({real:e})");
    }
    // MultiplyByQuantizedMultiplierInt32.
    assert_eq!(rq(0.1).apply(0), 0);
    assert_eq!(rq(0.0).apply(1), 0);
    assert_eq!(rq(0.00097656).apply(10000), 10);
    assert_eq!(rq(0.00097656).apply(-10000), -10);
    assert_eq!(rq(0.00001).apply(i32::MIN), -21475);
    assert_eq!(rq(0.00001).apply(i32::MAX), 21475);
    // Maximum x and multiplier, shift -3: round(x * m / 2^34) computed exactly:
    // (2^31-1)^2 / 2^34 = 268435455.75 -> 268435456 (both roundings agree here).
    let max = Requantizer {
        multiplier: i32::MAX,
        shift: -3,
    };
    assert_eq!(max.apply(i32::MAX), 268_435_456);
    assert_eq!(max.apply(-i32::MAX), -268_435_456);
}

#[test]
fn hand_worked_cases() {
    // 0.5 = 2^30 * 2^0 / 2^31: 3 * 0.5 = 1.5 -> 2; -3 * 0.5 = -1.5: the high multiply gives
    // exactly -1.5 -> rounds half up to -1, no right shift: -1 (double rounding, as TFLite).
    assert_eq!(rq(0.5).apply(3), 2);
    assert_eq!(rq(0.5).apply(-3), -1);
    // 0.25 = (2^30, -1): 3 -> high mul 1.5 -> 2, then 2 / 2 = 1 (exact 0.75 -> 1).
    assert_eq!(rq(0.25).apply(3), 1);
    // -3: high mul -1.5 -> -1, then -1 / 2 = -0.5 -> -1 (ties away from zero).
    assert_eq!(rq(0.25).apply(-3), -1);
    // 1.0 = (2^30, 1): left shift by one then halve: identity, including the extremes of the
    // accumulators that do not overflow.
    for x in [0, 1, -1, 1 << 29, -(1 << 30)] {
        assert_eq!(rq(1.0).apply(x), x);
    }
    // 2.0 saturates the left shift: i32::MAX * 4 -> i32::MAX then * 0.5 -> 2^30 (rounded half
    // up from 2^30 - 0.5).
    assert_eq!(rq(2.0).apply(i32::MAX), 1 << 30);
    assert_eq!(rq(2.0).apply(i32::MIN), -(1 << 30));
    assert_eq!(Requantizer::ZERO.apply(i32::MAX), 0);
    assert_eq!(Requantizer::ZERO.to_real(), 0.0);
    assert_eq!(rq(0.75).to_real(), 0.75);
}

#[test]
fn edge_multipliers_against_reference() {
    let mut reals = vec![
        0.0,
        2f64.powi(-31),
        2f64.powi(-32),
        2f64.powi(-32) * (1.0 + 1e-12),
        2f64.powi(-32) * (1.0 - 1e-12), // rounds up to 2^-32: kept
        2f64.powi(-32) * 0.999,         // flushed
        2f64.powi(-40),
        1e-300,
        0.999999,
        0.9999999999,
        1.0,
        1.0000001,
        1.5,
        2f64.powi(29),
        2f64.powi(30) * 0.999,
    ];
    for k in -31..30 {
        reals.push(2f64.powi(k));
        reals.push(2f64.powi(k) * 1.7);
    }
    for real in reals {
        check_against_reference(real);
    }
}

#[test]
fn flush_to_zero_boundary() {
    // 2^-32 keeps shift -31. x = 2^31 - 1: the high multiply gives (2^31 - 1) / 2 = 2^30 - 0.5,
    // rounded half up to 2^30, then 2^30 / 2^31 = 0.5 -> 1, although the exact product is
    // 0.4999...: TFLite's double rounding, reproduced. x = MIN: -2^30 exactly, then -0.5 -> -1.
    let q = rq(2f64.powi(-32));
    assert_eq!((q.multiplier, q.shift), (1 << 30, -31));
    assert_eq!(q.apply(i32::MAX), 1);
    assert_eq!(q.apply(i32::MIN), -1);
    // Just below 2^-32 (beyond rounding): flushed.
    assert_eq!(rq(2f64.powi(-32) * 0.999), Requantizer::ZERO);
}

#[test]
fn both_ends_of_the_shift_range() {
    // Largest representable: just below 2^30 -> shift 30.
    let q = rq(2f64.powi(30) * 0.75);
    assert_eq!(q.shift, 30);
    assert_eq!(q.apply(1), 805_306_368); // 0.75 * 2^30, exact
                                         // 2 << 30 = 2^31 saturates to 2^31 - 1, then * 0.75 = 1610612735.25 -> 1610612735 (the
                                         // exact 1.5 * 2^30 = 1610612736 is one more: the price of the saturated shift).
    assert_eq!(q.apply(2), 1_610_612_735);
    assert_eq!(q.apply(3), 1_610_612_735);
    // -3 << 30 saturates to -2^31, * 0.75 = -1610612736 exactly.
    assert_eq!(q.apply(-3), -1_610_612_736);
    assert_eq!(
        q.apply(-3),
        r::multiply_by_quantized_multiplier(-3, q.multiplier, 30)
    );
    // Smallest: shift -31.
    let q = rq(2f64.powi(-32) * 1.5);
    assert_eq!(q.shift, -31);
    assert_eq!(q.apply(i32::MAX), 1); // 0.75 -> 1
}

#[test]
fn invalid_multipliers() {
    // 2^30 - 1e-7 rounds its mantissa up to 2^31, i.e. to 2^30: shift 31, not representable.
    for bad in [
        -1.0,
        -1e-30,
        f64::NAN,
        f64::INFINITY,
        2f64.powi(30),
        2f64.powi(30) - 1e-7,
        1e300,
    ] {
        assert_eq!(
            Requantizer::from_real(bad),
            Err(QuantError::InvalidMultiplier),
            "{bad}"
        );
    }
    // -0.0 is zero.
    assert_eq!(Requantizer::from_real(-0.0), Ok(Requantizer::ZERO));
}

#[test]
fn double_rounding_stays_within_one_of_exact() {
    // TFLite's double rounding differs from round(x * real) by at most 1.
    let mut rng = SplitMix64::new(7);
    for _ in 0..2000 {
        let real = 2f64.powf(rng.uniform(-20.0, 3.0));
        let q = rq(real);
        let x = rng.range_i64(-(1 << 24), 1 << 24) as i32;
        let exact = x as f64 * q.to_real();
        assert!((q.apply(x) as f64 - exact).abs() <= 1.0, "{x} * {real}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_multipliers_and_accumulators(
        log2 in -33.0f64..30.0,
        x in prop_oneof![any::<i32>(), -70_000i32..70_000],
    ) {
        let real = 2f64.powf(log2);
        match r::quantize_multiplier(real) {
            Some((m, s)) => {
                let q = rq(real);
                prop_assert_eq!((q.multiplier, q.shift), (m, s));
                prop_assert_eq!(q.apply(x), r::multiply_by_quantized_multiplier(x, m, s));
            }
            None => prop_assert_eq!(Requantizer::from_real(real), Err(QuantError::InvalidMultiplier)),
        }
    }

    #[test]
    fn random_raw_requantizers(m in (1i32 << 30)..=i32::MAX, s in -31i32..=30, x in any::<i32>()) {
        let q = Requantizer { multiplier: m, shift: s };
        prop_assert_eq!(q.apply(x), r::multiply_by_quantized_multiplier(x, m, s));
    }
}
