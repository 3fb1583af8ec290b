//! Elementwise binary kernels (add, mul) over equal-length slices, f32 and int8.
//!
//! The int8 versions follow TFLite's int8 `Add` and `Mul` exactly. Add has to bring two inputs
//! with different scales onto a common one before summing: both are shifted left by 20 bits
//! (headroom so the rescaling loses nothing), scaled by `s_i / (2 max(s1, s2))` (at most 1/2, so
//! the sum cannot overflow), summed, and the sum requantized to the output scale. Mul needs one
//! multiplier, `s1 s2 / s_out`, applied to the product of the offset inputs.

use super::activation::{check_scale, check_zero_point, clamp_to_act};
use crate::error::{check_len, Buffer, QuantError, ShapeError};
use crate::kernels::{ActivationF32, ActivationS8};
use crate::num::quant::Requantizer;

/// Checks `b` and `out` against the length of `a`.
#[inline]
fn check_binary(a: usize, b: usize, out: usize) -> Result<(), ShapeError> {
    check_len(Buffer::Input2, a, b)?;
    check_len(Buffer::Output, a, out)
}

/// `out = act(a + b)`, elementwise.
///
/// # Shapes
/// `a`, `b`, `out`: any shape, the same number of elements (no broadcasting).
///
/// # Errors
/// [`ShapeError::Length`] naming `Input2` if `b.len() != a.len()`, or `Output` if
/// `out.len() != a.len()`; nothing is written.
pub fn add_f32(
    a: &[f32],
    b: &[f32],
    act: ActivationF32,
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check_binary(a.len(), b.len(), out.len())?;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = act.clamp(x + y);
    }
    Ok(())
}

/// `out = act(a * b)`, elementwise.
///
/// # Shapes
/// `a`, `b`, `out`: any shape, the same number of elements (no broadcasting).
///
/// # Errors
/// [`ShapeError::Length`] naming `Input2` if `b.len() != a.len()`, or `Output` if
/// `out.len() != a.len()`; nothing is written.
pub fn mul_f32(
    a: &[f32],
    b: &[f32],
    act: ActivationF32,
    out: &mut [f32],
) -> Result<(), ShapeError> {
    check_binary(a.len(), b.len(), out.len())?;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = act.clamp(x * y);
    }
    Ok(())
}

/// Checks the six quantization parameters shared by add and mul.
fn check_params(scales: [f32; 3], zero_points: [i32; 3]) -> Result<(), QuantError> {
    for s in scales {
        check_scale(s)?;
    }
    for zp in zero_points {
        check_zero_point(zp)?;
    }
    Ok(())
}

/// A requantizer for a real multiplier below 1, as TFLite's
/// `QuantizeMultiplierSmallerThanOneExp`: the shift must not be positive, because TFLite's add
/// applies it as a pure right shift.
fn smaller_than_one(real: f64) -> Result<Requantizer, QuantError> {
    let r = Requantizer::from_real(real)?;
    if r.shift > 0 {
        return Err(QuantError::InvalidMultiplier);
    }
    Ok(r)
}

/// Quantization parameters of an int8 add, computed once as TFLite's `Add` prepare step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddParamsS8 {
    input1_offset: i32,
    input2_offset: i32,
    output_offset: i32,
    input1: Requantizer,
    input2: Requantizer,
    output: Requantizer,
    act: ActivationS8,
}

impl AddParamsS8 {
    /// Left shift applied to both offset inputs before rescaling (TFLite's `left_shift` for int8).
    pub const LEFT_SHIFT: u32 = 20;

    /// Parameters of `out = act(a + b)` for inputs quantized as `(scale1, zp1)`, `(scale2, zp2)`
    /// and the output as `(scale_out, zp_out)`; `act` is in the output's quantized domain.
    ///
    /// With `twice_max = 2 max(scale1, scale2)` (in f32), the input multipliers are
    /// `scale_i / twice_max` and the output multiplier `twice_max / (2^20 scale_out)`, each
    /// computed in f64 as TFLite does and converted with [`Requantizer::from_real`].
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] for a scale that is not finite and positive,
    /// [`QuantError::InvalidZeroPoint`] for a zero point outside `-128..=127`,
    /// [`QuantError::InvalidMultiplier`] if the output multiplier is 1 or more (an output scale
    /// about `2^-19` times the input scales), which TFLite rejects too.
    pub fn new(
        scale1: f32,
        zp1: i32,
        scale2: f32,
        zp2: i32,
        scale_out: f32,
        zp_out: i32,
        act: ActivationS8,
    ) -> Result<Self, QuantError> {
        check_params([scale1, scale2, scale_out], [zp1, zp2, zp_out])?;
        // `2 * max` is exact in f32; TFLite then divides in f64, except `2^20 * scale_out`, which
        // is an f32 product (exact unless it overflows, which gives a zero multiplier).
        let twice_max = 2.0 * scale1.max(scale2);
        let shifted_out = (1u32 << Self::LEFT_SHIFT) as f32 * scale_out;
        Ok(AddParamsS8 {
            input1_offset: -zp1,
            input2_offset: -zp2,
            output_offset: zp_out,
            input1: smaller_than_one(scale1 as f64 / twice_max as f64)?,
            input2: smaller_than_one(scale2 as f64 / twice_max as f64)?,
            output: smaller_than_one(twice_max as f64 / shifted_out as f64)?,
            act,
        })
    }
}

