//! gemmlowp-style fixed-point functions on `i32` raw values: the exponential, reciprocal and
//! logarithm that TFLite's integer softmax and log-softmax are built from.
//!
//! # Representation
//!
//! A fixed-point value with `m` integer bits is an `i32` raw value `r` standing for `r / 2^(31-m)`
//! (format Qm.(31-m)): `m = 0` covers `[-1, 1)`, `m = 5` covers `[-32, 32)`. The functions here
//! take and return raw values and say which formats they expect; they are free functions rather
//! than a type with the integer bits as a const parameter, because stable Rust cannot express the
//! "integer bits add up" rule of a fixed-point product in a type.
//!
//! Every function is a bit-exact port of its namesake in gemmlowp's `fixedpoint.h` (or TFLite's
//! `common.h` for [`get_reciprocal`] and [`log_x_for_x_greater_than_or_equal_to_1`]), because the
//! int8 softmax results must match TFLite to the bit. Where the C++ relies on signed overflow never
//! happening (its additions are plain `+`), these use wrapping arithmetic: inside the documented
//! domains no addition wraps, and outside them the result is defined instead of a panic.

use super::fixed::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};

/// Product of two fixed-point values: with `a` in Qm and `b` in Qn the result is in Q(m+n).
///
/// This is gemmlowp's `operator*` on `FixedPoint`, a rounding doubling high multiply.
#[inline]
pub fn mul(a: i32, b: i32) -> i32 {
    saturating_rounding_doubling_high_mul(a, b)
}

/// `x * 2^exponent`: a saturating left shift for a positive exponent, a rounding (ties away from
/// zero) right shift for a negative one (gemmlowp's `SaturatingRoundingMultiplyByPOT`).
///
/// The exponent is clamped to `-31..=31`.
#[inline]
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(-31, 31);
    if exponent < 0 {
        return rounding_divide_by_pot(x, -exponent);
    }
    if exponent == 0 {
        return x;
    }
    // Values whose shift would leave the i32 range saturate, as gemmlowp's masks do.
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// Converts a raw value from `src_integer_bits` to `dst_integer_bits` (gemmlowp's `Rescale`):
/// fewer integer bits saturate, more integer bits round to nearest.
#[inline]
pub fn rescale(x: i32, src_integer_bits: i32, dst_integer_bits: i32) -> i32 {
    saturating_rounding_multiply_by_pot(x, src_integer_bits.saturating_sub(dst_integer_bits))
}

/// `(a + b) / 2` rounded to nearest, ties away from zero (gemmlowp's `RoundingHalfSum`).
#[inline]
pub fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    // Truncating division like C++; the quotient always fits in i32.
    ((sum + sign) / 2) as i32
}

/// The raw value of 1 in a format with `integer_bits` integer bits; with 0 integer bits 1 is not
/// representable and the largest value (`i32::MAX`, 1 - 2^-31) stands for it, as in gemmlowp.
/// `integer_bits` is clamped to `0..=30`.
#[inline]
pub fn one(integer_bits: i32) -> i32 {
    let bits = integer_bits.clamp(0, 30);
    if bits == 0 {
        i32::MAX
    } else {
        1 << (31 - bits)
    }
}

/// `exp(a)` for `a` in Q0.31 within `[-1/4, 0)`, result in Q0.31.
///
/// A fourth-order Taylor expansion around -1/8, as gemmlowp's
/// `exp_on_interval_between_negative_one_quarter_and_0_excl`.
pub fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    // exp(-1/8) and 1/3 in Q0.31.
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    // Expanding around the middle of the interval keeps |x| <= 1/8, so four terms suffice.
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    // x^4/24 + x^3/6 + x^2/2 = ((x^4/4 + x^3) / 3 + x^2) / 2
    let higher_terms = saturating_rounding_multiply_by_pot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(higher_terms)))
}

