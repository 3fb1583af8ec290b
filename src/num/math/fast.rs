//! The `fast-math` implementations: short range-reduced polynomials in plain f32 arithmetic,
//! branch-light and without tables, for cores without a double-precision FPU.
//!
//! They replace micromath's `exp`, `ln` and `sqrt`, which measure too coarse for training
//! (relative error about 1.3e-3 for `exp`: a 4-term series without range reduction; about 1e-4
//! absolute for `ln`; up to 6 % for `sqrt`, a bit trick without refinement). The versions here
//! reach a few f32 ulps at a similar cost.

use core::f32::consts::LOG2_E;

/// `ln 2` split so that `n * LN2_HI` is exact for `|n| < 2^11` (Cody-Waite reduction).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;

/// `2^n` for `n` in `-126..=127`, built from the exponent bits.
#[inline]
fn pow2i(n: i32) -> f32 {
    f32::from_bits(((n + 127) as u32) << 23)
}

/// `e^x`: `x = n ln 2 + r` with `|r| <= ln 2 / 2`, a degree-6 Taylor polynomial for `e^r`
/// (truncation error below `2.5e-8` relative), scaled by `2^n` in two exact steps so that
/// subnormal results come out right.
pub(super) fn exp(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    // e^x overflows f32 above ln(f32::MAX) and is below half the smallest subnormal under -103.98.
    if x > 88.722_84 {
        return f32::INFINITY;
    }
    if x < -103.98 {
        return 0.0;
    }
    let t = x * LOG2_E;
    let n = if t >= 0.0 {
        (t + 0.5) as i32
    } else {
        (t - 0.5) as i32
    };
    let nf = n as f32;
    let r = (x - nf * LN2_HI) - nf * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n is in -150..=128: both halves are normal powers of two.
    let n1 = n / 2;
    p * pow2i(n1) * pow2i(n - n1)
}

/// Natural logarithm: `x = m 2^e` with `m` in `[√½, √2)`, `ln m = 2 atanh(s)`,
/// `s = (m - 1) / (m + 1)` (`|s| <= 0.172`, series to `s^9`, truncation below `1e-9`).
pub(super) fn ln(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 {
        return f32::NEG_INFINITY;
    }
    if x == f32::INFINITY {
        return x;
    }
    let (x, mut e) = if x < f32::MIN_POSITIVE {
        // Subnormal: normalise first (2^23 is exact).
        (x * 8_388_608.0, -23)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    e += ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    if m > core::f32::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    let ln_m = 2.0 * s * series;
    let ef = e as f32;
    ef * LN2_HI + (ln_m + ef * LN2_LO)
}

/// Square root: the inverse square root from the exponent-halving bit trick, two Newton steps
/// (relative error about `5e-6`), then one multiply-free-of-division correction of the root
/// (`s + (x - s²) y / 2`), which squares that error away.
pub(super) fn sqrt(x: f32) -> f32 {
    if x.is_nan() || x < 0.0 {
        return f32::NAN;
    }
    if x == 0.0 || x == f32::INFINITY {
        // sqrt(±0) = ±0 and sqrt(inf) = inf, as IEEE 754.
        return x;
    }
    // Scale subnormals up (the bit trick needs a normal exponent) and huge values down (so that
    // `s * s` below cannot overflow); powers of 4 scale the root exactly by powers of 2.
    let (x, scale) = if x < f32::MIN_POSITIVE {
        (x * 16_777_216.0, 1.0 / 4096.0)
    } else if x > 1.0e30 {
        (x * (1.0 / 16_777_216.0), 4096.0)
    } else {
        (x, 1.0)
    };
    let mut y = f32::from_bits(0x5f37_59df - (x.to_bits() >> 1));
    let half = 0.5 * x;
    y *= 1.5 - half * y * y;
    y *= 1.5 - half * y * y;
    let s = x * y;
    let s = s + 0.5 * y * (x - s * s);
    s * scale
}
