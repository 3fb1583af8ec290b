//! Standalone activation functions, f32 and int8.
//!
//! The f32 functions work in place and cannot fail. The int8 ones follow TFLite: ReLU and ReLU6
//! with identical input and output quantization are a clamp ([`clamp_s8`] with the range from
//! [`relu_range_s8`] / [`relu6_range_s8`]), LeakyReLU requantizes the two halves of the input with
//! two multipliers ([`leaky_relu_s8`]), and the smooth functions (sigmoid, tanh, GELU) are a
//! 256-entry lookup table ([`LutS8`]) built once from the quantization parameters.

use crate::error::{check_len, Buffer, QuantError, ShapeError};
use crate::kernels::ActivationS8;
use crate::num::math;
use crate::num::quant::Requantizer;

/// Clamps an offset int32 result into `act` and narrows it to `i8`, as TFLite writes it:
/// `min(act.max, max(act.min, x))`.
///
/// Unlike `i32::clamp` this cannot panic when a caller passes `min > max` (the result is then
/// `act.max`), so every int8 kernel of this module family uses it.
#[inline]
pub(crate) fn clamp_to_act(act: ActivationS8, x: i32) -> i8 {
    x.max(act.min as i32).min(act.max as i32) as i8
}

/// Checks that a scale is finite and positive.
#[inline]
pub(crate) fn check_scale(scale: f32) -> Result<(), QuantError> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(QuantError::InvalidScale)
    }
}

/// Checks that a zero point lies in the int8 range.
#[inline]
pub(crate) fn check_zero_point(zero_point: i32) -> Result<(), QuantError> {
    if (i8::MIN as i32..=i8::MAX as i32).contains(&zero_point) {
        Ok(())
    } else {
        Err(QuantError::InvalidZeroPoint)
    }
}

// ---------------------------------------------------------------------------------------------
// f32
// ---------------------------------------------------------------------------------------------

/// ReLU in place: `x = max(x, 0)`. NaN stays NaN.
pub fn relu_f32(x: &mut [f32]) {
    for v in x.iter_mut() {
        if *v < 0.0 {
            *v = 0.0;
        }
    }
}

/// ReLU6 in place: `x = min(max(x, 0), 6)`. NaN stays NaN.
pub fn relu6_f32(x: &mut [f32]) {
    for v in x.iter_mut() {
        // Constant bounds: `f32::clamp` cannot panic here, and it passes NaN through.
        *v = v.clamp(0.0, 6.0);
    }
}

/// Leaky ReLU in place: `x` for `x >= 0`, `alpha * x` below. NaN stays NaN.
pub fn leaky_relu_f32(x: &mut [f32], alpha: f32) {
    for v in x.iter_mut() {
        if *v < 0.0 {
            *v *= alpha;
        }
    }
}

/// Logistic sigmoid in place, `1 / (1 + e^-x)` ([`math::sigmoid`]).
pub fn sigmoid_f32(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = math::sigmoid(*v);
    }
}

/// Hyperbolic tangent in place ([`math::tanh`]).
pub fn tanh_f32(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = math::tanh(*v);
    }
}

/// GELU in place, exact (erf) form `0.5 x (1 + erf(x / √2))` ([`math::gelu`]).
pub fn gelu_f32(x: &mut [f32]) {
    for v in x.iter_mut() {
        *v = math::gelu(*v);
    }
}

// ---------------------------------------------------------------------------------------------
// int8: ReLU / ReLU6 as clamps
// ---------------------------------------------------------------------------------------------

/// The int8 range of a fused or standalone ReLU: `[zero_point, 127]`, as TFLite's
/// `CalculateActivationRangeQuantized` (real 0 quantizes to the zero point).
///
/// A zero point outside the int8 range is saturated into it, so the result is always a valid
/// range.
pub fn relu_range_s8(zero_point: i32) -> ActivationS8 {
    ActivationS8 {
        min: zero_point.clamp(i8::MIN as i32, i8::MAX as i32) as i8,
        max: i8::MAX,
    }
}

/// The int8 range of ReLU6: `[zero_point, min(127, zero_point + round(6 / scale))]`, as TFLite's
/// `CalculateActivationRangeQuantized` (the division in f32, rounding half away from zero).
///
/// # Errors
/// [`QuantError::InvalidScale`] if `scale` is not finite and positive,
/// [`QuantError::InvalidZeroPoint`] if `zero_point` is outside `-128..=127`.
pub fn relu6_range_s8(scale: f32, zero_point: i32) -> Result<ActivationS8, QuantError> {
    check_scale(scale)?;
    check_zero_point(zero_point)?;
    // `as` saturates, so a tiny scale gives the top of the range instead of overflowing.
    let six = libm::roundf(6.0 / scale) as i32;
    let max = zero_point.saturating_add(six).min(i8::MAX as i32);
    Ok(ActivationS8 {
        min: zero_point as i8,
        max: max as i8,
    })
}

