//! Exact references for `tinytune::num`: the fixed-point primitives, the Q types, the
//! requantizer and the quantization parameter choices, written from their definitions with wide
//! integer (`i128`) or f64 arithmetic. Nothing here calls the code under test, nor `frexp` or a
//! rounding function of a math library: every rounding is done on exact integers.

/// `floor(num / 2^k)` for `k >= 0` on exact integers.
fn floor_div_pow2(num: i128, k: u32) -> i128 {
    num.div_euclid(1i128 << k)
}

/// `num / 2^k` rounded to nearest, ties away from zero, on exact integers.
pub fn round_half_away_pow2(num: i128, k: u32) -> i128 {
    if k == 0 {
        return num;
    }
    if k >= 126 {
        // every operand here is far below 2^125 in magnitude
        return 0;
    }
    let half = 1i128 << (k - 1);
    let mag = (num.abs() + half) >> k;
    if num < 0 {
        -mag
    } else {
        mag
    }
}

/// `num / 2^k` rounded to nearest, ties toward `+inf` (floor of the half-nudged value).
pub fn round_half_up_pow2(num: i128, k: u32) -> i128 {
    if k == 0 {
        return num;
    }
    if k >= 126 {
        return 0;
    }
    floor_div_pow2(num + (1i128 << (k - 1)), k)
}

