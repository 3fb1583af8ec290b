//! Softmax and log-softmax over the last axis, in f32 and in TFLite's int8 arithmetic.
//!
//! The int8 kernels are ports of TFLite's reference kernels (`reference_ops::Softmax` for int8
//! input, `reference_integer_ops::LogSoftmax`): the scaled input differences are exponentiated in
//! gemmlowp fixed point ([`crate::num::fixedpoint`]), summed in Q12.19, and divided through a
//! fixed-point reciprocal (softmax) or offset by a fixed-point logarithm (log-softmax), so outputs
//! match TFLite bit for bit. The exponential and the input scaling run in forms specialised to
//! the softmax's Q5.26 format (`fixed`, about a third of the general functions' instructions),
//! with the same result for every argument; a row's exponentials are computed once when the row
//! is short enough to keep them on the stack.

use crate::error::{check_len, Buffer, QuantError, ShapeError};
use crate::num::fixed::rounding_divide_by_pot;
use crate::num::fixedpoint::{get_reciprocal, log_x_for_x_greater_than_or_equal_to_1};
use crate::num::math;
use crate::num::quant::Requantizer;
use fixed::{divide_by_pot, exp_q5, to_q12, DiffScale};

mod fixed;

/// Integer bits of the scaled input differences fed to the exponential (Q5.26): differences as
/// large as -32 must fit, and exp(-16) is already negligible in the sum.
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (Q12.19): up to 2^12 terms of at most 1 cannot overflow.
const ACCUMULATION_INTEGER_BITS: i32 = 12;
/// Integer bits of the log-softmax output before narrowing (its range is `[-16, 0]`).
const LOG_OUTPUT_INTEGER_BITS: i32 = 4;
/// Zero point of the int8 log-softmax output (scale 16/256): real 0 is 127.
const LOG_OUTPUT_ZERO_POINT: i32 = 127;

/// Checks `depth` and the buffer lengths shared by every softmax kernel.
fn check_rows(depth: usize, input_len: usize, output_len: usize) -> Result<(), ShapeError> {
    if depth == 0 {
        return Err(ShapeError::Dimension);
    }
    check_len(Buffer::Input, input_len - input_len % depth, input_len)?;
    check_len(Buffer::Output, input_len, output_len)
}

/// Scans a row for the values that make softmax undefined: returns the row maximum, or `None` if
/// the row holds a NaN or +inf or only -inf.
fn finite_row_max(row: &[f32]) -> Option<f32> {
    let mut max = f32::NEG_INFINITY;
    for &x in row {
        if x.is_nan() {
            return None;
        }
        if x > max {
            max = x;
        }
    }
    if max.is_finite() {
        Some(max)
    } else {
        None
    }
}

/// Softmax over the last axis: `out[i] = exp(x[i] - max) / sum_j exp(x[j] - max)` per row.
///
/// Subtracting the row maximum keeps every exponential in `(0, 1]` and the sum in `[1, depth]`,
/// so large inputs cannot overflow. A row containing NaN or +inf, or only -inf, gives NaN in every
/// output of that row; otherwise -inf inputs give exactly 0.
///
/// # Shapes
/// `input` and `output`: `[outer, depth]`, row-major; `outer` is `input.len() / depth` and may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] if `input.len()` is not a
/// multiple of `depth` or `output.len() != input.len()`. Nothing is written on error.
pub fn softmax_f32(depth: usize, input: &[f32], output: &mut [f32]) -> Result<(), ShapeError> {
    check_rows(depth, input.len(), output.len())?;
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let Some(max) = finite_row_max(row_in) else {
            row_out.fill(f32::NAN);
            continue;
        };
        let mut sum = 0.0f32;
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let e = math::exp(x - max);
            *o = e;
            sum += e;
        }
        // sum >= 1 (the maximum contributes exp(0)), so one reciprocal serves the row.
        let inv = 1.0 / sum;
        for o in row_out.iter_mut() {
            *o *= inv;
        }
    }
    Ok(())
}

/// Log-softmax over the last axis: `out[i] = x[i] - max - ln(sum_j exp(x[j] - max))` per row.
///
/// Computed from the max-subtracted inputs, so it is stable for large inputs and exact where
/// softmax underflows to 0. A row containing NaN or +inf, or only -inf, gives NaN in every output
/// of that row; otherwise -inf inputs give -inf, as do finite outputs below `-f32::MAX` (possible
/// only for inputs more than `f32::MAX` apart).
///
/// # Shapes
/// `input` and `output`: `[outer, depth]`, row-major; `outer` is `input.len() / depth` and may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] if `input.len()` is not a
/// multiple of `depth` or `output.len() != input.len()`. Nothing is written on error.
pub fn log_softmax_f32(depth: usize, input: &[f32], output: &mut [f32]) -> Result<(), ShapeError> {
    check_rows(depth, input.len(), output.len())?;
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let Some(max) = finite_row_max(row_in) else {
            row_out.fill(f32::NAN);
            continue;
        };
        let mut sum = 0.0f32;
        for &x in row_in {
            sum += math::exp(x - max);
        }
        let log_sum = math::ln(sum);
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            *o = (x - max) - log_sum;
        }
    }
    Ok(())
}