/// Clamps every element into `act` in place: ReLU / ReLU6 when input and output share their
/// quantization (TFLite then only clamps). With `act.min > act.max` every element becomes
/// `act.max`.
pub fn clamp_s8(x: &mut [i8], act: ActivationS8) {
    for v in x.iter_mut() {
        *v = clamp_to_act(act, *v as i32);
    }
}

// ---------------------------------------------------------------------------------------------
// int8: LeakyReLU
// ---------------------------------------------------------------------------------------------

/// Quantization parameters of an int8 LeakyReLU, computed once as TFLite's `LeakyRelu` prepare
/// step does.
///
/// Two requantizers map the input to the output scale: the identity one
/// (`in_scale / out_scale`) for inputs at or above the zero point and the alpha one
/// (`in_scale * alpha / out_scale`) below it. Both real multipliers are computed in f32, as
/// TFLite does, and converted with [`Requantizer::from_real`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LeakyReluParamsS8 {
    input_zero_point: i32,
    output_zero_point: i32,
    identity: Requantizer,
    alpha: Requantizer,
}

impl LeakyReluParamsS8 {
    /// Parameters for `y = x` (`x >= 0`), `y = alpha * x` (`x < 0`) between the given input and
    /// output quantizations.
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] for a scale that is not finite and positive,
    /// [`QuantError::InvalidZeroPoint`] for a zero point outside `-128..=127`,
    /// [`QuantError::InvalidMultiplier`] if `alpha` is negative or NaN, or a multiplier is not
    /// representable (at least `2^30`). A negative `alpha` would need a negative multiplier,
    /// which the [`Requantizer`] does not represent.
    pub fn new(
        in_scale: f32,
        in_zp: i32,
        alpha: f32,
        out_scale: f32,
        out_zp: i32,
    ) -> Result<Self, QuantError> {
        check_scale(in_scale)?;
        check_scale(out_scale)?;
        check_zero_point(in_zp)?;
        check_zero_point(out_zp)?;
        // f32 arithmetic first, then widened: TFLite computes these products on the float
        // scales, and the rounding of that step decides the last bit of the multiplier.
        let identity = Requantizer::from_real((in_scale / out_scale) as f64)?;
        let alpha = Requantizer::from_real((in_scale * alpha / out_scale) as f64)?;
        Ok(LeakyReluParamsS8 {
            input_zero_point: in_zp,
            output_zero_point: out_zp,
            identity,
            alpha,
        })
    }

    /// Rebuilds parameters from their parts (as a model file stores them), checking each: zero
    /// points in `-128..=127`, requantizers with a multiplier in `[2^30, 2^31)` (or 0) and a
    /// shift in `-31..=30`, as [`Requantizer::from_real`] produces them.
    ///
    /// # Errors
    /// [`QuantError::InvalidZeroPoint`] or [`QuantError::InvalidMultiplier`].
    pub fn from_parts(
        input_zero_point: i32,
        output_zero_point: i32,
        identity: Requantizer,
        alpha: Requantizer,
    ) -> Result<Self, QuantError> {
        check_zero_point(input_zero_point)?;
        check_zero_point(output_zero_point)?;
        for r in [identity, alpha] {
            let mantissa_ok = r.multiplier == 0 || r.multiplier >= 1 << 30;
            if !mantissa_ok || !(-31..=30).contains(&r.shift) {
                return Err(QuantError::InvalidMultiplier);
            }
        }
        Ok(LeakyReluParamsS8 {
            input_zero_point,
            output_zero_point,
            identity,
            alpha,
        })
    }

    /// The input zero point.
    pub fn input_zero_point(&self) -> i32 {
        self.input_zero_point
    }

    /// The output zero point.
    pub fn output_zero_point(&self) -> i32 {
        self.output_zero_point
    }

    /// The requantizer of inputs at or above the zero point (`in_scale / out_scale`).
    pub fn identity(&self) -> Requantizer {
        self.identity
    }

    /// The requantizer of inputs below the zero point (`in_scale · alpha / out_scale`).
    pub fn alpha(&self) -> Requantizer {
        self.alpha
    }
}

