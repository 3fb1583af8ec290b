//! Tests of the softmax and log-softmax kernels (`tinytune::kernels::generic::softmax`):
//! hand-worked cases, published TFLite/CMSIS-NN vectors (bit-exact), proptests against the f64
//! definitions and the wide-integer TFLite transcription in `reference::softmax`, and error paths.

use proptest::prelude::*;
use tinytune::kernels::generic::softmax::*;
use tinytune::{Buffer, QuantError, ShapeError};
use tinytune_host_tests::reference::softmax as r;

fn params(scale: f32, beta: f32) -> SoftmaxParamsS8 {
    SoftmaxParamsS8::new(scale, beta).unwrap()
}

fn run_s8(p: &SoftmaxParamsS8, depth: usize, input: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; input.len()];
    softmax_s8(p, depth, input, &mut out).unwrap();
    out
}

fn run_log_s8(p: &LogSoftmaxParamsS8, depth: usize, input: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; input.len()];
    log_softmax_s8(p, depth, input, &mut out).unwrap();
    out
}

// ---- published vectors (bit-exact) ----

#[test]
fn cmsis_nn_softmax_vector() {
    // CMSIS-NN unit-test data `TestData/softmax/test_data.h` (generated with TFLite): two rows of
    // five, SOFTMAX_INPUT_MULT 1077952640, SOFTMAX_INPUT_LEFT_SHIFT 19, SOFTMAX_DIFF_MIN -3968.
    let p = SoftmaxParamsS8 {
        input_multiplier: 1_077_952_640,
        input_left_shift: 19,
        diff_min: -3968,
    };
    let input = [101, 49, 6, -34, -75, -79, -38, 120, -55, 115];
    let expected = [-57, -70, -79, -86, -92, -94, -88, -54, -91, -56];
    assert_eq!(run_s8(&p, 5, &input), expected);
    // Those parameters are TFLite's for input scale 1/255 and beta 1.
    assert_eq!(params(1.0 / 255.0, 1.0), p);
}

#[test]
fn cmsis_nn_softmax_vector_single_row() {
    // The CMSIS-NN softmax vector carried by Zephyr's `tests/lib/cmsis_nn` suite: one row of five,
    // multiplier 1077952576, left shift 23, diff_min -248.
    let p = SoftmaxParamsS8 {
        input_multiplier: 1_077_952_576,
        input_left_shift: 23,
        diff_min: -248,
    };
    let input = [-80, -48, 16, 0, -96];
    assert_eq!(run_s8(&p, 5, &input), [-128, -125, 56, -60, -128]);
}

/// Input of TFLite's `activations_test.cc` quantized softmax / log-softmax tests: the reals
/// {0, -6, 2, 4, 3, -2, 10, 1} in an int8 tensor of range [-10, 10] (scale 20/255). Rounding
/// x / scale in f32 (the ties such as -76.5 fall toward zero because 20/255 rounds up in f32);
/// the zero point does not matter to softmax, which only sees differences.
const TFLITE_TEST_INPUT: [i8; 8] = [0, -77, 26, 51, 38, -26, 127, 13];

#[test]
fn tflite_test_input_quantization() {
    let scale = 20f32 / 255f32;
    let reals = [0f32, -6.0, 2.0, 4.0, 3.0, -2.0, 10.0, 1.0];
    let q: Vec<i8> = reals.iter().map(|x| (x / scale).round() as i8).collect();
    assert_eq!(q, TFLITE_TEST_INPUT);
}

#[test]
fn tflite_log_softmax_int8_vector() {
    // TFLite `activations_test.cc`, QuantizedActivationsOpTest.LogSoftmaxInt8: two rows of four,
    // output scale 16/256, zero point 127, exact int8 outputs.
    let p = LogSoftmaxParamsS8::new(20.0 / 255.0).unwrap();
    assert_eq!(
        run_log_s8(&p, 4, &TFLITE_TEST_INPUT),
        [61, -36, 93, 125, 15, -65, 127, -16]
    );
}

