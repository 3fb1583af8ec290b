//! References for the elementwise kernels (add, mul), and the exact-integer model of TFLite's
//! requantization that the int8 references of this family share.
//!
//! The requantization is written from its mathematical definition with `i128` arithmetic:
//!
//! - `SaturatingRoundingDoublingHighMul(a, b)` is `a * b / 2^31` rounded to nearest with ties
//!   toward +infinity (gemmlowp's nudge of `+2^30` / `1 - 2^30` followed by a truncating division
//!   works out to exactly `floor((a b + 2^30) / 2^31)`), with `MIN * MIN` saturating to `MAX`;
//! - `RoundingDivideByPOT(x, e)` is `x / 2^e` rounded to nearest, ties away from zero;
//! - a real multiplier `m` is `q * 2^shift` with `q` in `[0.5, 1)`, `q` stored as
//!   `round(q * 2^31)`, and applied as `RDBPOT(SRDHM(x * 2^max(shift,0), q), max(-shift,0))`.

/// A real multiplier decomposed as TFLite's `QuantizeMultiplier`: `(multiplier, shift)` with
/// `real ≈ multiplier * 2^(shift - 31)`, `multiplier` in `[2^30, 2^31)`, or `(0, 0)` for zero and
/// for multipliers below `2^-32`. `None` if `real` is negative, not finite, or `shift > 30`.
pub fn quantize_multiplier(real: f64) -> Option<(i64, i32)> {
    if !real.is_finite() || real < 0.0 {
        return None;
    }
    if real == 0.0 {
        return Some((0, 0));
    }
    // Normalise into [0.5, 1) by exact power-of-two scaling.
    let mut q = real;
    let mut shift = 0i32;
    while q >= 1.0 {
        q /= 2.0;
        shift += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        shift -= 1;
    }
    let mut fixed = (q * 2f64.powi(31)).round() as i64;
    if fixed == 1i64 << 31 {
        fixed /= 2;
        shift += 1;
    }
    if shift < -31 {
        return Some((0, 0));
    }
    if shift > 30 {
        return None;
    }
    Some((fixed, shift))
}

/// `floor((a b + 2^30) / 2^31)`, with the one overflowing case saturated.
pub fn srdhm(a: i64, b: i64) -> i64 {
    if a == i32::MIN as i64 && b == i32::MIN as i64 {
        return i32::MAX as i64;
    }
    let ab = a as i128 * b as i128;
    (ab + (1i128 << 30)).div_euclid(1i128 << 31) as i64
}

/// `x / 2^e` rounded to nearest, ties away from zero.
pub fn rounding_divide_by_pot(x: i64, e: i32) -> i64 {
    if e <= 0 {
        return x;
    }
    let den = 1i128 << e;
    let mag = (x.unsigned_abs() as i128 * 2 + den) / (2 * den);
    if x < 0 {
        -(mag as i64)
    } else {
        mag as i64
    }
}

/// TFLite's double-rounding `MultiplyByQuantizedMultiplier(x, multiplier, shift)`. The left shift
/// saturates to the i32 range (TFLite leaves an overflow there undefined).
pub fn multiply_by_quantized_multiplier(x: i64, multiplier: i64, shift: i32) -> i64 {
    let left = shift.max(0);
    let right = (-shift).max(0);
    let shifted = (x as i128 * (1i128 << left)).clamp(i32::MIN as i128, i32::MAX as i128) as i64;
    rounding_divide_by_pot(srdhm(shifted, multiplier), right)
}

/// Quantization of one int8 tensor.
#[derive(Clone, Copy, Debug)]
pub struct Quant {
    /// Scale.
    pub scale: f32,
    /// Zero point.
    pub zero_point: i32,
}

/// Clamps to `[min, max]` and narrows.
fn clamp_i8(x: i64, min: i8, max: i8) -> i8 {
    x.max(min as i64).min(max as i64) as i8
}

/// f64 reference of `act(a + b)` in f32 inputs: the exact sum, clamped.
pub fn add_f64(a: &[f32], b: &[f32], min: f32, max: f32) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 + y as f64).clamp(min as f64, max as f64))
        .collect()
}

/// f64 reference of `act(a * b)`.
pub fn mul_f64(a: &[f32], b: &[f32], min: f32, max: f32) -> Vec<f64> {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (x as f64 * y as f64).clamp(min as f64, max as f64))
        .collect()
}

/// TFLite's int8 add, element by element, from the quantization parameters (`None` if TFLite's
/// prepare step would reject them: a multiplier not below one).
pub fn add_i8(
    q1: Quant,
    q2: Quant,
    qo: Quant,
    act: (i8, i8),
    a: &[i8],
    b: &[i8],
) -> Option<Vec<i8>> {
    let twice_max = 2.0 * q1.scale.max(q2.scale);
    let below_one = |real: f64| quantize_multiplier(real).filter(|&(_, s)| s <= 0);
    let (m1, s1) = below_one(q1.scale as f64 / twice_max as f64)?;
    let (m2, s2) = below_one(q2.scale as f64 / twice_max as f64)?;
    let (mo, so) = below_one(twice_max as f64 / (1048576.0f32 * qo.scale) as f64)?;
    Some(
        a.iter()
            .zip(b)
            .map(|(&x, &y)| {
                let x = (x as i64 - q1.zero_point as i64) * (1 << 20);
                let y = (y as i64 - q2.zero_point as i64) * (1 << 20);
                let sum = multiply_by_quantized_multiplier(x, m1, s1)
                    + multiply_by_quantized_multiplier(y, m2, s2);
                let out = multiply_by_quantized_multiplier(sum, mo, so) + qo.zero_point as i64;
                clamp_i8(out, act.0, act.1)
            })
            .collect(),
    )
}

/// TFLite's int8 mul (multiplier `s1 s2 / s_out` computed in f32), element by element; `None` if
/// the multiplier is not representable.
pub fn mul_i8(
    q1: Quant,
    q2: Quant,
    qo: Quant,
    act: (i8, i8),
    a: &[i8],
    b: &[i8],
) -> Option<Vec<i8>> {
    let (m, s) = quantize_multiplier((q1.scale * q2.scale / qo.scale) as f64)?;
    Some(
        a.iter()
            .zip(b)
            .map(|(&x, &y)| {
                let p = (x as i64 - q1.zero_point as i64) * (y as i64 - q2.zero_point as i64);
                let out = multiply_by_quantized_multiplier(p, m, s) + qo.zero_point as i64;
                clamp_i8(out, act.0, act.1)
            })
            .collect(),
    )
}