/// int8 LeakyReLU, as TFLite's `QuantizeLeakyRelu`:
/// `v = x - in_zp; y = out_zp + requantize(v)` with the identity multiplier for `v >= 0` and the
/// alpha multiplier below, saturated to int8.
///
/// # Shapes
/// `input` and `output`: any shape, the same number of elements.
///
/// # Errors
/// [`ShapeError::Length`] (buffer `Output`) if `output.len() != input.len()`; nothing is written.
pub fn leaky_relu_s8(
    p: &LeakyReluParamsS8,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    check_len(Buffer::Output, input.len(), output.len())?;
    for (o, &x) in output.iter_mut().zip(input) {
        let v = x as i32 - p.input_zero_point;
        let scaled = if v >= 0 {
            p.identity.apply(v)
        } else {
            p.alpha.apply(v)
        };
        *o = clamp_to_act(
            ActivationS8::NONE,
            scaled.saturating_add(p.output_zero_point),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// int8: lookup tables
// ---------------------------------------------------------------------------------------------

/// Output scale TFLite requires for int8 sigmoid (logistic): `1/256`, so `[0, 1)` spans the range.
pub const SIGMOID_OUTPUT_SCALE: f32 = 1.0 / 256.0;
/// Output zero point TFLite requires for int8 sigmoid: `-128` (real 0).
pub const SIGMOID_OUTPUT_ZERO_POINT: i32 = -128;
/// Output scale TFLite requires for int8 tanh: `1/128`, so `[-1, 1)` spans the range.
pub const TANH_OUTPUT_SCALE: f32 = 1.0 / 128.0;
/// Output zero point TFLite requires for int8 tanh: `0`.
pub const TANH_OUTPUT_ZERO_POINT: i32 = 0;

/// A 256-entry int8 lookup table of an elementwise function: `output = table[input as u8]`.
///
/// Any function of one int8 value is exactly a table, so sigmoid, tanh and GELU in int8 cost one
/// load per element. The table is built as TFLite's `LUTPopulate<int8_t>`: each input is
/// dequantized, transformed in f32 and requantized with `round(y * (1 / out_scale)) + out_zp`
/// (ties away from zero), saturated to int8.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LutS8(pub [i8; 256]);

impl LutS8 {
    /// Builds the table of `f` between the given input and output quantizations.
    ///
    /// `f` should come from [`crate::num::math`] so that host and device build the same table.
    /// A NaN result of `f` is stored as the output zero point.
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] for a scale that is not finite and positive,
    /// [`QuantError::InvalidZeroPoint`] for a zero point outside `-128..=127`.
    pub fn new(
        in_scale: f32,
        in_zp: i32,
        out_scale: f32,
        out_zp: i32,
        f: fn(f32) -> f32,
    ) -> Result<Self, QuantError> {
        check_scale(in_scale)?;
        check_scale(out_scale)?;
        check_zero_point(in_zp)?;
        check_zero_point(out_zp)?;
        // TFLite multiplies by the f32 reciprocal rather than dividing; the two differ in the
        // last bit, which can move an entry sitting on a rounding tie.
        let inverse_scale = 1.0 / out_scale;
        let mut table = [0i8; 256];
        for q in i8::MIN..=i8::MAX {
            let real = in_scale * (q as i32 - in_zp) as f32;
            let rescaled = libm::roundf(f(real) * inverse_scale);
            let quantized = if rescaled.is_nan() {
                out_zp
            } else {
                // `as` saturates out-of-range floats (C++ would be undefined there).
                (rescaled + out_zp as f32) as i32
            };
            table[q as u8 as usize] = clamp_to_act(ActivationS8::NONE, quantized);
        }
        Ok(LutS8(table))
    }

    /// Sigmoid with TFLite's int8 output quantization ([`SIGMOID_OUTPUT_SCALE`],
    /// [`SIGMOID_OUTPUT_ZERO_POINT`]).
    ///
    /// # Errors
    /// As [`LutS8::new`] for the input parameters.
    pub fn sigmoid(in_scale: f32, in_zp: i32) -> Result<Self, QuantError> {
        Self::new(
            in_scale,
            in_zp,
            SIGMOID_OUTPUT_SCALE,
            SIGMOID_OUTPUT_ZERO_POINT,
            math::sigmoid,
        )
    }

    /// Tanh with TFLite's int8 output quantization ([`TANH_OUTPUT_SCALE`],
    /// [`TANH_OUTPUT_ZERO_POINT`]).
    ///
    /// # Errors
    /// As [`LutS8::new`] for the input parameters.
    pub fn tanh(in_scale: f32, in_zp: i32) -> Result<Self, QuantError> {
        Self::new(
            in_scale,
            in_zp,
            TANH_OUTPUT_SCALE,
            TANH_OUTPUT_ZERO_POINT,
            math::tanh,
        )
    }

    /// GELU (exact, erf form). GELU has no fixed output range, so the output quantization is the
    /// caller's.
    ///
    /// # Errors
    /// As [`LutS8::new`].
    pub fn gelu(
        in_scale: f32,
        in_zp: i32,
        out_scale: f32,
        out_zp: i32,
    ) -> Result<Self, QuantError> {
        Self::new(in_scale, in_zp, out_scale, out_zp, math::gelu)
    }

    /// The table entry for one input value.
    #[inline]
    pub fn lookup(&self, x: i8) -> i8 {
        self.0[x as u8 as usize]
    }

    /// Applies the table in place.
    pub fn apply(&self, x: &mut [i8]) {
        for v in x.iter_mut() {
            *v = self.lookup(*v);
        }
    }

    /// Applies the table from `input` into `output`.
    ///
    /// # Shapes
    /// `input` and `output`: any shape, the same number of elements.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (buffer `Output`) if `output.len() != input.len()`; nothing is
    /// written.
    pub fn apply_to(&self, input: &[i8], output: &mut [i8]) -> Result<(), ShapeError> {
        check_len(Buffer::Output, input.len(), output.len())?;
        for (o, &x) in output.iter_mut().zip(input) {
            *o = self.lookup(x);
        }
        Ok(())
    }
}