#[test]
fn tflite_softmax_int8_beta_0_1_vector() {
    // TFLite `activations_test.cc`, QuantizedActivationsOpTest.Softmax1DInt8 (beta 0.1, one row
    // of eight). The test lists the dequantized outputs {0.09766, 0.05469, 0.12109, 0.14453,
    // 0.13281, 0.07813, 0.26563, 0.10938}: k/256 for k = 25, 14, 31, 37, 34, 20, 68, 28, i.e. the
    // int8 values k - 128.
    let p = params(20.0 / 255.0, 0.1);
    assert_eq!(
        run_s8(&p, 8, &TFLITE_TEST_INPUT),
        [-103, -114, -97, -91, -94, -108, -60, -100]
    );
}

// ---- hand-worked int8 cases ----

#[test]
fn single_element_rows_are_certain() {
    // Probability 1 is 256 - 128 = 128, saturated to 127; in int16 65536 - 32768 -> 32767;
    // log(1) = 0 is the zero point 127.
    let p = params(0.1, 1.0);
    assert_eq!(run_s8(&p, 1, &[-5, 100, -128]), [127, 127, 127]);
    let mut out16 = [0i16; 2];
    softmax_s8_s16(&p, 1, &[3, -3], &mut out16).unwrap();
    assert_eq!(out16, [32767, 32767]);
    let lp = LogSoftmaxParamsS8::new(0.1).unwrap();
    assert_eq!(run_log_s8(&lp, 1, &[7]), [127]);
}

#[test]
fn two_equal_elements_are_one_half() {
    // exp(0) = i32::MAX in Q0.31 becomes 2^19 (1.0) in Q12.19; the sum 2^20 has 11 leading
    // zeros: one bit over the unit and f = 0, so the scale is ~1 and the exponent 1 + 31 - 8 = 24.
    // (2^31 - 2) / 2^24 rounds to 128: 128 - 128 = 0, probability 128/256 = 1/2.
    let p = params(0.05, 1.0);
    assert_eq!(run_s8(&p, 2, &[9, 9]), [0, 0]);
    let mut out16 = [0i16; 2];
    softmax_s8_s16(&p, 2, &[9, 9], &mut out16).unwrap();
    // Exponent 1 + 31 - 16 = 16: 32768 - 32768 = 0.
    assert_eq!(out16, [0, 0]);
    // ln(1/2) = -0.693 = -11.09 steps of 1/16: 127 - 11 = 116.
    let lp = LogSoftmaxParamsS8::new(0.05).unwrap();
    assert_eq!(run_log_s8(&lp, 2, &[9, 9]), [116, 116]);
}

#[test]
fn far_below_max_is_cut_off() {
    // With input scale 1 the multiplier 2^26 has left shift 27: diff_min = -floor(31 * 2^26 /
    // 2^27) = -15. A difference of -16 is cut to the minimum; -15 gives exp(-15) * 256 = 0 too.
    let p = params(1.0, 1.0);
    assert_eq!(p.diff_min, -15);
    assert_eq!(p.input_left_shift, 27);
    assert_eq!(run_s8(&p, 3, &[0, -16, -15]), [127, -128, -128]);
    let mut out16 = [0i16; 3];
    softmax_s8_s16(&p, 3, &[0, -16, -15], &mut out16).unwrap();
    // exp(-15) * 65536 = 0.02 -> 0 as well, so -32768 for both.
    assert_eq!(out16, [32767, -32768, -32768]);
}