/// TFLite's `QuantizeMultiplier` without a range limit on the shift: `real = m * 2^shift / 2^31`
/// with `m` in `[2^30, 2^31)`; multipliers below about 2^-32 become `(0, 0)`.
fn quantize_multiplier(real: f64) -> (i32, i32) {
    let (q, mut shift) = libm::frexp(real);
    let mut q_fixed = libm::round(q * (1i64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return (0, 0);
    }
    (q_fixed as i32, shift)
}

/// TFLite's `PreprocessSoftmaxScaling` and `CalculateInputRadius` for Q5.26 differences: the
/// multiplier and left shift taking an int8 difference to Q5.26 (the real multiplier
/// `beta * input_scale * 2^26`, capped at `2^31 - 1`), and the most negative difference whose
/// scaled value still fits (`diff_min`).
fn preprocess_softmax_scaling(beta: f64, input_scale: f64) -> Result<(i32, i32, i32), QuantError> {
    let real = (beta * input_scale * (1u64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
        .min(((1u64 << 31) - 1) as f64);
    // TFLite requires a multiplier above one (a non-negative left shift).
    if real <= 1.0 {
        return Err(QuantError::InvalidMultiplier);
    }
    let (multiplier, left_shift) = quantize_multiplier(real);
    // floor((2^5 - 1) * 2^26 / 2^left_shift), left_shift in 1..=31.
    let radius = ((((1i64 << SCALED_DIFF_INTEGER_BITS) - 1) << (31 - SCALED_DIFF_INTEGER_BITS))
        >> left_shift) as i32;
    Ok((multiplier, left_shift, -radius))
}

/// Quantization parameters of the int8 softmax kernels ([`softmax_s8`], [`softmax_s8_s16`]).
///
/// The input is int8 with any zero point (only differences to the row maximum are used); the
/// output quantization is fixed by the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SoftmaxParamsS8 {
    /// Q31 multiplier taking an input difference, times `beta * input_scale`, to Q5.26.
    pub input_multiplier: i32,
    /// Left shift applied with `input_multiplier`.
    pub input_left_shift: i32,
    /// Input differences to the row maximum below this give an output of exactly 0 (their
    /// scaled value would not fit in Q5.26).
    pub diff_min: i32,
}

impl SoftmaxParamsS8 {
    /// Computes the parameters as TFLite's softmax `Prepare` does (`PreprocessSoftmaxScaling` and
    /// `CalculateInputRadius` with 5 integer bits, in f64).
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] if `input_scale` is not finite and positive;
    /// [`QuantError::InvalidMultiplier`] if `beta` is not finite and positive or
    /// `beta * input_scale * 2^26 <= 1` (TFLite rejects such a small multiplier too).
    pub fn new(input_scale: f32, beta: f32) -> Result<Self, QuantError> {
        if !(input_scale.is_finite() && input_scale > 0.0) {
            return Err(QuantError::InvalidScale);
        }
        if !(beta.is_finite() && beta > 0.0) {
            return Err(QuantError::InvalidMultiplier);
        }
        let (input_multiplier, input_left_shift, diff_min) =
            preprocess_softmax_scaling(beta as f64, input_scale as f64)?;
        Ok(SoftmaxParamsS8 {
            input_multiplier,
            input_left_shift,
            diff_min,
        })
    }
}

/// An integer output type of the int8 softmax.
trait SoftmaxOutput: Copy {
    const BITS: i32;
    const MIN: i32;
    const MAX: i32;
    fn narrow(x: i32) -> Self;
}

impl SoftmaxOutput for i8 {
    const BITS: i32 = 8;
    const MIN: i32 = i8::MIN as i32;
    const MAX: i32 = i8::MAX as i32;
    fn narrow(x: i32) -> Self {
        x as i8
    }
}

impl SoftmaxOutput for i16 {
    const BITS: i32 = 16;
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    fn narrow(x: i32) -> Self {
        x as i16
    }
}

/// TFLite's `MultiplyByQuantizedMultiplier` (for a non-negative shift, the
/// `...GreaterThanOne` variant that scales differences to Q5.26).
///
/// The shift is clamped to `-31..=31`, which changes no result (larger shifts saturate or round
/// to the same values) and keeps caller-built parameters from overflowing the negation.
#[inline]
fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    Requantizer {
        multiplier,
        shift: shift.clamp(-31, 31),
    }
    .apply(x)
}

