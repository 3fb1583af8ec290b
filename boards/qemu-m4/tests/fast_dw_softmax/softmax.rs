//! The int8 softmax and log-softmax against a transcription of TFLite's reference kernels on
//! the general gemmlowp fixed-point functions.

use crate::rng::Lcg;
use defmt::{assert, unwrap};
use tinytune::kernels::generic::softmax::{
    log_softmax_s8, softmax_s8, softmax_s8_s16, LogSoftmaxParamsS8, SoftmaxParamsS8,
};
use tinytune::num::fixed::rounding_divide_by_pot;
use tinytune::num::fixedpoint::{
    exp_on_negative_values, get_reciprocal, log_x_for_x_greater_than_or_equal_to_1, mul, rescale,
};
use tinytune::num::quant::Requantizer;

const MAX_LEN: usize = 3 * 40;

/// TFLite's `MultiplyByQuantizedMultiplier` with the shift clamped as the kernels document.
fn scale(x: i32, multiplier: i32, shift: i32) -> i32 {
    Requantizer {
        multiplier,
        shift: shift.clamp(-31, 31),
    }
    .apply(x)
}

/// TFLite's reference `Softmax<int8_t, OutputT>`, `bits` the output width (8 or 16), rows of
/// `depth`, written with the general fixed-point functions.
fn reference_softmax(p: &SoftmaxParamsS8, depth: usize, input: &[i8], bits: i32, out: &mut [i32]) {
    let (min, max) = (-(1i32 << (bits - 1)), (1i32 << (bits - 1)) - 1);
    let exp =
        |diff: i32| exp_on_negative_values(scale(diff, p.input_multiplier, p.input_left_shift), 5);
    for (row, row_out) in input.chunks(depth).zip(out.chunks_mut(depth)) {
        let row_max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let mut sum = 0i32;
        for &x in row {
            let diff = x as i32 - row_max;
            if diff >= p.diff_min {
                sum = sum.saturating_add(rescale(exp(diff), 0, 12));
            }
        }
        let (shifted_scale, num_bits_over_unit) = get_reciprocal(sum, 12);
        let exponent = num_bits_over_unit + 31 - bits;
        for (o, &x) in row_out.iter_mut().zip(row) {
            let diff = x as i32 - row_max;
            *o = if diff >= p.diff_min {
                let scaled = mul(shifted_scale, exp(diff));
                let unsat = if exponent > 31 {
                    0
                } else {
                    rounding_divide_by_pot(scaled, exponent)
                };
                unsat.saturating_add(min).clamp(min, max)
            } else {
                min
            };
        }
    }
}

/// TFLite's `reference_integer_ops::LogSoftmax` (int8), written with the general functions.
fn reference_log_softmax(p: &LogSoftmaxParamsS8, depth: usize, input: &[i8], out: &mut [i32]) {
    let scaled = |diff: i32| scale(diff, p.input_multiplier, p.input_left_shift);
    for (row, row_out) in input.chunks(depth).zip(out.chunks_mut(depth)) {
        let row_max = row.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let mut sum = 0i32;
        for &x in row {
            let diff = x as i32 - row_max;
            if diff >= p.diff_min {
                sum = sum.saturating_add(rescale(exp_on_negative_values(scaled(diff), 5), 0, 12));
            }
        }
        let log_sum = log_x_for_x_greater_than_or_equal_to_1(sum, 12, 5);
        let adjusted_diff_min = p.diff_min.saturating_sub(1).max(scale(
            log_sum.wrapping_add(i32::MIN),
            p.reverse_multiplier,
            p.reverse_shift,
        ));
        for (o, &x) in row_out.iter_mut().zip(row) {
            let diff = x as i32 - row_max;
            *o = if diff > adjusted_diff_min {
                let v =
                    rounding_divide_by_pot(scaled(diff).wrapping_sub(log_sum), 31 - 5 - 4) + 127;
                v.clamp(-128, 127)
            } else {
                -128
            };
        }
    }
}