#[test]
fn long_rows() {
    // 600 equal values: each probability is 1/600. The sum 600 has 9 bits over the unit, so the
    // int8 exponent would be 9 + 23 = 32, where TFLite stops with a check failure; the correctly
    // rounded 256/600 = 0.43 is 0, i.e. -128. In int16, 65536/600 = 109.2 -> 109 - 32768.
    let p = params(0.1, 1.0);
    let input = vec![3i8; 600];
    assert!(run_s8(&p, 600, &input).iter().all(|&v| v == -128));
    let mut out16 = vec![0i16; 600];
    softmax_s8_s16(&p, 600, &input, &mut out16).unwrap();
    assert!(
        out16.iter().all(|&v| v == -32768 + 109),
        "{:?}",
        &out16[..3]
    );
    // 5000 equal values overflow TFLite's Q12.19 sum (its limit is 4096 terms); the sum saturates
    // just below 4096 instead, giving 65536/4096 = 16 rather than 13.1, and never panics.
    let input = vec![-7i8; 5000];
    let mut out16 = vec![0i16; 5000];
    softmax_s8_s16(&p, 5000, &input, &mut out16).unwrap();
    assert!(out16.iter().all(|&v| v == -32768 + 16), "{:?}", &out16[..3]);
    let want = r::softmax_s8_s16(
        p.input_multiplier,
        p.input_left_shift,
        p.diff_min,
        5000,
        &input,
    );
    assert_eq!(out16, want);
    let lp = LogSoftmaxParamsS8::new(0.1).unwrap();
    let out = run_log_s8(&lp, 5000, &input);
    // The log of the saturated sum: ln(1/4096) = -8.318 = -133.1 steps of 1/16: 127 - 133 = -6.
    assert!(out.iter().all(|&v| v == -6), "{:?}", &out[..3]);
}

// ---- f32 hand cases and properties ----

#[test]
fn f32_hand_cases() {
    // exp(0) : exp(ln 3) = 1 : 3 -> 1/4, 3/4.
    let mut out = [0f32; 2];
    softmax_f32(2, &[0.0, 3f32.ln()], &mut out).unwrap();
    assert!(
        (out[0] - 0.25).abs() < 1e-6 && (out[1] - 0.75).abs() < 1e-6,
        "{out:?}"
    );
    // Four equal values: 1/4 each; log-softmax -ln 4.
    let mut out = [0f32; 4];
    softmax_f32(4, &[2.5; 4], &mut out).unwrap();
    assert!(out.iter().all(|&v| (v - 0.25).abs() < 1e-7));
    log_softmax_f32(4, &[2.5; 4], &mut out).unwrap();
    assert!(out.iter().all(|&v| (v + 4f32.ln()).abs() < 1e-6));
    // TFLite log_softmax_test.cc SimpleTest: ln-softmax of 1..5 and -1..-5.
    let input = [1.0, 2.0, 3.0, 4.0, 5.0, -1.0, -2.0, -3.0, -4.0, -5.0];
    let expected: [f64; 10] = [
        -4.45191431,
        -3.45191431,
        -2.45191431,
        -1.45191443,
        -0.4519144,
        -0.4519144,
        -1.45191443,
        -2.45191431,
        -3.45191431,
        -4.45191431,
    ];
    let mut out = [0f32; 10];
    log_softmax_f32(5, &input, &mut out).unwrap();
    for (o, e) in out.iter().zip(expected) {
        assert!((*o as f64 - e).abs() < 1e-6, "{out:?}");
    }
}

#[test]
fn f32_large_inputs_do_not_overflow() {
    let input = [3.0e38f32, 3.0e38, -3.0e38, 1.0e30];
    let mut out = [0f32; 4];
    softmax_f32(4, &input, &mut out).unwrap();
    assert_eq!(out, [0.5, 0.5, 0.0, 0.0]);
    log_softmax_f32(4, &input, &mut out).unwrap();
    assert!((out[0] + 2f32.ln()).abs() < 1e-6 && (out[1] + 2f32.ln()).abs() < 1e-6);
    // -3e38 - 3e38 = -6e38 lies beyond f32: it rounds to -inf, as the exact result would.
    assert_eq!(out[2], f32::NEG_INFINITY);
    assert!((out[3] / -3.0e38 - 1.0).abs() < 1e-6);
}

