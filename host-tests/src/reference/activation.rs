//! References for the activation kernels: f64 functions, the int8 LeakyReLU in exact integers,
//! and the real-valued (pre-rounding) entries of an int8 lookup table.

use super::elementwise::{multiply_by_quantized_multiplier, quantize_multiplier, Quant};

/// Logistic sigmoid in f64.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Hyperbolic tangent in f64.
pub fn tanh(x: f64) -> f64 {
    x.tanh()
}

/// Error function in f64: the Maclaurin series below `|x| = 3` (terms stay below `e^9`, so about
/// 12 significant digits survive), the continued fraction of `erfc` above.
pub fn erf(x: f64) -> f64 {
    let a = x.abs();
    let y = if a < 3.0 {
        // erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
        let mut term = a; // (-1)^n x^(2n+1) / n!
        let mut sum = a;
        let mut n = 0.0;
        while term.abs() > 1e-17 * sum.abs() {
            n += 1.0;
            term *= -a * a / n;
            sum += term / (2.0 * n + 1.0);
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    } else {
        // erfc z = e^{-z²}/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …)))), evaluated backwards.
        let mut t = a;
        for k in (1..=80).rev() {
            t = a + (k as f64 / 2.0) / t;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / t
    };
    if x < 0.0 {
        -y
    } else {
        y
    }
}

/// GELU, exact form, in f64: `x Φ(x) = 0.5 x (1 + erf(x / √2))`.
pub fn gelu(x: f64) -> f64 {
    0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// TFLite's int8 LeakyReLU (multipliers `s_in alpha / s_out` and `s_in / s_out` computed in f32);
/// `None` if a multiplier is not representable (negative alpha included).
pub fn leaky_relu_i8(qi: Quant, alpha: f32, qo: Quant, input: &[i8]) -> Option<Vec<i8>> {
    let (mi, si) = quantize_multiplier((qi.scale / qo.scale) as f64)?;
    let (ma, sa) = quantize_multiplier((qi.scale * alpha / qo.scale) as f64)?;
    Some(
        input
            .iter()
            .map(|&x| {
                let v = x as i64 - qi.zero_point as i64;
                let scaled = if v >= 0 {
                    multiply_by_quantized_multiplier(v, mi, si)
                } else {
                    multiply_by_quantized_multiplier(v, ma, sa)
                };
                (scaled + qo.zero_point as i64).clamp(-128, 127) as i8
            })
            .collect(),
    )
}

/// For each table index `0..256` (the input `q = index as i8`), the real value
/// `f(s_in (q - zp_in)) / s_out + zp_out` before rounding, in f64.
pub fn lut_prerounding(qi: Quant, qo: Quant, f: fn(f64) -> f64) -> Vec<f64> {
    (0..256)
        .map(|i| {
            let q = i as u8 as i8;
            let x = qi.scale as f64 * (q as i64 - qi.zero_point as i64) as f64;
            f(x) / qo.scale as f64 + qo.zero_point as f64
        })
        .collect()
}

/// Rounds a pre-rounding table value half away from zero and saturates it to int8.
pub fn round_saturate_i8(v: f64) -> i8 {
    v.round().clamp(-128.0, 127.0) as i8
}

/// The int8 ReLU6 range `[zp, min(127, zp + round(6 / scale))]`, from f64.
pub fn relu6_range(scale: f32, zero_point: i32) -> (i8, i8) {
    let top = zero_point as f64 + (6.0 / scale as f64).round();
    (zero_point as i8, top.min(127.0) as i8)
}