/// `exp(a)` for `a <= 0` given in Q`integer_bits`, result in Q0.31 (gemmlowp's
/// `exp_on_negative_values`).
///
/// `exp(0)` is `i32::MAX`. The argument is split into a part in `[-1/4, 0)`, evaluated by
/// [`exp_on_interval_between_negative_one_quarter_and_0_excl`], and a multiple of 1/4 whose
/// exponential is applied bit by bit as a product of the constants `exp(-2^k)`,
/// `k = -2..=4`; with more than 5 integer bits, inputs below -32 give 0. `integer_bits` is clamped to
/// `0..=29` (the formats in which 1/4 is representable). Positive inputs are outside the domain:
/// the result is defined but meaningless.
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    // exp(-2^k) in Q0.31 for k = -2..=4.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    let integer_bits = integer_bits.clamp(0, 29);
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_one_quarter,
        integer_bits,
        0,
    ));
    // What is left, a non-negative multiple of 1/4, selects the factors exp(-2^k).
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    for (exponent, multiplier) in BARREL {
        // Only powers of two the format can hold take part; the shift is then in 0..=30.
        if integer_bits > exponent {
            let bit = 1i32 << (fractional_bits + exponent);
            if remainder & bit != 0 {
                result = mul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        // Below -32 the barrel shifter has no factor left; exp is 0 at this precision anyway.
        let minus_32 = -(1i32 << (36 - integer_bits));
        if a < minus_32 {
            result = 0;
        }
    }
    if a == 0 {
        result = one(0);
    }
    result
}

/// `1 / (1 + a)` for `a` in Q0.31 within `[0, 1)`, result in Q0.31 (gemmlowp's
/// `one_over_one_plus_x_for_x_in_0_1`).
///
/// Three Newton-Raphson steps on `(1 + a) / 2` in Q2.29 from the classic `48/17 - 32/17 d`
/// starting point. For `a = 0` the result saturates just below 1.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    // 48/17 and -32/17 in Q2.29.
    const FORTY_EIGHT_OVER_17: i32 = 1_515_870_810;
    const NEG_THIRTY_TWO_OVER_17: i32 = -1_010_580_540;
    let one_q2 = one(2);
    let half_denominator = rounding_half_sum(a, one(0));
    let mut x = FORTY_EIGHT_OVER_17.wrapping_add(mul(half_denominator, NEG_THIRTY_TWO_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus_half_denominator_times_x = one_q2.wrapping_sub(half_denominator_times_x);
        // Q2 * Q2 is Q4; bring the correction back to Q2.
        x = x.wrapping_add(rescale(mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    // x approximates 2 / (1 + a) in Q2; halving it is a change of format to Q1.
    rescale(x, 1, 0)
}

/// The reciprocal of a positive value `x` in Q`x_integer_bits`, as TFLite's `GetReciprocal`.
///
/// Returns `(scale, num_bits_over_unit)` with `scale` in Q0.31 such that
/// `1 / x ~= scale * 2^-num_bits_over_unit`: `x` is normalised to `1 + f` with `f` in `[0, 1)` by
/// its leading zeros, and `scale = 1 / (1 + f)`. For `x <= 0` the result is defined but
/// meaningless.
pub fn get_reciprocal(x: i32, x_integer_bits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    // How far the leading one sits above the binary point.
    let num_bits_over_unit = x_integer_bits.saturating_sub(headroom_plus_one as i32);
    // Shifting the leading one out leaves f in Q0.31 (offset by 2^31, removed here).
    let shifted = (x as u32).checked_shl(headroom_plus_one).unwrap_or(0);
    let shifted_sum_minus_one = shifted.wrapping_sub(1 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

/// `ln(x)` for `x` in Q`input_integer_bits` (with `x >= 1`; in practice any `x >= 2^-m` for an
/// input range `[.., 2^m)`), result in Q`output_integer_bits`, as TFLite's
/// `log_x_for_x_greater_than_or_equal_to_1`.
///
/// `x` is normalised by its leading zeros to `2^z * r` with `r` near 1 (two candidates, one
/// pre-multiplied by `sqrt(1/2)`, keep `r` in `[2^-1/4, 2^1/4]`); `ln r` comes from a rational
/// approximation in `q = 2 (r - 2^-1/4)` and `ln x = z ln 2 + ln r`. The output format must hold
/// `ln` of the largest input (TFLite requires at least 5 integer bits for a Q12 input). For
/// `x <= 0` the result is defined but meaningless.
pub fn log_x_for_x_greater_than_or_equal_to_1(
    x: i32,
    input_integer_bits: i32,
    output_integer_bits: i32,
) -> i32 {
    // Constants in Q0.31.
    const LOG_2: i32 = 1_488_522_236;
    const SQRT_SQRT_HALF: i32 = 1_805_811_301;
    const SQRT_HALF: i32 = 1_518_500_250;
    const ONE_QUARTER: i32 = 536_870_912;
    const ALPHA_N: i32 = 117_049_297;
    const ALPHA_D: i32 = 127_690_142;
    const ALPHA_I: i32 = 1_057_819_769;
    const ALPHA_F: i32 = 638_450_708;

    // One bit of headroom so that z * ln 2 saturating cannot be made worse by the addition.
    let accum_integer_bits = output_integer_bits.saturating_add(1);
    let shifted_quarter = rescale(ONE_QUARTER, 0, accum_integer_bits);

    // The input is read as Q0.31; its exponent is worked out from the leading zeros.
    let z_a = x;
    let z_a_headroom_plus_1 = (z_a as u32).leading_zeros() as i32;
    let r_a_tmp = saturating_rounding_multiply_by_pot(z_a, z_a_headroom_plus_1 - 1);
    let r_a_raw = saturating_rounding_multiply_by_pot(mul(r_a_tmp, SQRT_HALF), 1);
    let z_a_pow_2_adj = saturating_rounding_multiply_by_pot(
        input_integer_bits.wrapping_sub(z_a_headroom_plus_1),
        31 - accum_integer_bits,
    )
    .saturating_add(shifted_quarter);

    // The second candidate: the same normalisation after multiplying by sqrt(1/2).
    let z_b = mul(z_a, SQRT_HALF);
    let z_b_headroom = (z_b as u32).leading_zeros() as i32 - 1;
    let r_b_raw = saturating_rounding_multiply_by_pot(z_a, z_b_headroom);
    let z_b_pow_2_adj = saturating_rounding_multiply_by_pot(
        input_integer_bits.wrapping_sub(z_b_headroom),
        31 - accum_integer_bits,
    )
    .saturating_sub(shifted_quarter);

    let r = r_a_raw.min(r_b_raw);
    let z_pow_2_adj = z_a_pow_2_adj.max(z_b_pow_2_adj);

    let p = rounding_half_sum(r, SQRT_SQRT_HALF);
    let mut q = r.wrapping_sub(SQRT_SQRT_HALF);
    q = q.wrapping_add(q);

    let common_sq = mul(q, q);
    let num = mul(q, r).wrapping_add(mul(mul(q, common_sq), ALPHA_N));
    let denom_minus_one = mul(
        p,
        ALPHA_I
            .wrapping_add(q)
            .wrapping_add(mul(ALPHA_D, common_sq)),
    )
    .wrapping_add(mul(ALPHA_F, q));
    let recip_denom = one_over_one_plus_x_for_x_in_0_1(denom_minus_one);

    let num_scaled = rescale(num, 0, accum_integer_bits);
    rescale(
        mul(z_pow_2_adj, LOG_2).wrapping_add(mul(num_scaled, recip_denom)),
        accum_integer_bits,
        output_integer_bits,
    )
}