/// Runs the three softmax outputs (int8, int16) on `input` and compares with the reference.
fn check(p: &SoftmaxParamsS8, depth: usize, input: &[i8]) {
    let n = input.len();
    let mut want = [0i32; MAX_LEN];
    let mut got8 = [0i8; MAX_LEN];
    let mut got16 = [0i16; MAX_LEN];
    unwrap!(softmax_s8(p, depth, input, &mut got8[..n]));
    reference_softmax(p, depth, input, 8, &mut want[..n]);
    for i in 0..n {
        assert!(
            got8[i] as i32 == want[i],
            "{} depth {} elem {}: {} vs {}",
            p,
            depth,
            i,
            got8[i],
            want[i]
        );
    }
    unwrap!(softmax_s8_s16(p, depth, input, &mut got16[..n]));
    reference_softmax(p, depth, input, 16, &mut want[..n]);
    for i in 0..n {
        assert!(
            got16[i] as i32 == want[i],
            "{} depth {} elem {}: {} vs {}",
            p,
            depth,
            i,
            got16[i],
            want[i]
        );
    }
}

/// Rows of `depth` int8 values: uniform, with extremes, or spread over a few levels.
fn fill(rng: &mut Lcg, input: &mut [i8], kind: u32) {
    for x in input.iter_mut() {
        *x = match kind {
            0 => rng.i8(),
            1 => rng.i8_extreme(),
            2 => rng.pick(&[-128, -127, 0, 126, 127]),
            _ => (rng.below(9) as i8) * 3,
        };
    }
}

/// Depths 1..=40, one to three rows, parameters of real models (input scales 1/256 to 1/4,
/// beta 1 and 0.5).
pub fn depths() {
    let mut rng = Lcg(0x50F7_0001);
    let mut input = [0i8; MAX_LEN];
    let params = [
        (1.0 / 256.0, 1.0),
        (1.0 / 16.0, 1.0),
        (0.1, 0.5),
        (0.25, 1.0),
        (1.0 / 255.0, 1.0),
    ];
    for depth in 1..=40 {
        for (k, &(input_scale, beta)) in params.iter().enumerate() {
            let p = unwrap!(SoftmaxParamsS8::new(input_scale, beta));
            let n = depth * (1 + (depth + k) % 3);
            fill(&mut rng, &mut input[..n], (depth + k) as u32 % 4);
            check(&p, depth, &input[..n]);
        }
    }
}

/// Hand-built parameters: multipliers zero, negative and `i32::MIN`, left shifts -40..=40
/// (beyond the clamp, and the large ones that saturate), cut-offs from positive to far below
/// any difference.
pub fn extreme_parameters() {
    let mut rng = Lcg(0x50F7_0002);
    let mut input = [0i8; MAX_LEN];
    let multipliers = [
        0,
        1,
        i32::MAX,
        1 << 30,
        1_077_952_640,
        i32::MIN,
        -1_077_952_640,
    ];
    let diff_mins = [i32::MIN, -4096, -255, -100, -1, 0, 1];
    for &input_multiplier in &multipliers {
        for input_left_shift in (-40..=40).step_by(3) {
            for &diff_min in &diff_mins {
                let p = SoftmaxParamsS8 {
                    input_multiplier,
                    input_left_shift,
                    diff_min,
                };
                let depth = rng.range(1, 40);
                let kind = rng.below(4);
                fill(&mut rng, &mut input[..depth], kind);
                check(&p, depth, &input[..depth]);
            }
        }
    }
}

/// Log-softmax over depths 1..=40 with the parameters of several input scales.
pub fn log_softmax() {
    let mut rng = Lcg(0x50F7_0003);
    let mut input = [0i8; MAX_LEN];
    let mut want = [0i32; MAX_LEN];
    let mut got = [0i8; MAX_LEN];
    for depth in 1..=40 {
        for (k, input_scale) in [20.0 / 255.0, 1.0 / 16.0, 0.25, 1.0 / 256.0]
            .into_iter()
            .enumerate()
        {
            let p = unwrap!(LogSoftmaxParamsS8::new(input_scale));
            let n = depth * (1 + (depth + k) % 3);
            fill(&mut rng, &mut input[..n], (depth + k) as u32 % 4);
            unwrap!(log_softmax_s8(&p, depth, &input[..n], &mut got[..n]));
            reference_log_softmax(&p, depth, &input[..n], &mut want[..n]);
            for i in 0..n {
                assert!(
                    got[i] as i32 == want[i],
                    "depth {} elem {}: {} vs {}",
                    depth,
                    i,
                    got[i],
                    want[i]
                );
            }
        }
    }
}
