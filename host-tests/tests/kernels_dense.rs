//! Dense kernels (`dense_f32`, `dense_s8`) against hand-worked cases and the independent
//! references of `reference::linear`; also checks that reference's TFLite requantization.
//!
//! f32 tolerance: `|got - ref| <= 1e-5 * (1 + |bias| + sum |x * w|)` against the f64 reference.
//! int8: bit-exact against the exact integer reference.

use proptest::prelude::*;
use tinytune::kernels::generic::dense::{dense_f32, dense_s8, DenseShape};
use tinytune::kernels::{ActivationF32, ActivationS8, QuantArgsS8};
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::reference::linear as reference;
use tinytune_host_tests::rng::SplitMix64;

fn requantizers(params: &[(i32, i32)]) -> Vec<Requantizer> {
    params
        .iter()
        .map(|&(multiplier, shift)| Requantizer { multiplier, shift })
        .collect()
}

/// `(multiplier, shift)` pairs: `count` random ones with mantissa in `[2^30, 2^31)`.
fn random_requant(
    rng: &mut SplitMix64,
    count: usize,
    shift_lo: i64,
    shift_hi: i64,
) -> Vec<(i32, i32)> {
    (0..count)
        .map(|_| {
            let multiplier = rng.range_i64(1 << 30, (1 << 31) - 1) as i32;
            (multiplier, rng.range_i64(shift_lo, shift_hi) as i32)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The reference requantizer, on hand-worked values.

#[test]
fn reference_requantization_hand_cases() {
    let half = 1 << 30; // 0.5 with shift 0
                        // 85 * 0.5 = 42.5: gemmlowp's high multiply rounds the tie up.
    assert_eq!(reference::multiply_by_quantized_multiplier(85, half, 0), 43);
    // -125 * 0.5 = -62.5: the negative nudge `1 - 2^30` rounds this tie toward zero.
    assert_eq!(
        reference::multiply_by_quantized_multiplier(-125, half, 0),
        -62
    );
    // 45 * 0.25: high multiply 22.5 -> 23, then 23 / 2 = 11.5 -> 12 (double rounding; exact 11.25).
    assert_eq!(
        reference::multiply_by_quantized_multiplier(45, half, -1),
        12
    );
    // -125 * 0.25: -62.5 -> -62, then -31 exactly.
    assert_eq!(
        reference::multiply_by_quantized_multiplier(-125, half, -1),
        -31
    );
    // -7 * 0.25: -3.5 -> -3, then -1.5 -> -2 (ties away from zero in the divide).
    assert_eq!(
        reference::multiply_by_quantized_multiplier(-7, half, -1),
        -2
    );
    // Shift 1 with mantissa 0.5 is the identity.
    assert_eq!(
        reference::multiply_by_quantized_multiplier(-12345, half, 1),
        -12345
    );
    // A left shift that overflows saturates before the multiply: i32::MAX * 0.5 rounds up.
    assert_eq!(
        reference::multiply_by_quantized_multiplier(i32::MAX, half, 2),
        1 << 30
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Two independent implementations of the same double rounding agree.
    #[test]
    fn reference_requantization_agrees_with_core(
        x in any::<i32>(),
        multiplier in (1i32 << 30)..=i32::MAX,
        shift in -31i32..=30,
    ) {
        let core = Requantizer { multiplier, shift }.apply(x);
        prop_assert_eq!(core, reference::multiply_by_quantized_multiplier(x, multiplier, shift));
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-worked cases.

#[test]
fn dense_f32_2x2_by_hand() {
    let shape = DenseShape {
        batch: 1,
        in_features: 2,
        out_features: 2,
    };
    let input = [1.0, 2.0];
    let weights = [1.0, 2.0, 3.0, 4.0]; // rows [1 2] and [3 4]
    let bias = [0.5, -1.0];
    let mut out = [0.0; 2];
    // o0 = 1*1 + 2*2 + 0.5 = 5.5, o1 = 1*3 + 2*4 - 1 = 10.
    dense_f32(
        shape,
        &input,
        &weights,
        Some(&bias),
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [5.5, 10.0]);
    // ReLU6 clamps o1 to 6.
    dense_f32(
        shape,
        &input,
        &weights,
        Some(&bias),
        ActivationF32::RELU6,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [5.5, 6.0]);
    // Without bias: [5, 11].
    dense_f32(shape, &input, &weights, None, ActivationF32::NONE, &mut out).unwrap();
    assert_eq!(out, [5.0, 11.0]);
}

#[test]
fn dense_f32_batch_of_two_by_hand() {
    let shape = DenseShape {
        batch: 2,
        in_features: 3,
        out_features: 1,
    };
    let input = [1.0, 0.0, -1.0, 2.0, 2.0, 2.0];
    let weights = [0.5, 1.0, 1.5];
    let mut out = [0.0; 2];
    // b0: 0.5 - 1.5 = -1; b1: 2 * (0.5 + 1 + 1.5) = 6. ReLU turns -1 into 0.
    dense_f32(shape, &input, &weights, None, ActivationF32::RELU, &mut out).unwrap();
    assert_eq!(out, [0.0, 6.0]);
}

#[test]
fn dense_s8_2x2_by_hand() {
    let shape = DenseShape {
        batch: 1,
        in_features: 2,
        out_features: 2,
    };
    let input = [10i8, -20];
    let weights = [2i8, 3, -4, 1];
    let bias = [100, -50];
    // input + 5 = [15, -15]; acc0 = 100 + 30 - 45 = 85; acc1 = -50 - 60 - 15 = -125.
    let per_tensor = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }]; // x 0.5
    let q = QuantArgsS8 {
        input_offset: 5,
        output_offset: 3,
        requant: &per_tensor,
        act: ActivationS8::NONE,
    };
    let mut out = [0i8; 2];
    dense_s8(shape, &q, &input, &weights, Some(&bias), &mut out).unwrap();
    // 42.5 -> 43, -62.5 -> -62; plus 3.
    assert_eq!(out, [46, -59]);

    // Per channel: channel 1 scales by 0.25: -125 -> -62 -> -31; plus 3 = -28.
    let per_channel = [
        Requantizer {
            multiplier: 1 << 30,
            shift: 0,
        },
        Requantizer {
            multiplier: 1 << 30,
            shift: -1,
        },
    ];
    let q = QuantArgsS8 {
        requant: &per_channel,
        ..q
    };
    dense_s8(shape, &q, &input, &weights, Some(&bias), &mut out).unwrap();
    assert_eq!(out, [46, -28]);

    // Activation clamp [-20, 40].
    let q = QuantArgsS8 {
        act: ActivationS8 { min: -20, max: 40 },
        ..q
    };
    dense_s8(shape, &q, &input, &weights, Some(&bias), &mut out).unwrap();
    assert_eq!(out, [40, -20]);
}

#[test]
fn dense_s8_saturates_to_int8_range() {
    let shape = DenseShape {
        batch: 1,
        in_features: 1,
        out_features: 2,
    };
    let requant = [Requantizer {
        multiplier: 1 << 30,
        shift: 1,
    }]; // x 1.0
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &requant,
        act: ActivationS8::NONE,
    };
    let mut out = [0i8; 2];
    // 100 * 100 = 10000 -> 127; 100 * -100 -> -128.
    dense_s8(shape, &q, &[100], &[100, -100], None, &mut out).unwrap();
    assert_eq!(out, [127, -128]);
}

#[test]
fn dense_s8_accumulator_overflow_wraps_without_panic() {
    // bias i32::MAX plus a positive product overflows i32: documented to wrap.
    let shape = DenseShape {
        batch: 1,
        in_features: 1,
        out_features: 1,
    };
    let requant = [Requantizer {
        multiplier: 1 << 30,
        shift: -24,
    }];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &requant,
        act: ActivationS8::NONE,
    };
    let mut out = [0i8; 1];
    dense_s8(shape, &q, &[1], &[1], Some(&[i32::MAX]), &mut out).unwrap();
    // i32::MAX + 1 wraps to i32::MIN; i32::MIN * 2^-25 = -64.
    assert_eq!(out, [-64]);
    let want = reference::output_s8(i32::MAX as i64 + 1, 0, &[(1 << 30, -24)], 0, -128, 127);
    assert_eq!(out[0], want);
}

// ---------------------------------------------------------------------------------------------
// Random shapes and values against the references.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn dense_f32_matches_reference(
        batch in 1usize..4,
        in_features in 1usize..40,
        out_features in 1usize..12,
        with_bias in any::<bool>(),
        act in prop_oneof![Just(ActivationF32::NONE), Just(ActivationF32::RELU), Just(ActivationF32::RELU6)],
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let shape = DenseShape { batch, in_features, out_features };
        let input = rng.f32_vec(batch * in_features, -2.0, 2.0);
        let weights = rng.f32_vec(out_features * in_features, -1.0, 1.0);
        let bias = rng.f32_vec(out_features, -1.0, 1.0);
        let bias = with_bias.then_some(&bias[..]);
        let mut out = vec![f32::NAN; batch * out_features];
        dense_f32(shape, &input, &weights, bias, act, &mut out).unwrap();
        let taps = reference::dense_taps(batch, in_features, out_features);
        let want = reference::eval_f64(&taps, &input, &weights, bias, act.min, act.max);
        for (got, want) in out.iter().zip(&want) {
            prop_assert!(reference::within_tolerance(*got, want), "got {got}, want {want:?}");
        }
    }

    #[test]
    fn dense_s8_matches_reference(
        batch in 1usize..4,
        in_features in 1usize..48,
        out_features in 1usize..12,
        with_bias in any::<bool>(),
        per_channel in any::<bool>(),
        input_offset in -127i32..=128,
        output_offset in -128i32..=127,
        act in (any::<i8>(), any::<i8>()).prop_map(|(a, b)| ActivationS8 { min: a.min(b), max: a.max(b) }),
        no_act in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let act = if no_act { ActivationS8::NONE } else { act };
        let shape = DenseShape { batch, in_features, out_features };
        let input = rng.i8_vec(batch * in_features);
        let weights: Vec<i8> = (0..out_features * in_features).map(|_| rng.range_i64(-127, 127) as i8).collect();
        let bias: Vec<i32> = (0..out_features).map(|_| rng.range_i64(-50_000, 50_000) as i32).collect();
        let bias = with_bias.then_some(&bias[..]);
        let params = random_requant(&mut rng, if per_channel { out_features } else { 1 }, -16, 1);
        let requant = requantizers(&params);
        let q = QuantArgsS8 { input_offset, output_offset, requant: &requant, act };
        let mut out = vec![0i8; batch * out_features];
        dense_s8(shape, &q, &input, &weights, bias, &mut out).unwrap();
        let taps = reference::dense_taps(batch, in_features, out_features);
        let want = reference::eval_s8(&taps, &input, input_offset, &weights, 0, bias, &params, output_offset, act.min, act.max);
        prop_assert_eq!(out, want);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors: each wrongly sized buffer, zero dimensions; nothing written.

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Result<(), ShapeError> {
    Err(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn dense_f32_errors() {
    let shape = DenseShape {
        batch: 2,
        in_features: 3,
        out_features: 4,
    };
    let (i, w, b) = ([0.0f32; 6], [0.0f32; 12], [0.0f32; 4]);
    let mut o = [7.0f32; 8];
    let act = ActivationF32::NONE;
    assert_eq!(
        dense_f32(shape, &i[..5], &w, Some(&b), act, &mut o),
        len_err(Buffer::Input, 6, 5)
    );
    assert_eq!(
        dense_f32(shape, &i, &w[..11], Some(&b), act, &mut o),
        len_err(Buffer::Weights, 12, 11)
    );
    assert_eq!(
        dense_f32(shape, &i, &w, Some(&b[..3]), act, &mut o),
        len_err(Buffer::Bias, 4, 3)
    );
    assert_eq!(
        dense_f32(shape, &i, &w, Some(&b), act, &mut o[..7]),
        len_err(Buffer::Output, 8, 7)
    );
    let mut long = [7.0f32; 9];
    assert_eq!(
        dense_f32(shape, &i, &w, None, act, &mut long),
        len_err(Buffer::Output, 8, 9)
    );
    assert!(long.iter().all(|&v| v == 7.0));
    for zero in [
        DenseShape { batch: 0, ..shape },
        DenseShape {
            in_features: 0,
            ..shape
        },
        DenseShape {
            out_features: 0,
            ..shape
        },
    ] {
        assert_eq!(
            dense_f32(zero, &[], &[], None, act, &mut []),
            Err(ShapeError::Dimension)
        );
    }
    let huge = DenseShape {
        batch: usize::MAX,
        in_features: 2,
        out_features: 1,
    };
    assert_eq!(
        dense_f32(huge, &i, &w, None, act, &mut o),
        Err(ShapeError::Dimension)
    );
    assert!(o.iter().all(|&v| v == 7.0));
}

#[test]
fn dense_s8_errors() {
    let shape = DenseShape {
        batch: 2,
        in_features: 3,
        out_features: 4,
    };
    let (i, w, b) = ([0i8; 6], [0i8; 12], [0i32; 4]);
    let mut o = [7i8; 8];
    let one = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }; 4];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &one[..1],
        act: ActivationS8::NONE,
    };
    assert_eq!(
        dense_s8(shape, &q, &i[..5], &w, Some(&b), &mut o),
        len_err(Buffer::Input, 6, 5)
    );
    assert_eq!(
        dense_s8(shape, &q, &i, &w[..11], Some(&b), &mut o),
        len_err(Buffer::Weights, 12, 11)
    );
    assert_eq!(
        dense_s8(shape, &q, &i, &w, Some(&b[..3]), &mut o),
        len_err(Buffer::Bias, 4, 3)
    );
    assert_eq!(
        dense_s8(shape, &q, &i, &w, Some(&b), &mut o[..7]),
        len_err(Buffer::Output, 8, 7)
    );
    for bad in [0, 2, 3] {
        let q = QuantArgsS8 {
            requant: &one[..bad],
            ..q
        };
        assert_eq!(
            dense_s8(shape, &q, &i, &w, Some(&b), &mut o),
            len_err(Buffer::Requant, 4, bad)
        );
    }
    let q4 = QuantArgsS8 { requant: &one, ..q };
    assert_eq!(dense_s8(shape, &q4, &i, &w, None, &mut o), Ok(()));
    let mut o = [7i8; 8];
    let zero = DenseShape {
        in_features: 0,
        ..shape
    };
    assert_eq!(
        dense_s8(zero, &q, &[], &[], None, &mut o),
        Err(ShapeError::Dimension)
    );
    assert!(o.iter().all(|&v| v == 7));
}

#[test]
fn malformed_activation_range_does_not_panic() {
    // min > max: defined result (max), no panic.
    let shape = DenseShape {
        batch: 1,
        in_features: 1,
        out_features: 1,
    };
    let requant = [Requantizer {
        multiplier: 1 << 30,
        shift: 1,
    }];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &requant,
        act: ActivationS8 { min: 10, max: -10 },
    };
    let mut out = [0i8];
    dense_s8(shape, &q, &[1], &[1], None, &mut out).unwrap();
    assert_eq!(out, [-10]);
}