#[test]
fn f32_non_finite_rows() {
    let mut out = [0f32; 6];
    // Row 0 has a NaN, row 1 is finite except for a -inf, which gets probability 0.
    softmax_f32(
        3,
        &[1.0, f32::NAN, 2.0, 0.0, f32::NEG_INFINITY, 0.0],
        &mut out,
    )
    .unwrap();
    assert!(out[..3].iter().all(|v| v.is_nan()));
    assert_eq!(&out[3..], &[0.5, 0.0, 0.5]);
    log_softmax_f32(
        3,
        &[1.0, f32::NAN, 2.0, 0.0, f32::NEG_INFINITY, 0.0],
        &mut out,
    )
    .unwrap();
    assert!(out[..3].iter().all(|v| v.is_nan()));
    assert_eq!(out[4], f32::NEG_INFINITY);
    // +inf, or only -inf, make the row undefined: NaN.
    for row in [[f32::INFINITY, 0.0, 1.0], [f32::NEG_INFINITY; 3]] {
        let mut out = [0f32; 3];
        softmax_f32(3, &row, &mut out).unwrap();
        assert!(out.iter().all(|v| v.is_nan()));
        log_softmax_f32(3, &row, &mut out).unwrap();
        assert!(out.iter().all(|v| v.is_nan()));
    }
}

// ---- error paths ----

#[test]
fn shape_errors() {
    let p = params(0.1, 1.0);
    let lp = LogSoftmaxParamsS8::new(0.1).unwrap();
    let mut o8 = [7i8; 6];
    let mut o16 = [7i16; 6];
    let mut of = [7f32; 6];
    assert_eq!(
        softmax_s8(&p, 0, &[0; 6], &mut o8),
        Err(ShapeError::Dimension)
    );
    assert_eq!(
        softmax_f32(0, &[0.0; 6], &mut of),
        Err(ShapeError::Dimension)
    );
    let not_multiple = Err(ShapeError::Length {
        buffer: Buffer::Input,
        expected: 4,
        actual: 6,
    });
    assert_eq!(softmax_s8(&p, 4, &[0; 6], &mut o8), not_multiple);
    assert_eq!(softmax_s8_s16(&p, 4, &[0; 6], &mut o16), not_multiple);
    assert_eq!(log_softmax_s8(&lp, 4, &[0; 6], &mut o8), not_multiple);
    assert_eq!(softmax_f32(4, &[0.0; 6], &mut of), not_multiple);
    assert_eq!(log_softmax_f32(4, &[0.0; 6], &mut of), not_multiple);
    let wrong_output = Err(ShapeError::Length {
        buffer: Buffer::Output,
        expected: 4,
        actual: 6,
    });
    assert_eq!(softmax_s8(&p, 2, &[0; 4], &mut o8), wrong_output);
    assert_eq!(softmax_s8_s16(&p, 2, &[0; 4], &mut o16), wrong_output);
    assert_eq!(log_softmax_s8(&lp, 2, &[0; 4], &mut o8), wrong_output);
    assert_eq!(softmax_f32(2, &[0.0; 4], &mut of), wrong_output);
    assert_eq!(log_softmax_f32(2, &[0.0; 4], &mut of), wrong_output);
    // Nothing was written.
    assert_eq!(o8, [7; 6]);
    assert_eq!(o16, [7; 6]);
    assert_eq!(of, [7.0; 6]);
    // Empty input is zero rows: fine.
    assert_eq!(softmax_s8(&p, 3, &[], &mut []), Ok(()));
}

#[test]
fn param_errors() {
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert_eq!(
            SoftmaxParamsS8::new(bad, 1.0),
            Err(QuantError::InvalidScale)
        );
        assert_eq!(LogSoftmaxParamsS8::new(bad), Err(QuantError::InvalidScale));
        if bad != 0.0 {
            assert_eq!(
                SoftmaxParamsS8::new(0.1, bad),
                Err(QuantError::InvalidMultiplier)
            );
        }
    }
    assert_eq!(
        SoftmaxParamsS8::new(0.1, 0.0),
        Err(QuantError::InvalidMultiplier)
    );
    // beta * scale * 2^26 <= 1 cannot be represented with a non-negative shift.
    assert_eq!(
        SoftmaxParamsS8::new(1e-8, 1.0),
        Err(QuantError::InvalidMultiplier)
    );
    assert_eq!(
        LogSoftmaxParamsS8::new(1e-8),
        Err(QuantError::InvalidMultiplier)
    );
    // Huge scales cap the multiplier at 2^31 - 1 (left shift 31): only the maximum survives.
    let p = params(1e6, 1.0);
    assert_eq!(
        (p.input_multiplier, p.input_left_shift, p.diff_min),
        (i32::MAX, 31, 0)
    );
    assert_eq!(run_s8(&p, 3, &[5, 4, 5]), [0, -128, 0]);
}

