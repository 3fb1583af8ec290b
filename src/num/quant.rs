//! int8 affine quantization and the TFLite requantizer.
//!
//! A real value `r` is stored as `q = round(r / scale) + zero_point`, saturated to the integer
//! type. Weights use per-channel symmetric parameters (zero point 0, values in `[-127, 127]`),
//! activations per-tensor asymmetric ones, biases int32 with scale `input_scale * weight_scale`,
//! exactly as the TFLite int8 specification.
//!
//! Integer kernels accumulate in int32 and go back to int8 through a [`Requantizer`]: the real
//! multiplier `input_scale * weight_scale / output_scale` is represented as a Q31 multiplier and a
//! power-of-two shift, computed once (`QuantizeMultiplier`) and applied with TFLite's double
//! rounding (`MultiplyByQuantizedMultiplier`), so outputs match TFLite and CMSIS-NN bit for bit.
//!
//! # Conventions
//!
//! - **Rounding** of real to integer is to nearest with ties away from zero (`std::round`, which
//!   TFLite's `TfLiteRound` is), so a model quantized here and one quantized by the TFLite
//!   converter hold the same integers.
//! - **Saturation**: every conversion clips to the target type instead of wrapping; an
//!   out-of-range activation is clipped, never sign-flipped.
//! - **NaN** quantizes to the zero point (the code of the real 0): a NaN sample must not become a
//!   full-scale value, and no input may panic.

use super::fixed::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};
use crate::error::{check_len, Buffer, QuantError, ShapeError};
use core::fmt;

mod per_channel;
pub use per_channel::{
    per_channel_symmetric_scales, per_channel_symmetric_scales_last, quantize_bias,
    quantize_per_channel, quantize_per_channel_last, requantizers,
};

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
    /// incremented, and multipliers whose shift would be below -31 are flushed to zero
    /// ([`Requantizer::ZERO`]): `2^-32` is the smallest kept (`multiplier = 2^30, shift = -31`),
    /// `0.99 * 2^-32` is flushed, as in TFLite's own tests. A right shift by more than 31 would
    /// shift every bit out anyway.
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
        // saturating_neg: the fields are public, and `i32::MIN` must not panic.
        let right = if self.shift > 0 {
            0
        } else {
            self.shift.saturating_neg()
        };
        let shifted = saturating_shl(x, left as u32);
        rounding_divide_by_pot(
            saturating_rounding_doubling_high_mul(shifted, self.multiplier),
            right,
        )
    }

    /// The real multiplier this requantizer represents, `multiplier * 2^(shift - 31)`.
    pub fn to_real(self) -> f64 {
        self.multiplier as f64 * libm::exp2(self.shift as f64 - 31.0)
    }
}

/// `x * 2^s` saturated to the i32 range.
#[inline]
fn saturating_shl(x: i32, s: u32) -> i32 {
    let wide = (x as i64) << s.min(32);
    wide.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// Affine quantization parameters of an int8 tensor: `real = scale * (q - zero_point)`.
///
/// [`QuantParams::new`] and the range constructors validate; the fields are public so that
/// parameters read from a model can be inspected, and every method stays panic-free (with a
/// defined, saturated result) even for unvalidated values.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QuantParams {
    /// Real value of one quantization step; finite and greater than zero.
    pub scale: f32,
    /// The integer that represents the real 0; in `-128..=127`.
    pub zero_point: i32,
}

