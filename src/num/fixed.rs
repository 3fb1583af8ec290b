//! Fixed-point primitives with TFLite/gemmlowp rounding, and Q7/Q15/Q31 saturating arithmetic.
//!
//! # Conventions
//!
//! - **Rounding of the doubling high multiply** is *round half up* (toward `+inf`): the exact
//!   product is nudged by half an output unit and floored. This is what gemmlowp's
//!   `SaturatingRoundingDoublingHighMul` computes (its sign-dependent nudge followed by a division
//!   that truncates toward zero is the same as a floor of the half-nudged product) and what Arm's
//!   `SQRDMULH` instruction does, so integer kernels built on it agree with TFLite
//!   and CMSIS-NN bit for bit.
//! - **Rounding of a division by a power of two** is to nearest, *ties away from zero*, as
//!   gemmlowp's `RoundingDivideByPOT`.
//! - **Saturation** instead of wrapping everywhere: a quantized signal that overflows should clip,
//!   like an analogue one, never flip sign. The only overflowing case of a doubling high multiply
//!   is `MIN * MIN` (the product `+1.0` is not representable); it saturates to `MAX`, as CMSIS-DSP's
//!   `__SSAT` would.
//!
//! A `Qn` value `q` stands for the real `q / 2^n` in `[-1, 1)`.

/// `floor((a * b + 2^30) / 2^31)`: the rounded high half of the doubled product (round half up),
/// saturating the one overflowing case (`a == b == i32::MIN`) to `i32::MAX`.
///
/// This is gemmlowp's `SaturatingRoundingDoublingHighMul` to the bit: its nudge is `+2^30` for
/// non-negative products and `1 - 2^30` for negative ones, followed by a division that truncates
/// toward zero, which together equal the floor above (ties go toward `+inf`, e.g. a product of
/// exactly `-0.5` output units rounds to 0).
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

/// Generates one Q type: `$name($int)` with `$frac` fractional bits, using `$wide` for products.
macro_rules! q_type {
    ($(#[$doc:meta])* $name:ident, $int:ty, $wide:ty, $frac:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name(pub $int);

        impl $name {
            /// Number of fractional bits: the value `q` stands for `q / 2^FRAC_BITS`.
            pub const FRAC_BITS: u32 = $frac;
            /// Zero.
            pub const ZERO: $name = $name(0);
            /// The largest value, `1 - 2^-FRAC_BITS`.
            pub const MAX: $name = $name(<$int>::MAX);
            /// The smallest value, `-1`.
            pub const MIN: $name = $name(<$int>::MIN);

            /// Saturating addition (`__QADD`): the exact sum clipped to `[MIN, MAX]`.
            #[inline]
            pub fn saturating_add(self, rhs: $name) -> $name {
                $name(self.0.saturating_add(rhs.0))
            }

            /// Saturating subtraction (`__QSUB`): the exact difference clipped to `[MIN, MAX]`.
            #[inline]
            pub fn saturating_sub(self, rhs: $name) -> $name {
                $name(self.0.saturating_sub(rhs.0))
            }

            /// Saturating rounding multiply: `floor((a * b + 2^(FRAC_BITS-1)) / 2^FRAC_BITS)`
            /// (round half up, as `SQRDMULH` and gemmlowp), saturated. Only `MIN * MIN`
            /// (`-1 * -1 = +1`) overflows; it gives `MAX`.
            #[inline]
            pub fn saturating_mul(self, rhs: $name) -> $name {
                let p = <$wide>::from(self.0) * <$wide>::from(rhs.0);
                // `>>` on a signed integer is a floor division by the power of two.
                let r = (p + (1 << ($frac - 1))) >> $frac;
                $name(r.clamp(<$wide>::from(<$int>::MIN), <$wide>::from(<$int>::MAX)) as $int)
            }

            /// The nearest Q value to `x` (ties away from zero), saturating: `x >= 1` gives
            /// `MAX`, `x <= -1` gives `MIN`, `±inf` saturate likewise, NaN gives `ZERO`
            /// (a NaN sample should not become a full-scale one).
            #[inline]
            pub fn from_f32(x: f32) -> $name {
                // Scaling by a power of two is exact in f64, and f64 holds every Q31 integer,
                // so the only rounding is the final `round`; `as` saturates and maps NaN to 0.
                let scaled = libm::round(x as f64 * (1u64 << $frac) as f64);
                $name(scaled as $int)
            }

            /// The real value `q / 2^FRAC_BITS`, rounded to the nearest f32 (exact for Q7 and
            /// Q15; Q31 keeps the 24 most significant bits).
            #[inline]
            pub fn to_f32(self) -> f32 {
                (self.0 as f64 / (1u64 << $frac) as f64) as f32
            }
        }
    };
}

q_type!(
    /// Q7 fixed point: an `i8` standing for `q / 128` in `[-1, 127/128]`.
    Q7, i8, i16, 7
);
q_type!(
    /// Q15 fixed point: an `i16` standing for `q / 32768` in `[-1, 1 - 2^-15]`.
    Q15, i16, i32, 15
);
q_type!(
    /// Q31 fixed point: an `i32` standing for `q / 2^31` in `[-1, 1 - 2^-31]`. Its multiply is
    /// [`saturating_rounding_doubling_high_mul`].
    Q31, i32, i64, 31
);
