//! Fixed-point primitives with TFLite/gemmlowp rounding.
//!
//! These are the two operations every integer kernel is built from; their rounding is part of the
//! int8 specification, so they follow gemmlowp's `SaturatingRoundingDoublingHighMul` and
//! `RoundingDivideByPOT` to the bit.

/// `round(a * b / 2^31)` with ties away from zero, saturating the one overflowing case
/// (`a == b == i32::MIN`) to `i32::MAX`.
///
/// This is gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of the doubled
/// 64-bit product, rounded. Its nudge is `+2^30` for non-negative products and `1 - 2^30` for
/// negative ones, and the division truncates toward zero, exactly as the C++ does.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // `/` on i64 truncates toward zero, like C++; the quotient fits in i32 once the
    // MIN*MIN case is excluded.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero (gemmlowp's `RoundingDivideByPOT`).
///
/// `exponent` is clamped to `0..=31`; for 31 the result is the correctly rounded quotient, which is
/// `-1`, `0` or `1`.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let exponent = exponent.clamp(0, 31) as u32;
    let mask: i64 = (1i64 << exponent) - 1;
    let x64 = x as i64;
    let remainder = x64 & mask;
    let threshold = (mask >> 1) + i64::from(x < 0);
    ((x64 >> exponent) + i64::from(remainder > threshold)) as i32
}