/// Rows up to this depth keep their exponentials on the stack between the two passes; longer
/// rows compute them twice.
const CACHED_DEPTH: usize = 32;

/// TFLite's reference `Softmax<int8_t, OutputT>`, one row at a time, with the fixed-point
/// functions in the specialised forms of [`fixed`] (same results to the bit).
fn softmax_quantized<T: SoftmaxOutput>(
    p: &SoftmaxParamsS8,
    depth: usize,
    input: &[i8],
    output: &mut [T],
) -> Result<(), ShapeError> {
    check_rows(depth, input.len(), output.len())?;
    let scale = DiffScale::new(p.input_multiplier, p.input_left_shift);
    let exp_of = |diff: i32| exp_q5(scale.apply(diff));
    let mut cache = [0i32; CACHED_DEPTH];
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = row_in.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let mut cached = cache.get_mut(..depth);
        let mut sum_of_exps = 0i32;
        for (i, &x) in row_in.iter().enumerate() {
            let diff = x as i32 - max;
            if diff >= p.diff_min {
                let e = exp_of(diff);
                if let Some(slot) = cached.as_deref_mut().and_then(|c| c.get_mut(i)) {
                    *slot = e;
                }
                // TFLite's sum cannot overflow for depth <= 4096; beyond, saturate rather than
                // wrap so the result stays the nearest meaningful one.
                sum_of_exps = sum_of_exps.saturating_add(to_q12(e));
            }
        }
        let (shifted_scale, num_bits_over_unit) =
            get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        // scale * exp is in Q0.31; the output step is 2^-BITS of the probability. TFLite aborts
        // for exponents above 31 (sums of 512 and more with int8 output); the correctly rounded
        // quotient of an i32 by 2^32 or more is 0, which a zero multiplier gives.
        let exponent = num_bits_over_unit + 31 - T::BITS;
        let (shifted_scale, exponent) = if exponent > 31 {
            (0, 0)
        } else {
            (shifted_scale, exponent.max(0) as u32)
        };
        let mask = ((1u64 << exponent) - 1) as i32;
        let half = mask >> 1;
        for (i, (o, &x)) in row_out.iter_mut().zip(row_in).enumerate() {
            let diff = x as i32 - max;
            *o = if diff >= p.diff_min {
                let e = match cached.as_deref().and_then(|c| c.get(i)) {
                    Some(&e) => e,
                    None => exp_of(diff),
                };
                // The exponential is never i32::MIN, so the product cannot saturate.
                let scaled = fixed::mul(shifted_scale, e);
                let unsat = divide_by_pot(scaled, exponent, mask, half);
                T::narrow(unsat.saturating_add(T::MIN).clamp(T::MIN, T::MAX))
            } else {
                T::narrow(T::MIN)
            };
        }
    }
    Ok(())
}

/// int8 softmax over the last axis, bit-exact with TFLite's reference kernel.
///
/// The output is quantized with scale 1/256 and zero point -128 (TFLite's required output
/// quantization): probability `k/256` is `k - 128`, saturated to 127. Inputs whose difference to
/// the row maximum is below `p.diff_min` give -128.
///
/// # Shapes
/// `input` and `output`: `[outer, depth]`, row-major; `outer` is `input.len() / depth` and may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] if `input.len()` is not a
/// multiple of `depth` or `output.len() != input.len()`. Nothing is written on error.
pub fn softmax_s8(
    p: &SoftmaxParamsS8,
    depth: usize,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    softmax_quantized(p, depth, input, output)
}

/// int8 softmax with int16 output, bit-exact with TFLite's reference `Softmax<int8_t, int16_t>`.
///
/// The output is quantized with scale 1/65536 and zero point -32768 (as TFLite requires for this
/// combination): probability `k/65536` is `k - 32768`, saturated to 32767. Inputs whose difference
/// to the row maximum is below `p.diff_min` give -32768.
///
/// # Shapes
/// `input` and `output`: `[outer, depth]`, row-major; `outer` is `input.len() / depth` and may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] if `input.len()` is not a
/// multiple of `depth` or `output.len() != input.len()`. Nothing is written on error.
pub fn softmax_s8_s16(
    p: &SoftmaxParamsS8,
    depth: usize,
    input: &[i8],
    output: &mut [i16],
) -> Result<(), ShapeError> {
    softmax_quantized(p, depth, input, output)
}

