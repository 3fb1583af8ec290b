//! References for softmax and log-softmax.
//!
//! - [`softmax_f64`], [`log_softmax_f64`]: the real-valued definitions in f64.
//! - [`softmax_s8`], [`softmax_s8_s16`], [`log_softmax_s8`]: TFLite's integer softmax and
//!   log-softmax written again from the gemmlowp/TFLite definitions with `i64`/`i128` arithmetic.
//!   Each fixed-point primitive is restated in its mathematical form (a floor, a clamp, a rounding
//!   rule) rather than the C++ bit tricks, so an error in either transcription shows up as a
//!   mismatch.

/// Real softmax of each row of `[outer, depth]`, `exp(x - max) / sum exp(x - max)`.
pub fn softmax_f64(depth: usize, input: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(input.len());
    for row in input.chunks_exact(depth) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = row.iter().map(|&x| (x - max).exp()).sum();
        out.extend(row.iter().map(|&x| (x - max).exp() / sum));
    }
    out
}

/// Real log-softmax of each row of `[outer, depth]`, `x - max - ln(sum exp(x - max))`.
pub fn log_softmax_f64(depth: usize, input: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(input.len());
    for row in input.chunks_exact(depth) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let log_sum = row.iter().map(|&x| (x - max).exp()).sum::<f64>().ln();
        out.extend(row.iter().map(|&x| x - max - log_sum));
    }
    out
}

const I32_MIN: i64 = i32::MIN as i64;
const I32_MAX: i64 = i32::MAX as i64;

/// `a * b / 2^31` rounded half up (toward +inf), `MIN * MIN` saturated: the value gemmlowp's
/// `SaturatingRoundingDoublingHighMul` computes with its sign-dependent nudge and truncation.
pub fn srdhm(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let p = a as i128 * b as i128;
    (p + (1i128 << 30)).div_euclid(1i128 << 31) as i32
}

/// `x / 2^e` rounded to nearest with ties away from zero (`0 <= e <= 31`).
pub fn rdbpot(x: i64, e: u32) -> i64 {
    if e == 0 {
        return x;
    }
    let d = 1i64 << e;
    let q = x.div_euclid(d);
    let r = x.rem_euclid(d);
    if 2 * r > d || (2 * r == d && x >= 0) {
        q + 1
    } else {
        q
    }
}

/// `x * 2^e` clamped to the i32 range for `e >= 0`, [`rdbpot`] for `e < 0`.
pub fn mul_pot(x: i64, e: i32) -> i64 {
    if e >= 0 {
        (x << e.min(32)).clamp(I32_MIN, I32_MAX)
    } else {
        rdbpot(x, (-e) as u32)
    }
}

fn fmul(a: i64, b: i64) -> i64 {
    srdhm(a as i32, b as i32) as i64
}

