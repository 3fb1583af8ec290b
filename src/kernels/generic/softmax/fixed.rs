//! The gemmlowp fixed-point functions of the int8 softmax, specialised to the formats the softmax
//! uses and stripped of the work those formats make unnecessary, with the same results to the bit
//! as the general functions of [`crate::num::fixedpoint`] for every `i32` input.
//!
//! What is removed, and why the result cannot change:
//!
//! - **Saturation of the doubling high multiply.** It only saturates for `i32::MIN * i32::MIN`;
//!   every product here has an operand that is provably not `i32::MIN` (a bounded polynomial
//!   term, a positive constant, a non-negative exponential), so [`mul`] is the plain rounded
//!   high half.
//! - **The generic format arithmetic** of `exp_on_negative_values`: with 5 integer bits the
//!   masks, shifts and barrel-shifter bit positions are constants, and the rescale of the
//!   argument to Q0.31 cannot saturate (it is a multiple of `2^5` of a value in `[-2^24, 0)`).
//! - **Signed rounding where the value is non-negative**: a rounding division of a value `>= 0`
//!   is an add and a shift, done in `u32` so the add cannot overflow.

use crate::num::quant::Requantizer;

/// Integer bits of the exponential's argument (Q5.26), as in the softmax.
const INTEGER_BITS: u32 = 5;
/// Fractional bits of the exponential's argument.
const FRACTIONAL_BITS: u32 = 31 - INTEGER_BITS;