impl QuantParams {
    /// Validated parameters.
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] unless `scale` is finite and greater than zero;
    /// [`QuantError::InvalidZeroPoint`] unless `zero_point` is in `-128..=127`.
    pub fn new(scale: f32, zero_point: i32) -> Result<Self, QuantError> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(QuantError::InvalidScale);
        }
        if !(i8::MIN as i32..=i8::MAX as i32).contains(&zero_point) {
            return Err(QuantError::InvalidZeroPoint);
        }
        Ok(QuantParams { scale, zero_point })
    }

    /// Asymmetric parameters covering the real range `[min, max]`, as TFLite's
    /// `ChooseQuantizationParams<int8_t>`.
    ///
    /// The range is first extended to contain 0 (`min = min(min, 0)`, `max = max(max, 0)`), so
    /// that the real 0 (padding, ReLU's floor) is exactly representable. Then, in f64,
    /// `scale = (max - min) / 255`, the zero point is solved from whichever end (`(min, -128)` or
    /// `(max, 127)`) adds the smaller terms, and nudged to the nearest integer (ties away from
    /// zero) within `-128..=127`. The scale is stored as f32.
    ///
    /// Degenerate range: when `min == max == 0`, or the range is so small that its scale
    /// underflows to 0 in f32, the result is `scale = 1.0, zero_point = 0` (every value of such
    /// a range quantizes to the code of 0, the closest one); TFLite would return the unusable
    /// scale 0.
    ///
    /// # Errors
    /// [`QuantError::InvalidRange`] if `min` or `max` is NaN or infinite, or `min > max`.
    pub fn asymmetric_from_min_max(min: f32, max: f32) -> Result<Self, QuantError> {
        if !(min.is_finite() && max.is_finite()) || min > max {
            return Err(QuantError::InvalidRange);
        }
        let rmin = f64::from(min).min(0.0);
        let rmax = f64::from(max).max(0.0);
        let (qmin, qmax) = (i8::MIN as f64, i8::MAX as f64);
        let scale = (rmax - rmin) / (qmax - qmin);
        let scale_f32 = scale as f32;
        if scale_f32 <= 0.0 {
            return Ok(QuantParams {
                scale: 1.0,
                zero_point: 0,
            });
        }
        // Each end gives the zero point; its rounding error scales with the magnitude of the
        // terms, so take the end whose terms are smaller (TFLite does the same).
        let zp_from_min = qmin - rmin / scale;
        let zp_from_max = qmax - rmax / scale;
        let err_min = qmin.abs() + (rmin / scale).abs();
        let err_max = qmax.abs() + (rmax / scale).abs();
        let zp = if err_min < err_max {
            zp_from_min
        } else {
            zp_from_max
        };
        let zero_point = if zp < qmin {
            qmin as i32
        } else if zp > qmax {
            qmax as i32
        } else {
            libm::round(zp) as i32
        };
        Ok(QuantParams {
            scale: scale_f32,
            zero_point,
        })
    }

    /// Symmetric parameters for values in `[-max_abs, max_abs]`: zero point 0 and
    /// `scale = max_abs / 127` (in f32), so `±max_abs` map to `±127` and `-128` is unused, as the
    /// TFLite spec requires of weights.
    ///
    /// Degenerate range: when `max_abs / 127` is 0 (`max_abs == 0`, or too small for f32), the
    /// scale is 1.0, so an all-zero channel quantizes to zeros with a usable scale.
    ///
    /// # Errors
    /// [`QuantError::InvalidRange`] if `max_abs` is negative, NaN or infinite.
    pub fn symmetric_from_max_abs(max_abs: f32) -> Result<Self, QuantError> {
        if !(max_abs.is_finite() && max_abs >= 0.0) {
            return Err(QuantError::InvalidRange);
        }
        let scale = max_abs / 127.0;
        Ok(QuantParams {
            scale: if scale > 0.0 { scale } else { 1.0 },
            zero_point: 0,
        })
    }

    /// `clamp(round(x / scale) + zero_point, -128, 127)`, as TFLite's `AffineQuantize`: the
    /// division is done in f32 and rounded to nearest with ties away from zero. NaN maps to the
    /// zero point; `±inf` and values beyond the range saturate to 127 / -128.
    #[inline]
    pub fn quantize(&self, x: f32) -> i8 {
        // `as i32` saturates and maps NaN to 0, so NaN lands on the zero point.
        let q = libm::roundf(x / self.scale) as i32;
        q.saturating_add(self.zero_point)
            .clamp(i8::MIN as i32, i8::MAX as i32) as i8
    }

    /// `scale * (q - zero_point)`, correctly rounded to f32 (as TFLite's `Dequantize`: both
    /// factors are exact in f32, so the single f32 multiply rounds the exact product).
    #[inline]
    pub fn dequantize(&self, q: i8) -> f32 {
        self.scale * (i32::from(q).saturating_sub(self.zero_point)) as f32
    }

    /// [`quantize`](Self::quantize) of every element of `input` into `output`.
    ///
    /// # Shapes
    /// `input` and `output` have the same length (any layout: the map is elementwise).
    ///
    /// # Errors
    /// [`ShapeError::Length`] (buffer `Output`) if the lengths differ; nothing is written then.
    pub fn quantize_slice(&self, input: &[f32], output: &mut [i8]) -> Result<(), ShapeError> {
        check_len(Buffer::Output, input.len(), output.len())?;
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.quantize(x);
        }
        Ok(())
    }

    /// [`dequantize`](Self::dequantize) of every element of `input` into `output`.
    ///
    /// # Shapes
    /// `input` and `output` have the same length (any layout: the map is elementwise).
    ///
    /// # Errors
    /// [`ShapeError::Length`] (buffer `Output`) if the lengths differ; nothing is written then.
    pub fn dequantize_slice(&self, input: &[i8], output: &mut [f32]) -> Result<(), ShapeError> {
        check_len(Buffer::Output, input.len(), output.len())?;
        for (o, &q) in output.iter_mut().zip(input) {
            *o = self.dequantize(q);
        }
        Ok(())
    }
}

/// The error of a quantization function over slices: a buffer of the wrong size, or a
/// parameter or value that cannot be quantized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum QuantizeError {
    /// A buffer length or dimension does not fit the shape.
    Shape(ShapeError),
    /// A scale, range or channel count is invalid.
    Quant(QuantError),
}

impl From<ShapeError> for QuantizeError {
    fn from(e: ShapeError) -> Self {
        QuantizeError::Shape(e)
    }
}

impl From<QuantError> for QuantizeError {
    fn from(e: QuantError) -> Self {
        QuantizeError::Quant(e)
    }
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantizeError::Shape(e) => e.fmt(f),
            QuantizeError::Quant(e) => e.fmt(f),
        }
    }
}

impl core::error::Error for QuantizeError {}