fn clamp_i32(x: i128) -> i32 {
    x.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

/// The doubling high multiply from its definition: the exact value `2ab / 2^32` rounded half up
/// (the rounding of gemmlowp and `SQRDMULH`), saturated to i32 (only `MIN * MIN` overflows).
pub fn srdhm(a: i32, b: i32) -> i32 {
    let doubled = 2 * (a as i128) * (b as i128);
    clamp_i32(round_half_up_pow2(doubled, 32))
}

/// `x / 2^e` rounded to nearest, ties away from zero, for `e` clamped to `0..=31`.
pub fn rdbpot(x: i32, e: i32) -> i32 {
    round_half_away_pow2(x as i128, e.clamp(0, 31) as u32) as i32
}

/// Q multiply for `frac` fractional bits: `a * b / 2^frac` rounded half up, clamped to
/// `[lo, hi]`.
pub fn q_mul(a: i64, b: i64, frac: u32, lo: i64, hi: i64) -> i64 {
    (round_half_up_pow2(a as i128 * b as i128, frac) as i64).clamp(lo, hi)
}

/// Q code of a real `x` with `frac` fractional bits: nearest integer to `x * 2^frac` (ties away
/// from zero), clamped to `[lo, hi]`, NaN -> 0. Exact: `x` is decomposed into an integer
/// mantissa and a power of two.
pub fn q_from_f32(x: f32, frac: u32, lo: i64, hi: i64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    if x.is_infinite() {
        return if x > 0.0 { hi } else { lo };
    }
    let (mant, exp2) = decompose(x as f64);
    // x * 2^frac = mant * 2^(exp2 + frac)
    let e = exp2 + frac as i32;
    let v: i128 = if e >= 0 {
        if e > 60 {
            // far beyond any Q range
            return if mant > 0 { hi } else { lo };
        }
        (mant as i128) << e
    } else if e < -100 {
        0
    } else {
        round_half_away_pow2(mant as i128, (-e) as u32)
    };
    v.clamp(lo as i128, hi as i128) as i64
}

/// A finite f64 as `mant * 2^exp2` with an integer `mant` (sign included), from its bits.
pub fn decompose(x: f64) -> (i64, i32) {
    let bits = x.to_bits();
    let sign = if bits >> 63 == 1 { -1 } else { 1 };
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let frac = (bits & ((1u64 << 52) - 1)) as i64;
    if biased == 0 {
        (sign * frac, -1074)
    } else {
        (sign * (frac | (1i64 << 52)), biased - 1075)
    }
}

/// TFLite's `QuantizeMultiplier` from its definition, for `real >= 0` finite:
/// find `e` with `2^(e-1) <= real < 2^e` (exactly, from the bit length of the integer mantissa),
/// `m = round(real * 2^(31 - e))` ties away from zero (exact integer rounding), `m == 2^31`
/// becomes `2^30` with `e + 1`, `e < -31` flushes to `(0, 0)`, `e > 30` is unrepresentable
/// (`None`).
pub fn quantize_multiplier(real: f64) -> Option<(i32, i32)> {
    assert!(real.is_finite() && real >= 0.0);
    if real == 0.0 {
        return Some((0, 0));
    }
    let (mant, exp2) = decompose(real);
    let bit_len = 64 - (mant as u64).leading_zeros() as i32;
    // real = mant * 2^exp2 lies in [2^(bit_len - 1 + exp2), 2^(bit_len + exp2)).
    let mut e = bit_len + exp2;
    // m = mant * 2^(exp2 + 31 - e) = mant * 2^(31 - bit_len)
    let k = 31 - bit_len;
    let mut m: i128 = if k >= 0 {
        (mant as i128) << k
    } else {
        round_half_away_pow2(mant as i128, (-k) as u32)
    };
    if m == 1i128 << 31 {
        m = 1 << 30;
        e += 1;
    }
    if e < -31 {
        return Some((0, 0));
    }
    if e > 30 {
        return None;
    }
    Some((m as i32, e))
}

/// TFLite's double-rounding `MultiplyByQuantizedMultiplier` on exact integers: `x * 2^left`
/// (saturated to i32, the defined extension of an overflow that is undefined in C++), the high
/// multiply `2 * xs * m / 2^32` rounded half up, then `/ 2^right` rounded half away from zero.
pub fn multiply_by_quantized_multiplier(x: i32, m: i32, shift: i32) -> i32 {
    let left = shift.max(0) as u32;
    let right = (-shift).max(0) as u32;
    let xs = clamp_i32((x as i128) << left);
    let high = clamp_i32(round_half_up_pow2(2 * xs as i128 * m as i128, 32));
    round_half_away_pow2(high as i128, right) as i32
}

/// TFLite `AffineQuantize` for int8: the f32 quotient `x / scale` (f64 division rounded once to
/// f32, which equals the correctly rounded f32 division), rounded ties away from zero, plus the
/// zero point, clamped; NaN -> zero point.
pub fn quantize_affine(x: f32, scale: f32, zero_point: i32) -> i8 {
    let q = (x as f64 / scale as f64) as f32;
    let r = if q.is_nan() {
        0
    } else {
        q_from_f32(q, 0, i32::MIN as i64, i32::MAX as i64)
    };
    (r + zero_point as i64).clamp(-128, 127) as i8
}

/// TFLite `ChooseQuantizationParams<int8_t>` after extending the range to contain 0, in f64,
/// returning `(scale as f64, zero_point)`; `None` for the degenerate `[0, 0]` range.
pub fn choose_quantization_params(min: f64, max: f64) -> Option<(f64, i32)> {
    let rmin = min.min(0.0);
    let rmax = max.max(0.0);
    if rmin == rmax {
        return None;
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let scale = (rmax - rmin) / (qmax - qmin);
    let from_min = qmin - rmin / scale;
    let from_max = qmax - rmax / scale;
    let zp = if qmin.abs() + (rmin / scale).abs() < qmax.abs() + (rmax / scale).abs() {
        from_min
    } else {
        from_max
    };
    let nudged = if zp < qmin {
        -128
    } else if zp > qmax {
        127
    } else {
        // round half away from zero on an f64, done exactly on its integer decomposition
        let (mant, exp2) = decompose(zp);
        if exp2 >= 0 {
            (mant << exp2) as i32
        } else {
            round_half_away_pow2(mant as i128, (-exp2) as u32) as i32
        }
    };
    Some((scale, nudged))
}

/// `x` rounded to nearest, ties away from zero, saturated to i32; NaN -> 0. Exact.
pub fn round_f64_to_i32(x: f64) -> i32 {
    if x.is_nan() {
        return 0;
    }
    if x.is_infinite() || x.abs() >= 2f64.powi(32) {
        return if x > 0.0 { i32::MAX } else { i32::MIN };
    }
    let (mant, exp2) = decompose(x);
    let v = if exp2 >= 0 {
        (mant as i128) << exp2
    } else {
        round_half_away_pow2(mant as i128, (-exp2) as u32)
    };
    clamp_i32(v)
}