/// gemmlowp's `SaturatingRoundingDoublingHighMul`, `floor((a * b + 2^30) / 2^31)`, for operands
/// that are not both `i32::MIN` (the only case that saturates).
#[inline(always)]
pub(super) fn mul(a: i32, b: i32) -> i32 {
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// [`mul`] for `|a| < 2^30`: then `2a` is exact and the product is the rounded high word of
/// `2a * b`, `floor((2ab + 2^31) / 2^32)`, which Armv7E-M does in one instruction (`SMMULR`).
#[inline(always)]
fn mul_small(a: i32, b: i32) -> i32 {
    ((a.wrapping_shl(1) as i64 * b as i64 + (1 << 31)) >> 32) as i32
}

/// `RoundingDivideByPOT(x, exponent)` for `x >= 0` and `exponent` in `1..=31`: ties round up,
/// which for a non-negative value is away from zero.
#[inline(always)]
fn divide_by_pot_non_negative(x: i32, exponent: u32) -> i32 {
    ((x as u32 + (1 << (exponent - 1))) >> exponent) as i32
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl` for `a` in
/// `[-2^29, 0)` (Q0.31 in `[-1/4, 0)`), the only arguments [`exp_q5`] passes.
#[inline(always)]
fn exp_on_interval(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    // |x| <= 2^28: every power below is small and non-negative where squared.
    let x = a + (1 << 28);
    let x2 = mul_small(x, x);
    let x3 = mul_small(x, x2);
    let x4 = mul_small(x2, x2);
    // x4 >= 0 (a rounded square of a square).
    let x4_over_4 = divide_by_pot_non_negative(x4, 2);
    // A signed halving rounded away from zero: `(s + 1) >> 1` for s >= 0, `s >> 1` below.
    let s = mul_small(x4_over_4 + x3, ONE_THIRD) + x2;
    let higher_terms = (s + 1 + (s >> 31)) >> 1;
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul_small(x + higher_terms, EXP_MINUS_ONE_EIGHTH))
}

/// `exp(a)` for `a` in Q5.26, result in Q0.31: bit-exact with
/// [`exp_on_negative_values(a, 5)`](crate::num::fixedpoint::exp_on_negative_values) for every
/// `a` (positive ones included, where both are defined but meaningless). The result is `>= 0`.
#[inline]
pub(super) fn exp_q5(a: i32) -> i32 {
    const ONE_QUARTER: i32 = 1 << (FRACTIONAL_BITS - 2);
    // In [-2^24, 0): never overflows, and its rescale to Q0.31 (a left shift by 5) never
    // saturates.
    let a_mod_quarter_minus_one_quarter = (a & (ONE_QUARTER - 1)) - ONE_QUARTER;
    let mut result = exp_on_interval(a_mod_quarter_minus_one_quarter << INTEGER_BITS);
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // The barrel shifter: exp(-2^k) in Q0.31 for k = -2..=4, each applied when bit 26 + k of
    // the remainder is set. `result` stays in [0, 2^31) and the factors are positive, so no
    // product saturates; the factors below 2^30 take the one-instruction multiply. Written out
    // rather than looped so the constants stay in the instructions.
    let bit = |k: i32| remainder & (1 << (FRACTIONAL_BITS as i32 + k)) != 0;
    if bit(-2) {
        result = mul(result, 1_672_461_947);
    }
    if bit(-1) {
        result = mul(result, 1_302_514_674);
    }
    if bit(0) {
        result = mul_small(790_015_084, result);
    }
    if bit(1) {
        result = mul_small(290_630_308, result);
    }
    if bit(2) {
        result = mul_small(39_332_535, result);
    }
    if bit(3) {
        result = mul_small(720_401, result);
    }
    if bit(4) {
        result = mul_small(242, result);
    }
    if a == 0 {
        i32::MAX
    } else {
        result
    }
}

/// `rescale(x, 0, 12)` for `x >= 0` (an exponential, in Q0.31, to the Q12.19 of the sum).
#[inline(always)]
pub(super) fn to_q12(x: i32) -> i32 {
    divide_by_pot_non_negative(x, 12)
}

/// The scaling of input differences to Q5.26, TFLite's `MultiplyByQuantizedMultiplier` with the
/// softmax's multiplier and (left) shift, chosen once per call.
#[derive(Clone, Copy)]
pub(super) enum DiffScale {
    /// A left shift of at most 23 and the multiply: for int8 differences (`|diff| <= 255`) the
    /// shift cannot saturate and the shifted value is never `i32::MIN`.
    Short { multiplier: i32, shift: u32 },
    /// Any other shift: the general requantizer.
    General(Requantizer),
}

impl DiffScale {
    /// The scaling for `multiplier` and `shift` (clamped to `-31..=31`, as the reference does).
    pub(super) fn new(multiplier: i32, shift: i32) -> Self {
        let shift = shift.clamp(-31, 31);
        match u32::try_from(shift) {
            Ok(shift) if shift <= 23 => DiffScale::Short { multiplier, shift },
            _ => DiffScale::General(Requantizer { multiplier, shift }),
        }
    }

    /// `MultiplyByQuantizedMultiplier(diff, multiplier, shift)` for `diff` in `-255..=255`.
    #[inline(always)]
    pub(super) fn apply(self, diff: i32) -> i32 {
        match self {
            DiffScale::Short { multiplier, shift } => mul(diff << shift, multiplier),
            DiffScale::General(r) => r.apply(diff),
        }
    }
}

/// `RoundingDivideByPOT(x, exponent)` for any `x` with the exponent's mask and half-mask computed
/// once: `mask = 2^exponent - 1`, `half = mask >> 1`, `exponent` in `0..=31`.
#[inline(always)]
pub(super) fn divide_by_pot(x: i32, exponent: u32, mask: i32, half: i32) -> i32 {
    let threshold = half + i32::from(x < 0);
    (x >> exponent) + i32::from((x & mask) > threshold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::fixed::rounding_divide_by_pot;
    use crate::num::fixedpoint::{exp_on_negative_values, rescale};

    /// Arguments covering every bit pattern class: the edges, every power of two and its
    /// neighbours, and a pseudo-random sweep.
    fn arguments() -> impl Iterator<Item = i32> {
        let edges = [
            0,
            1,
            -1,
            i32::MIN,
            i32::MAX,
            i32::MIN + 1,
            1 << 24,
            -(1 << 24),
        ];
        let powers = (0..31).flat_map(|k| {
            let p = 1i32 << k;
            [p, p - 1, p + 1, -p, -p - 1, -p + 1]
        });
        let mut x = 0x1234_5678u32;
        let random = (0..200_000).map(move |_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            x as i32
        });
        edges.into_iter().chain(powers).chain(random)
    }

    #[test]
    fn exp_matches_the_general_function_everywhere() {
        for a in arguments().chain((-(1 << 22)..=0).step_by(97)) {
            assert_eq!(exp_q5(a), exp_on_negative_values(a, 5), "a = {a}");
        }
    }

    #[test]
    fn to_q12_matches_rescale() {
        for a in arguments().filter(|&a| a >= 0) {
            assert_eq!(to_q12(a), rescale(a, 0, 12), "a = {a}");
        }
    }

    #[test]
    fn diff_scale_matches_the_requantizer() {
        let multipliers = [
            0,
            1,
            -1,
            i32::MIN,
            i32::MAX,
            1 << 30,
            1_077_952_640,
            -987_654_321,
        ];
        for multiplier in multipliers {
            for shift in -40..=40 {
                let fast = DiffScale::new(multiplier, shift);
                let reference = Requantizer {
                    multiplier,
                    shift: shift.clamp(-31, 31),
                };
                for diff in -255..=255 {
                    assert_eq!(
                        fast.apply(diff),
                        reference.apply(diff),
                        "{multiplier} {shift}"
                    );
                }
            }
        }
    }

    #[test]
    fn divide_by_pot_matches_the_reference() {
        for exponent in 0..=31u32 {
            let mask = ((1u64 << exponent) - 1) as i32;
            for x in arguments().take(20_000) {
                assert_eq!(
                    divide_by_pot(x, exponent, mask, mask >> 1),
                    rounding_divide_by_pot(x, exponent as i32),
                    "{x} {exponent}"
                );
            }
        }
    }
}