/// Quantization parameters of [`log_softmax_s8`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LogSoftmaxParamsS8 {
    /// Q31 multiplier taking an input difference, times `input_scale`, to Q5.26.
    pub input_multiplier: i32,
    /// Left shift applied with `input_multiplier`.
    pub input_left_shift: i32,
    /// Q31 multiplier of the inverse scaling (from Q5.26 back to input units).
    pub reverse_multiplier: i32,
    /// Power-of-two exponent applied with `reverse_multiplier` (non-positive: a right shift).
    pub reverse_shift: i32,
    /// Input differences to the row maximum below this give -128 (as in softmax).
    pub diff_min: i32,
}

impl LogSoftmaxParamsS8 {
    /// Computes the parameters as TFLite's int8 log-softmax `Prepare` does
    /// (`PreprocessLogSoftmaxScalingExp` with beta 1 and 5 integer bits, and
    /// `CalculateInputRadius`, in f64).
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] if `input_scale` is not finite and positive;
    /// [`QuantError::InvalidMultiplier`] if `input_scale * 2^26 <= 1` or the inverse scaling is
    /// not below one (both rejected by TFLite as well).
    pub fn new(input_scale: f32) -> Result<Self, QuantError> {
        if !(input_scale.is_finite() && input_scale > 0.0) {
            return Err(QuantError::InvalidScale);
        }
        let (input_multiplier, input_left_shift, diff_min) =
            preprocess_softmax_scaling(1.0, input_scale as f64)?;
        // 2^(31 - left_shift) / multiplier: the real value of one Q5.26 step in input units.
        let reverse = libm::exp2((31 - input_left_shift) as f64) / input_multiplier as f64;
        if !(reverse > 0.0 && reverse < 1.0) {
            return Err(QuantError::InvalidMultiplier);
        }
        let (reverse_multiplier, reverse_shift) = quantize_multiplier(reverse);
        if reverse_shift > 0 {
            return Err(QuantError::InvalidMultiplier);
        }
        Ok(LogSoftmaxParamsS8 {
            input_multiplier,
            input_left_shift,
            reverse_multiplier,
            reverse_shift,
            diff_min,
        })
    }
}

/// int8 log-softmax over the last axis, bit-exact with TFLite's
/// `reference_integer_ops::LogSoftmax`.
///
/// The output is quantized with scale 16/256 and zero point 127 (TFLite's required output
/// quantization): it covers `[-255/16, 0]`, and values below that, or inputs whose difference to
/// the row maximum is below the cut-off, give -128.
///
/// # Shapes
/// `input` and `output`: `[outer, depth]`, row-major; `outer` is `input.len() / depth` and may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `depth` is 0; [`ShapeError::Length`] if `input.len()` is not a
/// multiple of `depth` or `output.len() != input.len()`. Nothing is written on error.
pub fn log_softmax_s8(
    p: &LogSoftmaxParamsS8,
    depth: usize,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    check_rows(depth, input.len(), output.len())?;
    let scale = DiffScale::new(p.input_multiplier, p.input_left_shift);
    let scaled = |diff: i32| scale.apply(diff);
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth))
    {
        let max = row_in.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let mut sum_of_exps = 0i32;
        for &x in row_in {
            let diff = x as i32 - max;
            if diff >= p.diff_min {
                sum_of_exps = sum_of_exps.saturating_add(to_q12(exp_q5(scaled(diff))));
            }
        }
        let log_sum_of_exps = log_x_for_x_greater_than_or_equal_to_1(
            sum_of_exps,
            ACCUMULATION_INTEGER_BITS,
            SCALED_DIFF_INTEGER_BITS,
        );
        // Differences for which diff - log_sum would fall below the Q5.26 range are cut off:
        // the smallest representable value plus log_sum, mapped back to input units.
        let shifted_log_sum = log_sum_of_exps.wrapping_add(i32::MIN);
        let adjusted_diff_min = p
            .diff_min
            .saturating_sub(1)
            .max(multiply_by_quantized_multiplier(
                shifted_log_sum,
                p.reverse_multiplier,
                p.reverse_shift,
            ));
        for (o, &x) in row_out.iter_mut().zip(row_in) {
            let diff = x as i32 - max;
            // Strictly greater, as in TFLite.
            *o = if diff > adjusted_diff_min {
                let out = rounding_divide_by_pot(
                    scaled(diff).wrapping_sub(log_sum_of_exps),
                    31 - SCALED_DIFF_INTEGER_BITS - LOG_OUTPUT_INTEGER_BITS,
                ) + LOG_OUTPUT_ZERO_POINT;
                out.clamp(i8::MIN as i32, i8::MAX as i32) as i8
            } else {
                i8::MIN
            };
        }
    }
    Ok(())
}
