//! Shared helpers of the int8 layer tests: independent f64 (de)quantization and the
//! "within one quantization step" comparison.
#![allow(dead_code)]

use tinytune::num::quant::QuantParams;
pub use tinytune_host_tests::rng::SplitMix64;

/// `clamp(round(x / scale) + zero_point, -128, 127)` in f64, ties away from zero; written here
/// rather than calling `QuantParams::quantize`, the code under test's own helper.
pub fn quantize(x: f64, q: QuantParams) -> i8 {
    let v = (x / q.scale as f64).round() + q.zero_point as f64;
    v.clamp(-128.0, 127.0) as i8
}

/// `scale * (q - zero_point)` in f64.
pub fn dequantize(q: i8, p: QuantParams) -> f64 {
    p.scale as f64 * (q as i32 - p.zero_point) as f64
}

/// Dequantizes a slice to f32 (the f32 kernels' input).
pub fn dequantize_f32(q: &[i8], p: QuantParams) -> Vec<f32> {
    q.iter().map(|&v| dequantize(v, p) as f32).collect()
}

/// Quantizes a slice of reals (f32 kernel outputs or f64 references).
pub fn quantize_all<T: Copy + Into<f64>>(x: &[T], p: QuantParams) -> Vec<i8> {
    x.iter().map(|&v| quantize(v.into(), p)).collect()
}

/// Asymmetric parameters covering `[min, max]` of `values` (extended to contain 0): scale
/// `(max - min) / 255`, zero point rounded, as the TFLite converter chooses them. Computed here,
/// not with the crate's `asymmetric_from_min_max`.
pub fn params_for(values: &[f32]) -> QuantParams {
    let min = values.iter().fold(0.0f64, |m, &v| m.min(v as f64));
    let max = values.iter().fold(0.0f64, |m, &v| m.max(v as f64));
    let scale = ((max - min) / 255.0).max(1e-6);
    let zp = (-128.0 - min / scale).round().clamp(-128.0, 127.0) as i32;
    QuantParams {
        scale: scale as f32,
        zero_point: zp,
    }
}

/// Random input quantization: scale in `[0.005, 0.1)`, zero point in `-60..=60`.
pub fn random_params(rng: &mut SplitMix64) -> QuantParams {
    QuantParams {
        scale: rng.uniform(0.005, 0.1) as f32,
        zero_point: rng.range_i64(-60, 60) as i32,
    }
}

/// Asserts `|got - want| <= 1` element by element (one quantization step of the output).
pub fn assert_within_one_step(got: &[i8], want: &[i8], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g as i32 - w as i32).abs() <= 1,
            "{what}: element {i}: int8 layer {g}, quantized float reference {w}"
        );
    }
}

/// Fraction of `got` equal to `want` exactly: a sanity figure that the comparison is not
/// vacuous (most elements should match exactly, not just within one step).
pub fn exact_fraction(got: &[i8], want: &[i8]) -> f64 {
    let same = got.iter().zip(want).filter(|(g, w)| g == w).count();
    same as f64 / got.len().max(1) as f64
}

/// Spread of a slice (max - min), to check that outputs are not all saturated to one value.
pub fn spread(x: &[i8]) -> i32 {
    let max = x.iter().copied().max().unwrap_or(0) as i32;
    let min = x.iter().copied().min().unwrap_or(0) as i32;
    max - min
}