// ---- proptests ----

/// Random rows: depth 1..=40, 1..=4 rows, and quantization parameters in a realistic range.
fn int8_case() -> impl Strategy<Value = (usize, Vec<i8>, f32, f32)> {
    (1usize..=40, 1usize..=4, 0.005f32..0.5, 0.1f32..2.0).prop_flat_map(
        |(depth, rows, scale, beta)| {
            (
                Just(depth),
                prop::collection::vec(any::<i8>(), depth * rows),
                Just(scale),
                Just(beta),
            )
        },
    )
}

fn f32_case() -> impl Strategy<Value = (usize, Vec<f32>)> {
    (1usize..=64, 1usize..=4).prop_flat_map(|(depth, rows)| {
        (
            Just(depth),
            prop::collection::vec(-50f32..50.0, depth * rows),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn f32_softmax_matches_f64((depth, input) in f32_case()) {
        let mut out = vec![0f32; input.len()];
        softmax_f32(depth, &input, &mut out).unwrap();
        let wide: Vec<f64> = input.iter().map(|&x| x as f64).collect();
        let want = r::softmax_f64(depth, &wide);
        // Absolute error at most 1e-6 (a few f32 ulps of the largest probability); rows sum to 1.
        for (o, w) in out.iter().zip(&want) {
            prop_assert!((*o as f64 - w).abs() <= 1e-6, "{} vs {}", o, w);
        }
        for row in out.chunks(depth) {
            let s: f64 = row.iter().map(|&v| v as f64).sum();
            prop_assert!((s - 1.0).abs() <= 1e-5);
        }
    }

    #[test]
    fn f32_log_softmax_matches_f64((depth, input) in f32_case()) {
        let mut out = vec![0f32; input.len()];
        log_softmax_f32(depth, &input, &mut out).unwrap();
        let wide: Vec<f64> = input.iter().map(|&x| x as f64).collect();
        let want = r::log_softmax_f64(depth, &wide);
        // Relative error 1e-6 plus 1e-5 absolute (the rounding of x - max and of ln sum).
        for (o, w) in out.iter().zip(&want) {
            prop_assert!((*o as f64 - w).abs() <= 1e-5 + 1e-6 * w.abs(), "{} vs {}", o, w);
        }
    }

    #[test]
    fn f32_shift_invariance((depth, input) in f32_case(), shift in -1000f32..1000.0) {
        let shifted: Vec<f32> = input.iter().map(|&x| x + shift).collect();
        let mut a = vec![0f32; input.len()];
        let mut b = vec![0f32; input.len()];
        softmax_f32(depth, &input, &mut a).unwrap();
        softmax_f32(depth, &shifted, &mut b).unwrap();
        // Adding `shift` rounds the inputs by up to half an ulp of 1050, about 6e-5, which moves a
        // probability p by at most p * 2 * 6e-5.
        for (x, y) in a.iter().zip(&b) {
            prop_assert!((x - y).abs() <= 2e-4 * x.max(*y) + 1e-7, "{} vs {}", x, y);
        }
    }

    #[test]
    fn s8_matches_integer_reference((depth, input, scale, beta) in int8_case()) {
        let p = params(scale, beta);
        let want = r::softmax_s8(p.input_multiplier, p.input_left_shift, p.diff_min, depth, &input);
        prop_assert_eq!(run_s8(&p, depth, &input), want);
        let mut out16 = vec![0i16; input.len()];
        softmax_s8_s16(&p, depth, &input, &mut out16).unwrap();
        let want16 =
            r::softmax_s8_s16(p.input_multiplier, p.input_left_shift, p.diff_min, depth, &input);
        prop_assert_eq!(out16, want16);
    }

    #[test]
    fn log_s8_matches_integer_reference((depth, input, scale, _beta) in int8_case()) {
        let p = LogSoftmaxParamsS8::new(scale).unwrap();
        let want = r::log_softmax_s8(
            p.input_multiplier,
            p.input_left_shift,
            p.reverse_multiplier,
            p.reverse_shift,
            p.diff_min,
            depth,
            &input,
        );
        prop_assert_eq!(run_log_s8(&p, depth, &input), want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_params_never_panic(
        (depth, input, _scale, _beta) in int8_case(),
        m in any::<i32>(), s in any::<i32>(), rm in any::<i32>(), rs in any::<i32>(), d in any::<i32>(),
    ) {
        // Caller-built parameters outside anything `new` produces still give defined output.
        let p = SoftmaxParamsS8 { input_multiplier: m, input_left_shift: s, diff_min: d };
        let mut out = vec![0i8; input.len()];
        let mut out16 = vec![0i16; input.len()];
        softmax_s8(&p, depth, &input, &mut out).unwrap();
        softmax_s8_s16(&p, depth, &input, &mut out16).unwrap();
        let lp = LogSoftmaxParamsS8 {
            input_multiplier: m,
            input_left_shift: s,
            reverse_multiplier: rm,
            reverse_shift: rs,
            diff_min: d,
        };
        log_softmax_s8(&lp, depth, &input, &mut out).unwrap();
    }
}

/// Largest-error statistics of an int8 kernel against the real-valued result, in output steps.
struct Deviation {
    within_one: usize,
    total: usize,
    worst: f64,
}

fn real_deviation_s8(cases: usize, seed: u64, log: bool) -> Deviation {
    let mut rng = tinytune_host_tests::rng::SplitMix64::new(seed);
    let mut dev = Deviation {
        within_one: 0,
        total: 0,
        worst: 0.0,
    };
    for _ in 0..cases {
        let depth = rng.range_i64(1, 64) as usize;
        let scale = rng.uniform(0.005, 0.3) as f32;
        let beta = if log {
            1.0
        } else {
            rng.uniform(0.2, 2.0) as f32
        };
        let input = rng.i8_vec(depth);
        let reals: Vec<f64> = input
            .iter()
            .map(|&q| q as f64 * scale as f64 * beta as f64)
            .collect();
        let (got, want): (Vec<f64>, Vec<f64>) = if log {
            let p = LogSoftmaxParamsS8::new(scale).unwrap();
            let out = run_log_s8(&p, depth, &input);
            // Output step 1/16, zero point 127, clamped to the int8 range.
            let want = r::log_softmax_f64(depth, &reals)
                .into_iter()
                .map(|v| (v * 16.0 + 127.0).clamp(-128.0, 127.0));
            (out.iter().map(|&q| q as f64).collect(), want.collect())
        } else {
            let p = params(scale, beta);
            let out = run_s8(&p, depth, &input);
            let want = r::softmax_f64(depth, &reals)
                .into_iter()
                .map(|v| (v * 256.0 - 128.0).clamp(-128.0, 127.0));
            (out.iter().map(|&q| q as f64).collect(), want.collect())
        };
        for (g, w) in got.iter().zip(&want) {
            let d = (g - w).abs();
            dev.total += 1;
            if d <= 1.0 {
                dev.within_one += 1;
            }
            dev.worst = dev.worst.max(d);
        }
    }
    dev
}

#[test]
fn s8_close_to_real_softmax() {
    // Against the exact softmax of the dequantized inputs: every output within 1 step (1/256),
    // since the only errors are the final rounding (<= 1/2) and the fixed-point exp and
    // reciprocal (< 1e-6 relative).
    let dev = real_deviation_s8(2000, 11, false);
    assert_eq!(dev.within_one, dev.total, "worst {}", dev.worst);
}

#[test]
fn log_s8_close_to_real_log_softmax() {
    // Against the exact log-softmax: all outputs within 1 step (1/16) of the real value mapped
    // to the output scale (the Q5.26 differences and the fixed-point log are far more precise).
    let dev = real_deviation_s8(2000, 12, true);
    assert_eq!(dev.within_one, dev.total, "worst {}", dev.worst);
}
