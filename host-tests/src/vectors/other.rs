//! Vectors for the requantizer, pooling, elementwise, activation and softmax kernels.

use crate::emit::Emitter;
use crate::reference::activation::{lut_prerounding, round_saturate_i8, sigmoid};
use crate::reference::elementwise::{add_i8, mul_i8, Quant};
use crate::reference::num::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::reference::pool::{avg_pool2d_f64, avg_pool2d_i8, max_pool2d_i8, Pool2d};
use crate::reference::softmax::{softmax_f64, softmax_s8, softmax_s8_s16};
use crate::rng::SplitMix64;

/// Real multipliers at the edges of the requantizer's range and accumulators at the edges of
/// i32, with the `(multiplier, shift)` and products of the exact reference.
fn requant(e: &mut Emitter, rng: &mut SplitMix64) {
    let mut reals = vec![
        0.0,
        1e-10,
        2f64.powi(-32),
        2f64.powi(-31),
        0.000_123_4,
        0.25,
        0.5,
        0.999_999_9,
        1.0,
        1.5,
        2.0,
        1000.5,
        2f64.powi(29) * 1.75,
    ];
    reals.extend((0..11).map(|_| rng.uniform(-14.0, 3.0).exp2()));
    let mut xs = vec![
        i32::MIN,
        i32::MIN + 1,
        -65_537,
        -1,
        0,
        1,
        3,
        65_535,
        i32::MAX,
    ];
    xs.extend((0..7).map(|_| rng.range_i64(i32::MIN as i64, i32::MAX as i64) as i32));
    let pairs: Vec<(i32, i32)> = reals
        .iter()
        .map(|&r| quantize_multiplier(r).expect("representable"))
        .collect();
    let mut products = Vec::new();
    for &(m, s) in &pairs {
        for &x in &xs {
            products.push(multiply_by_quantized_multiplier(x, m, s));
        }
    }
    e.open(
        "requant",
        "Requantizer::from_real and apply: rows = REALS, columns = ACCS",
    );
    let reals_text: Vec<String> = reals.iter().map(|r| format!("{r:?}")).collect();
    e.array("REALS", "f64", &reals_text);
    let (m, s): (Vec<i32>, Vec<i32>) = pairs.into_iter().unzip();
    e.array("MULTIPLIERS", "i32", &m);
    e.array("SHIFTS", "i32", &s);
    e.array("ACCS", "i32", &xs);
    e.array("EXPECTED", "i32", &products);
    e.close();
}

fn pool(e: &mut Emitter, rng: &mut SplitMix64) {
    let p = Pool2d {
        batch: 1,
        in_h: 7,
        in_w: 6,
        channels: 3,
        window_h: 3,
        window_w: 2,
        stride_h: 2,
        stride_w: 2,
        same: true,
    };
    let input = rng.i8_vec(7 * 6 * 3);
    let input_f = rng.f32_vec(7 * 6 * 3, -4.0, 4.0);
    e.open(
        "pool2d",
        "max/avg pool2d, 1x7x6x3, window 3x2, stride 2, SAME (padding excluded)",
    );
    for (name, v) in [
        ("IN_H", p.in_h),
        ("IN_W", p.in_w),
        ("CHANNELS", p.channels),
        ("WINDOW_H", p.window_h),
        ("WINDOW_W", p.window_w),
        ("STRIDE", p.stride_h),
    ] {
        e.scalar(name, "usize", v);
    }
    e.array("INPUT", "i8", &input);
    e.array("MAX_S8", "i8", &max_pool2d_i8(&p, &input, -100, 100));
    e.array("AVG_S8", "i8", &avg_pool2d_i8(&p, &input, -128, 127));
    e.array_f32("INPUT_F32", &input_f);
    let avg: Vec<f32> = avg_pool2d_f64(&p, &input_f, f32::NEG_INFINITY, f32::INFINITY)
        .iter()
        .map(|&v| v as f32)
        .collect();
    e.array_f32("AVG_F32", &avg);
    e.close();
}