/// int8 add, as TFLite's int8 `AddElementwise`:
/// `x_i = (q_i - zp_i) << 20`, `s_i = requantize_i(x_i)`,
/// `out = act(requantize_out(s_1 + s_2) + zp_out)`.
///
/// # Shapes
/// `a`, `b`, `out`: any shape, the same number of elements (no broadcasting).
///
/// # Errors
/// [`ShapeError::Length`] naming `Input2` if `b.len() != a.len()`, or `Output` if
/// `out.len() != a.len()`; nothing is written.
pub fn add_s8(p: &AddParamsS8, a: &[i8], b: &[i8], out: &mut [i8]) -> Result<(), ShapeError> {
    check_binary(a.len(), b.len(), out.len())?;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        // |q - zp| <= 255, so the shifted values stay below 2^28: no overflow.
        let x = (x as i32 + p.input1_offset) << AddParamsS8::LEFT_SHIFT;
        let y = (y as i32 + p.input2_offset) << AddParamsS8::LEFT_SHIFT;
        // Each scaled input is at most half its shifted value, so the sum fits; saturating
        // arithmetic only keeps the kernel panic-free for any parameters.
        let sum = p.input1.apply(x).saturating_add(p.input2.apply(y));
        let raw = p.output.apply(sum).saturating_add(p.output_offset);
        *o = clamp_to_act(p.act, raw);
    }
    Ok(())
}

/// Quantization parameters of an int8 mul, computed once as TFLite's `Mul` prepare step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MulParamsS8 {
    input1_offset: i32,
    input2_offset: i32,
    output_offset: i32,
    output: Requantizer,
    act: ActivationS8,
}

impl MulParamsS8 {
    /// Parameters of `out = act(a * b)` for inputs quantized as `(scale1, zp1)`, `(scale2, zp2)`
    /// and the output as `(scale_out, zp_out)`; `act` is in the output's quantized domain.
    ///
    /// The multiplier `scale1 * scale2 / scale_out` is computed in f32, as TFLite does, then
    /// converted with [`Requantizer::from_real`].
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] for a scale that is not finite and positive,
    /// [`QuantError::InvalidZeroPoint`] for a zero point outside `-128..=127`,
    /// [`QuantError::InvalidMultiplier`] if the multiplier is infinite or at least `2^30`.
    pub fn new(
        scale1: f32,
        zp1: i32,
        scale2: f32,
        zp2: i32,
        scale_out: f32,
        zp_out: i32,
        act: ActivationS8,
    ) -> Result<Self, QuantError> {
        check_params([scale1, scale2, scale_out], [zp1, zp2, zp_out])?;
        Ok(MulParamsS8 {
            input1_offset: -zp1,
            input2_offset: -zp2,
            output_offset: zp_out,
            output: Requantizer::from_real((scale1 * scale2 / scale_out) as f64)?,
            act,
        })
    }
}

/// int8 mul, as TFLite's int8 `MulElementwise`:
/// `out = act(requantize((a - zp1) * (b - zp2)) + zp_out)`.
///
/// # Shapes
/// `a`, `b`, `out`: any shape, the same number of elements (no broadcasting).
///
/// # Errors
/// [`ShapeError::Length`] naming `Input2` if `b.len() != a.len()`, or `Output` if
/// `out.len() != a.len()`; nothing is written.
pub fn mul_s8(p: &MulParamsS8, a: &[i8], b: &[i8], out: &mut [i8]) -> Result<(), ShapeError> {
    check_binary(a.len(), b.len(), out.len())?;
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        // Both factors lie in -255..=255, so the product fits in i32.
        let product = (x as i32 + p.input1_offset) * (y as i32 + p.input2_offset);
        let raw = p.output.apply(product).saturating_add(p.output_offset);
        *o = clamp_to_act(p.act, raw);
    }
    Ok(())
}