/// Wrap to i32 as C++ two's complement arithmetic would (never reached in the tested domains).
fn w(x: i64) -> i64 {
    x as i32 as i64
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl`, Q0.31 in and out.
pub fn exp_quarter(a: i32) -> i32 {
    let c = 1_895_147_668i64; // round(exp(-1/8) * 2^31)
    let third = 715_827_883i64; // round(2^31 / 3)
    let x = a as i64 + (1 << 28);
    let x2 = fmul(x, x);
    let x3 = fmul(x2, x);
    let x4 = fmul(x2, x2);
    let poly = rdbpot(fmul(rdbpot(x4, 2) + x3, third) + x2, 1);
    w(c + fmul(c, x + poly)) as i32
}

/// gemmlowp `exp_on_negative_values` for a Q`m`.(31-m) input (`0 <= m <= 29`), Q0.31 out.
pub fn exp_negative(a: i32, m: u32) -> i32 {
    if a == 0 {
        return i32::MAX;
    }
    let frac = 31 - m;
    let quarter = 1i64 << (frac - 2);
    let a = a as i64;
    // a = -k/4 + t with t in [-1/4, 0): t = (a mod 1/4) - 1/4.
    let t = a.rem_euclid(quarter) - quarter;
    let mut result = exp_quarter(mul_pot(t, m as i32) as i32) as i64;
    let k = t - a; // a non-negative multiple of 1/4
    let factors = [
        (-2, 1_672_461_947i64),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (e, f) in factors {
        if (m as i32) > e && (k >> (frac as i32 + e)) & 1 == 1 {
            result = fmul(result, f);
        }
    }
    if m > 5 && a < -(1i64 << (36 - m)) {
        return 0;
    }
    result as i32
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`, Q0.31 in and out.
pub fn one_over_one_plus_x(a: i32) -> i32 {
    let sum = a as i64 + I32_MAX;
    // (a + 1) / 2 with ties away from zero.
    let half_d = if sum >= 0 {
        (sum + 1) / 2
    } else {
        (sum - 1) / 2
    };
    let mut x = w(1_515_870_810 + fmul(half_d, -1_010_580_540));
    for _ in 0..3 {
        let e = w((1 << 29) - fmul(half_d, x));
        x = w(x + mul_pot(fmul(x, e), 2));
    }
    mul_pot(x, 1) as i32
}

/// TFLite `GetReciprocal`: `(scale in Q0.31, num_bits_over_unit)`.
pub fn reciprocal(x: i32, integer_bits: i32) -> (i32, i32) {
    let lz = (x as u32).leading_zeros();
    let shifted = if lz >= 32 {
        0u64
    } else {
        ((x as u32 as u64) << lz) & 0xFFFF_FFFF
    };
    let f = (shifted as i64 - (1i64 << 31)) as i32;
    (one_over_one_plus_x(f), integer_bits - lz as i32)
}

/// TFLite `log_x_for_x_greater_than_or_equal_to_1` with input Q`in_bits`, output Q`out_bits`.
pub fn log_x(x: i32, in_bits: i32, out_bits: i32) -> i32 {
    let log_2 = 1_488_522_236i64;
    let sqrt_sqrt_half = 1_805_811_301i64;
    let sqrt_half = 1_518_500_250i64;
    let alpha_n = 117_049_297i64;
    let alpha_d = 127_690_142i64;
    let alpha_i = 1_057_819_769i64;
    let alpha_f = 638_450_708i64;
    let acc = out_bits + 1;
    let quarter = mul_pot(1 << 29, -acc);
    let z = x as i64;
    let ha = (x as u32).leading_zeros() as i32;
    let r_a = mul_pot(fmul(mul_pot(z, ha - 1), sqrt_half), 1);
    let za_adj = (mul_pot((in_bits - ha) as i64, 31 - acc) + quarter).clamp(I32_MIN, I32_MAX);
    let zb = fmul(z, sqrt_half);
    let hb = (zb as i32 as u32).leading_zeros() as i32 - 1;
    let r_b = mul_pot(z, hb);
    let zb_adj = (mul_pot((in_bits - hb) as i64, 31 - acc) - quarter).clamp(I32_MIN, I32_MAX);
    let r = r_a.min(r_b);
    let z_adj = za_adj.max(zb_adj);
    let s = r + sqrt_sqrt_half;
    let p = if s >= 0 { (s + 1) / 2 } else { (s - 1) / 2 };
    let q = w(2 * w(r - sqrt_sqrt_half));
    let sq = fmul(q, q);
    let num = w(fmul(q, r) + fmul(fmul(q, sq), alpha_n));
    let den = w(fmul(p, w(w(alpha_i + q) + fmul(alpha_d, sq))) + fmul(alpha_f, q));
    let recip = one_over_one_plus_x(den as i32) as i64;
    let num_scaled = mul_pot(num, -acc);
    mul_pot(
        w(fmul(z_adj, log_2) + fmul(num_scaled, recip)),
        acc - out_bits,
    ) as i32
}

/// TFLite's double-rounding `MultiplyByQuantizedMultiplier`, from the exact `i128` reference of
/// `reference::num`.
pub use super::num::multiply_by_quantized_multiplier as mbqm;

fn softmax_rows(
    mult: i32,
    shift: i32,
    diff_min: i32,
    depth: usize,
    input: &[i8],
    out_bits: i32,
) -> Vec<i64> {
    let (lo, hi) = (-(1i64 << (out_bits - 1)), (1i64 << (out_bits - 1)) - 1);
    let mut out = Vec::with_capacity(input.len());
    for row in input.chunks_exact(depth) {
        let max = *row.iter().max().unwrap() as i32;
        let exps: Vec<Option<i64>> = row
            .iter()
            .map(|&x| {
                let d = x as i32 - max;
                (d >= diff_min).then(|| exp_negative(mbqm(d, mult, shift), 5) as i64)
            })
            .collect();
        let sum = exps
            .iter()
            .flatten()
            .map(|&e| rdbpot(e, 12))
            .sum::<i64>()
            .clamp(I32_MIN, I32_MAX);
        let (scale, bits_over_unit) = reciprocal(sum as i32, 12);
        let exponent = bits_over_unit + 31 - out_bits;
        for e in exps {
            out.push(match e {
                Some(e) => {
                    let prod = fmul(scale as i64, e);
                    let unsat = if exponent > 31 {
                        0
                    } else {
                        rdbpot(prod, exponent.max(0) as u32)
                    };
                    (unsat + lo).clamp(lo, hi)
                }
                None => lo,
            });
        }
    }
    out
}

/// TFLite reference int8 softmax (output scale 1/256, zero point -128).
pub fn softmax_s8(mult: i32, shift: i32, diff_min: i32, depth: usize, input: &[i8]) -> Vec<i8> {
    softmax_rows(mult, shift, diff_min, depth, input, 8)
        .into_iter()
        .map(|v| v as i8)
        .collect()
}

/// TFLite reference int8-in, int16-out softmax (output scale 1/65536, zero point -32768).
pub fn softmax_s8_s16(
    mult: i32,
    shift: i32,
    diff_min: i32,
    depth: usize,
    input: &[i8],
) -> Vec<i16> {
    softmax_rows(mult, shift, diff_min, depth, input, 16)
        .into_iter()
        .map(|v| v as i16)
        .collect()
}

/// TFLite `reference_integer_ops::LogSoftmax` (output scale 16/256, zero point 127).
#[allow(clippy::too_many_arguments)]
pub fn log_softmax_s8(
    mult: i32,
    shift: i32,
    reverse_mult: i32,
    reverse_shift: i32,
    diff_min: i32,
    depth: usize,
    input: &[i8],
) -> Vec<i8> {
    let mut out = Vec::with_capacity(input.len());
    for row in input.chunks_exact(depth) {
        let max = *row.iter().max().unwrap() as i32;
        let sum = row
            .iter()
            .map(|&x| x as i32 - max)
            .filter(|&d| d >= diff_min)
            .map(|d| rdbpot(exp_negative(mbqm(d, mult, shift), 5) as i64, 12))
            .sum::<i64>()
            .clamp(I32_MIN, I32_MAX);
        let log_sum = log_x(sum as i32, 12, 5) as i64;
        let cut = ((diff_min - 1) as i64).max(mbqm(
            w(log_sum + I32_MIN) as i32,
            reverse_mult,
            reverse_shift,
        ) as i64);
        for &x in row {
            let d = (x as i32 - max) as i64;
            out.push(if d > cut {
                let v = rdbpot(mbqm(d as i32, mult, shift) as i64 - log_sum, 22) + 127;
                v.clamp(-128, 127) as i8
            } else {
                -128
            });
        }
    }
    out
}
