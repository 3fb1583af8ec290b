//! int8 affine quantization and the TFLite requantizer.
//!
//! A real value `r` is stored as `q = round(r / scale) + zero_point`, saturated to the integer
//! type. Weights use per-channel symmetric parameters (zero point 0), activations per-tensor
//! asymmetric ones, biases int32 with scale `input_scale * weight_scale`, exactly as the TFLite
//! int8 specification.
//!
//! Integer kernels accumulate in int32 and go back to int8 through a [`Requantizer`]: the real
//! multiplier `input_scale * weight_scale / output_scale` is represented as a Q31 multiplier and a
//! power-of-two shift, computed once (`QuantizeMultiplier`) and applied with TFLite's double
//! rounding (`MultiplyByQuantizedMultiplier`), so outputs match TFLite and CMSIS-NN bit for bit.

use super::fixed::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};
use crate::error::QuantError;

/// A real multiplier represented as `multiplier * 2^shift / 2^31`, with `multiplier` in
/// `[2^30, 2^31)` (or 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Requantizer {
    /// Q31 mantissa, in `[2^30, 2^31 - 1]`, or 0 for a zero multiplier.
    pub multiplier: i32,
    /// Power-of-two exponent: positive shifts left before the multiply, negative shifts right
    /// after it. In `-31..=30`.
    pub shift: i32,
}

impl Requantizer {
    /// The requantizer for a zero multiplier: every accumulator maps to 0.
    pub const ZERO: Requantizer = Requantizer {
        multiplier: 0,
        shift: 0,
    };

    /// Computes `(multiplier, shift)` from a real multiplier, as TFLite's `QuantizeMultiplier`.
    ///
    /// `real = q * 2^shift` with `q` in `[0.5, 1)` (`frexp`), `multiplier = round(q * 2^31)`
    /// (ties away from zero), a mantissa that rounds up to `2^31` is halved with the shift
    /// incremented, and multipliers below about `2^-32` (shift < -31) are flushed to zero.
    ///
    /// # Errors
    /// [`QuantError::InvalidMultiplier`] if `real` is negative, NaN or infinite, or so large that
    /// the shift would exceed 30 (`real >= 2^30`), where the single left shift of TFLite's
    /// requantization could not be represented.
    pub fn from_real(real: f64) -> Result<Self, QuantError> {
        if !real.is_finite() || real < 0.0 {
            return Err(QuantError::InvalidMultiplier);
        }
        if real == 0.0 {
            return Ok(Self::ZERO);
        }
        let (q, mut shift) = libm::frexp(real);
        let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
        if q_fixed == 1i64 << 31 {
            q_fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Ok(Self::ZERO);
        }
        if shift > 30 {
            return Err(QuantError::InvalidMultiplier);
        }
        Ok(Requantizer {
            multiplier: q_fixed as i32,
            shift,
        })
    }

    /// Applies the multiplier to an int32 accumulator, as TFLite's (double-rounding)
    /// `MultiplyByQuantizedMultiplier`:
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, multiplier), right)`.
    ///
    /// The left shift saturates to the i32 range. (In TFLite an overflowing left shift is
    /// undefined behaviour; for every input where TFLite's result is defined the two agree.)
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        let left = if self.shift > 0 { self.shift } else { 0 };
        let right = if self.shift > 0 { 0 } else { -self.shift };
        let shifted = saturating_shl(x, left as u32);
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(shifted, self.multiplier),
            right,
        )
    }

    /// The real multiplier this requantizer represents, `multiplier * 2^(shift - 31)`.
    pub fn to_real(self) -> f64 {
        self.multiplier as f64 * libm::exp2((self.shift - 31) as f64)
    }
}

/// `x * 2^s` saturated to the i32 range.
#[inline]
fn saturating_shl(x: i32, s: u32) -> i32 {
    let wide = (x as i64) << s.min(32);
    wide.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}