fn elementwise(e: &mut Emitter, rng: &mut SplitMix64) {
    let n = 61;
    let (q1, q2) = (
        Quant {
            scale: 0.031,
            zero_point: -7,
        },
        Quant {
            scale: 0.047,
            zero_point: 12,
        },
    );
    let (qa, qm) = (
        Quant {
            scale: 0.061,
            zero_point: 3,
        },
        Quant {
            scale: 0.09,
            zero_point: -20,
        },
    );
    let (a, b) = (rng.i8_vec(n), rng.i8_vec(n));
    e.open(
        "elementwise",
        "add_s8 and mul_s8 with three different quantizations",
    );
    for (name, q) in [("Q1", q1), ("Q2", q2), ("QADD", qa), ("QMUL", qm)] {
        e.scalar(
            &format!("{name}_SCALE"),
            "f32",
            crate::emit::format_f32(q.scale),
        );
        e.scalar(&format!("{name}_ZP"), "i32", q.zero_point);
    }
    e.array("A", "i8", &a);
    e.array("B", "i8", &b);
    e.array(
        "ADD",
        "i8",
        &add_i8(q1, q2, qa, (-128, 127), &a, &b).expect("valid"),
    );
    e.array(
        "MUL",
        "i8",
        &mul_i8(q1, q2, qm, (-128, 127), &a, &b).expect("valid"),
    );
    e.close();
}

fn activation(e: &mut Emitter) {
    // TFLite's conventional sigmoid output quantization: 1/256, zero point -128.
    let qi = Quant {
        scale: 0.0625,
        zero_point: 5,
    };
    let qo = Quant {
        scale: 1.0 / 256.0,
        zero_point: -128,
    };
    let pre = lut_prerounding(qi, qo, sigmoid);
    let expected: Vec<i8> = pre.iter().map(|&v| round_saturate_i8(v)).collect();
    // Entries whose real value is within 1e-3 of a rounding tie may round either way in f32.
    let tie: Vec<bool> = pre
        .iter()
        .map(|&v| ((v - v.floor()) - 0.5).abs() < 1e-3)
        .collect();
    e.open(
        "sigmoid_lut",
        "int8 sigmoid by lookup table, input scale 1/16, zero point 5",
    );
    e.scalar("IN_SCALE", "f32", crate::emit::format_f32(qi.scale));
    e.scalar("IN_ZP", "i32", qi.zero_point);
    e.array("EXPECTED", "i8", &expected);
    e.array("NEAR_TIE", "bool", &tie);
    e.close();
}

fn softmax(e: &mut Emitter, rng: &mut SplitMix64) {
    let (depth, rows) = (10, 3);
    let input = rng.i8_vec(depth * rows);
    let (scale, beta) = (0.1f32, 1.0f32);
    // TFLite's PreprocessSoftmaxScaling and CalculateInputRadius (5 integer bits), from the
    // exact reference multiplier.
    let real = (beta as f64 * scale as f64 * 2f64.powi(26)).min(2f64.powi(31) - 1.0);
    let (mult, shift) = quantize_multiplier(real).expect("representable");
    let diff_min = -((31.0 * 2f64.powi(26) / 2f64.powi(shift)).floor() as i32);
    let input_f = rng.f32_vec(depth * rows, -8.0, 8.0);
    let input_f64: Vec<f64> = input_f.iter().map(|&v| v as f64).collect();
    e.open(
        "softmax",
        "softmax, 3 rows of 10: int8 (s8 and s16 outputs) and f32",
    );
    e.scalar("DEPTH", "usize", depth);
    e.scalar("SCALE", "f32", crate::emit::format_f32(scale));
    e.scalar("BETA", "f32", crate::emit::format_f32(beta));
    e.scalar("MULTIPLIER", "i32", mult);
    e.scalar("LEFT_SHIFT", "i32", shift);
    e.scalar("DIFF_MIN", "i32", diff_min);
    e.array("INPUT", "i8", &input);
    e.array(
        "S8",
        "i8",
        &softmax_s8(mult, shift, diff_min, depth, &input),
    );
    e.array(
        "S16",
        "i16",
        &softmax_s8_s16(mult, shift, diff_min, depth, &input),
    );
    e.array_f32("INPUT_F32", &input_f);
    let want: Vec<f32> = softmax_f64(depth, &input_f64)
        .iter()
        .map(|&v| v as f32)
        .collect();
    e.array_f32("F32", &want);
    e.close();
}

/// Appends the cases of this module to `e`.
pub fn emit(e: &mut Emitter, rng: &mut SplitMix64) {
    requant(e, rng);
    pool(e, rng);
    elementwise(e, rng);
    activation(e);
    softmax(e, rng);
}
