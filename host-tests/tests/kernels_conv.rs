//! Convolution kernels (`conv2d_*`, `conv1d_*`) against hand-worked cases and the independent
//! references of `reference::linear`.
//!
//! f32 tolerance: `|got - ref| <= 1e-5 * (1 + |bias| + sum |x * w|)` against the f64 reference.
//! int8: bit-exact against the exact integer reference.

use proptest::prelude::*;
use tinytune::kernels::generic::conv::{
    conv1d_f32, conv1d_s8, conv2d_f32, conv2d_s8, Conv1dShape, Conv2dShape,
};
use tinytune::kernels::{ActivationF32, ActivationS8, Padding, QuantArgsS8};
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::reference::linear::{self as reference, Conv2dParams, Pad};
use tinytune_host_tests::rng::SplitMix64;

fn pad(p: Padding) -> Pad {
    match p {
        Padding::Valid => Pad::Valid,
        Padding::Same => Pad::Same,
    }
}

fn params(s: &Conv2dShape) -> Conv2dParams {
    Conv2dParams {
        batch: s.batch,
        in_h: s.in_h,
        in_w: s.in_w,
        in_c: s.in_c,
        out_c: s.out_c,
        kernel_h: s.kernel_h,
        kernel_w: s.kernel_w,
        stride_h: s.stride_h,
        stride_w: s.stride_w,
        dilation_h: s.dilation_h,
        dilation_w: s.dilation_w,
        pad: pad(s.padding),
    }
}

fn requantizers(params: &[(i32, i32)]) -> Vec<Requantizer> {
    params
        .iter()
        .map(|&(multiplier, shift)| Requantizer { multiplier, shift })
        .collect()
}

fn random_requant(rng: &mut SplitMix64, count: usize) -> Vec<(i32, i32)> {
    (0..count)
        .map(|_| {
            let multiplier = rng.range_i64(1 << 30, (1 << 31) - 1) as i32;
            (multiplier, rng.range_i64(-16, 1) as i32)
        })
        .collect()
}

/// A 1-channel 4x4 image holding 1..=16 row by row: `x[r][c] = 4r + c + 1`.
fn image_4x4() -> Vec<f32> {
    (1..=16).map(|v| v as f32).collect()
}

fn square(
    in_hw: usize,
    in_c: usize,
    out_c: usize,
    k: usize,
    stride: usize,
    dilation: usize,
    padding: Padding,
) -> Conv2dShape {
    Conv2dShape {
        batch: 1,
        in_h: in_hw,
        in_w: in_hw,
        in_c,
        out_c,
        kernel_h: k,
        kernel_w: k,
        stride_h: stride,
        stride_w: stride,
        dilation_h: dilation,
        dilation_w: dilation,
        padding,
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-worked cases.

#[test]
fn conv2d_f32_3x3_same_stride2_by_hand() {
    // SAME, stride 2, 3x3 on 4x4: out 2x2, total padding (2-1)*2 + 3 - 4 = 1, all of it after
    // (bottom/right). Windows: rows/cols {0,1,2} and {2,3,pad}.
    let shape = square(4, 1, 2, 3, 2, 1, Padding::Same);
    assert_eq!(shape.output_hw(), Ok((2, 2)));
    // Filter 0: all ones. Filter 1: only the top-right tap (ky 0, kx 2).
    let mut weights = vec![1.0f32; 9];
    weights.extend([0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let mut out = [0.0f32; 8];
    conv2d_f32(
        &shape,
        &image_4x4(),
        &weights,
        None,
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // f0: (0,0) rows 0-2 cols 0-2 = 6 + 18 + 30 = 54; (0,1) cols 2-3 = 7 + 15 + 23 = 45;
    //     (1,0) rows 2-3 = 30 + 42 = 72; (1,1) = 11 + 12 + 15 + 16 = 54.
    // f1: x[0][2] = 3; x[0][4] padded = 0; x[2][2] = 11; x[2][4] padded = 0.
    assert_eq!(out, [54.0, 3.0, 45.0, 0.0, 72.0, 11.0, 54.0, 0.0]);
}

#[test]
fn conv2d_f32_3x3_same_stride2_dilation2_by_hand() {
    // Dilation 2 makes the 3x3 filter span 5: total padding (2-1)*2 + 5 - 4 = 3, 1 before and 2
    // after. Output row oy reads rows 2*oy + 2*ky - 1: oy 0 -> {-1, 1, 3}, oy 1 -> {1, 3, 5}.
    let shape = square(4, 1, 1, 3, 2, 2, Padding::Same);
    let weights: Vec<f32> = (1..=9).map(|v| v as f32).collect(); // w[ky][kx] = 3ky + kx + 1
    let bias = [0.5f32];
    let mut out = [0.0f32; 4];
    conv2d_f32(
        &shape,
        &image_4x4(),
        &weights,
        Some(&bias),
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // (0,0): taps ky,kx in {1,2}: 5*x11 + 6*x13 + 8*x31 + 9*x33 = 30 + 48 + 112 + 144 = 334
    // (0,1): ky in {1,2}, kx in {0,1}: 4*6 + 5*8 + 7*14 + 8*16 = 290
    // (1,0): ky in {0,1}, kx in {1,2}: 2*6 + 3*8 + 5*14 + 6*16 = 202
    // (1,1): ky, kx in {0,1}: 1*6 + 2*8 + 4*14 + 5*16 = 158
    assert_eq!(out, [334.5, 290.5, 202.5, 158.5]);
}

#[test]
fn conv2d_f32_valid_dilation2_by_hand() {
    // 2x2 filter, dilation 2 (span 3), VALID on 4x4: out 2x2.
    // out(oy,ox) = x[oy][ox] + 10 x[oy][ox+2] + 100 x[oy+2][ox] + 1000 x[oy+2][ox+2].
    let shape = square(4, 1, 1, 2, 1, 2, Padding::Valid);
    let weights = [1.0f32, 10.0, 100.0, 1000.0];
    let mut out = [0.0f32; 4];
    conv2d_f32(
        &shape,
        &image_4x4(),
        &weights,
        None,
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // (0,0) = 1 + 30 + 900 + 11000; (0,1) = 2 + 40 + 1000 + 12000;
    // (1,0) = 5 + 70 + 1300 + 15000; (1,1) = 6 + 80 + 1400 + 16000.
    assert_eq!(out, [11931.0, 13042.0, 16375.0, 17486.0]);
}

#[test]
fn conv2d_f32_two_input_channels_by_hand() {
    // 1x1 convolution mixing 2 input channels into 2 outputs, ReLU: checks the OHWI order.
    let shape = square(1, 2, 2, 1, 1, 1, Padding::Valid);
    let input = [3.0f32, -1.0];
    let weights = [1.0f32, 2.0, -1.0, 0.5]; // oc0 = [1, 2], oc1 = [-1, 0.5]
    let mut out = [9.0f32; 2];
    conv2d_f32(
        &shape,
        &input,
        &weights,
        Some(&[0.0, 1.0]),
        ActivationF32::RELU,
        &mut out,
    )
    .unwrap();
    // oc0 = 3 - 2 = 1; oc1 = -3 - 0.5 + 1 = -2.5 -> 0.
    assert_eq!(out, [1.0, 0.0]);
}

#[test]
fn conv2d_s8_3x3_same_stride2_by_hand() {
    // The first f32 case in int8, input offset 0: accumulators [54, 3, 45, 0, 72, 11, 54, 0].
    let shape = square(4, 1, 2, 3, 2, 1, Padding::Same);
    let input: Vec<i8> = (1..=16).collect();
    let mut weights = vec![1i8; 9];
    weights.extend([0, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Channel 0 x 0.25, channel 1 x 1.0.
    let requant = [
        Requantizer {
            multiplier: 1 << 30,
            shift: -1,
        },
        Requantizer {
            multiplier: 1 << 30,
            shift: 1,
        },
    ];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &requant,
        act: ActivationS8::NONE,
    };
    let mut out = [0i8; 8];
    conv2d_s8(&shape, &q, &input, &weights, None, &mut out).unwrap();
    // 54/4: 27 then 13.5 -> 14; 45/4: 22.5 -> 23 then 11.5 -> 12 (double rounding); 72/4 = 18.
    assert_eq!(out, [14, 3, 12, 0, 18, 11, 14, 0]);
}

#[test]
fn conv1d_s8_same_padding_is_the_zero_point_by_hand() {
    // len 3, kernel 3, SAME: one padded position each side.
    let shape = Conv1dShape {
        batch: 1,
        len: 3,
        in_c: 1,
        out_c: 1,
        kernel: 3,
        stride: 1,
        dilation: 1,
        padding: Padding::Same,
    };
    let input = [10i8, 20, 30];
    let weights = [1i8, 2, 3];
    let requant = [Requantizer {
        multiplier: 1 << 30,
        shift: 1,
    }]; // x 1.0
        // Zero point 10: input + offset = [0, 10, 20], padding contributes 0 (not (0 - 10) * w).
    let q = QuantArgsS8 {
        input_offset: -10,
        output_offset: -100,
        requant: &requant,
        act: ActivationS8::NONE,
    };
    let mut out = [0i8; 3];
    conv1d_s8(&shape, &q, &input, &weights, Some(&[5]), &mut out).unwrap();
    // t0 = 0*2 + 10*3 + 5 = 35; t1 = 0 + 20 + 60 + 5 = 85; t2 = 10 + 40 + 5 = 55; minus 100.
    assert_eq!(out, [-65, -15, -45]);
}

#[test]
fn conv1d_f32_stride2_dilation2_by_hand() {
    // len 7, kernel 2, dilation 2 (span 3), stride 2, VALID: out = ceil((7 - 3 + 1) / 2) = 3,
    // two input channels, one output channel.
    let shape = Conv1dShape {
        batch: 1,
        len: 7,
        in_c: 2,
        out_c: 1,
        kernel: 2,
        stride: 2,
        dilation: 2,
        padding: Padding::Valid,
    };
    assert_eq!(shape.out_len(), Ok(3));
    // input[t] = [t, -t].
    let input: Vec<f32> = (0..7).flat_map(|t| [t as f32, -(t as f32)]).collect();
    // weights [oc=1, k=2, ic=2]: tap 0 = [1, 0], tap 1 = [0, 2].
    let weights = [1.0f32, 0.0, 0.0, 2.0];
    let mut out = [0.0f32; 3];
    conv1d_f32(
        &shape,
        &input,
        &weights,
        None,
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // out[t] = x[2t].0 + 2 * x[2t + 2].1 = 2t - 2(2t + 2) = -2t - 4.
    assert_eq!(out, [-4.0, -6.0, -8.0]);
}

// ---------------------------------------------------------------------------------------------
// Random shapes and values against the references.

fn conv2d_shape() -> impl Strategy<Value = Conv2dShape> {
    (
        (1usize..3, 1usize..8, 1usize..8, 1usize..5, 1usize..5),
        (
            1usize..4,
            1usize..4,
            1usize..3,
            1usize..3,
            1usize..3,
            1usize..3,
        ),
        prop_oneof![Just(Padding::Same), Just(Padding::Valid)],
    )
        .prop_map(
            |(
                (batch, in_h, in_w, in_c, out_c),
                (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w),
                padding,
            )| {
                Conv2dShape {
                    batch,
                    in_h,
                    in_w,
                    in_c,
                    out_c,
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                    dilation_h,
                    dilation_w,
                    padding,
                }
            },
        )
}

fn s8_act() -> impl Strategy<Value = ActivationS8> {
    prop_oneof![
        Just(ActivationS8::NONE),
        (any::<i8>(), any::<i8>()).prop_map(|(a, b)| ActivationS8 {
            min: a.min(b),
            max: a.max(b)
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn conv2d_f32_matches_reference(
        shape in conv2d_shape(),
        with_bias in any::<bool>(),
        act in prop_oneof![Just(ActivationF32::NONE), Just(ActivationF32::RELU), Just(ActivationF32::RELU6)],
        seed in any::<u64>(),
    ) {
        let p = params(&shape);
        let mut rng = SplitMix64::new(seed);
        let input = rng.f32_vec(shape.batch * shape.in_h * shape.in_w * shape.in_c, -2.0, 2.0);
        let weights = rng.f32_vec(shape.out_c * shape.kernel_h * shape.kernel_w * shape.in_c, -1.0, 1.0);
        let bias = rng.f32_vec(shape.out_c, -1.0, 1.0);
        let bias = with_bias.then_some(&bias[..]);
        let Some((oh, _, ow, _)) = p.geometry() else {
            // A VALID window larger than the input.
            let mut out = [0.0f32; 1];
            prop_assert_eq!(conv2d_f32(&shape, &input, &weights, bias, act, &mut out), Err(ShapeError::Parameter));
            return Ok(());
        };
        prop_assert_eq!(shape.output_hw(), Ok((oh, ow)));
        let mut out = vec![f32::NAN; shape.batch * oh * ow * shape.out_c];
        conv2d_f32(&shape, &input, &weights, bias, act, &mut out).unwrap();
        let want = reference::eval_f64(&reference::conv2d_taps(&p), &input, &weights, bias, act.min, act.max);
        prop_assert_eq!(out.len(), want.len());
        for (got, want) in out.iter().zip(&want) {
            prop_assert!(reference::within_tolerance(*got, want), "got {got}, want {want:?}");
        }
    }

    #[test]
    fn conv2d_s8_matches_reference(
        shape in conv2d_shape(),
        with_bias in any::<bool>(),
        per_channel in any::<bool>(),
        input_offset in -127i32..=128,
        output_offset in -128i32..=127,
        act in s8_act(),
        seed in any::<u64>(),
    ) {
        let p = params(&shape);
        let mut rng = SplitMix64::new(seed);
        let input = rng.i8_vec(shape.batch * shape.in_h * shape.in_w * shape.in_c);
        let weights: Vec<i8> = (0..shape.out_c * shape.kernel_h * shape.kernel_w * shape.in_c)
            .map(|_| rng.range_i64(-127, 127) as i8)
            .collect();
        let bias: Vec<i32> = (0..shape.out_c).map(|_| rng.range_i64(-50_000, 50_000) as i32).collect();
        let bias = with_bias.then_some(&bias[..]);
        let rq = random_requant(&mut rng, if per_channel { shape.out_c } else { 1 });
        let requant = requantizers(&rq);
        let q = QuantArgsS8 { input_offset, output_offset, requant: &requant, act };
        let Some((oh, _, ow, _)) = p.geometry() else {
            let mut out = [0i8; 1];
            prop_assert_eq!(conv2d_s8(&shape, &q, &input, &weights, bias, &mut out), Err(ShapeError::Parameter));
            return Ok(());
        };
        let mut out = vec![0i8; shape.batch * oh * ow * shape.out_c];
        conv2d_s8(&shape, &q, &input, &weights, bias, &mut out).unwrap();
        let want = reference::eval_s8(
            &reference::conv2d_taps(&p), &input, input_offset, &weights, 0, bias, &rq, output_offset, act.min, act.max,
        );
        prop_assert_eq!(out, want);
    }

    #[test]
    fn conv1d_matches_reference(
        (batch, len, in_c, out_c) in (1usize..3, 1usize..16, 1usize..5, 1usize..5),
        (kernel, stride, dilation) in (1usize..5, 1usize..4, 1usize..4),
        same in any::<bool>(),
        with_bias in any::<bool>(),
        per_channel in any::<bool>(),
        input_offset in -127i32..=128,
        output_offset in -128i32..=127,
        act in s8_act(),
        seed in any::<u64>(),
    ) {
        let padding = if same { Padding::Same } else { Padding::Valid };
        let shape = Conv1dShape { batch, len, in_c, out_c, kernel, stride, dilation, padding };
        let mut rng = SplitMix64::new(seed);
        let (n_in, n_w) = (batch * len * in_c, out_c * kernel * in_c);
        let taps = reference::conv1d_taps(batch, len, in_c, out_c, kernel, stride, dilation, pad(padding));
        let Some((out_len, _)) = reference::axis(len, kernel, stride, dilation, pad(padding)) else {
            prop_assert_eq!(shape.out_len(), Err(ShapeError::Parameter));
            return Ok(());
        };
        prop_assert_eq!(shape.out_len(), Ok(out_len));
        let n_out = batch * out_len * out_c;

        // f32
        let input = rng.f32_vec(n_in, -2.0, 2.0);
        let weights = rng.f32_vec(n_w, -1.0, 1.0);
        let bias = rng.f32_vec(out_c, -1.0, 1.0);
        let bias_f = with_bias.then_some(&bias[..]);
        let mut out = vec![f32::NAN; n_out];
        conv1d_f32(&shape, &input, &weights, bias_f, ActivationF32::RELU, &mut out).unwrap();
        let want = reference::eval_f64(&taps, &input, &weights, bias_f, 0.0, f32::INFINITY);
        for (got, want) in out.iter().zip(&want) {
            prop_assert!(reference::within_tolerance(*got, want), "got {got}, want {want:?}");
        }

        // int8
        let input = rng.i8_vec(n_in);
        let weights: Vec<i8> = (0..n_w).map(|_| rng.range_i64(-127, 127) as i8).collect();
        let bias: Vec<i32> = (0..out_c).map(|_| rng.range_i64(-50_000, 50_000) as i32).collect();
        let bias = with_bias.then_some(&bias[..]);
        let rq = random_requant(&mut rng, if per_channel { out_c } else { 1 });
        let requant = requantizers(&rq);
        let q = QuantArgsS8 { input_offset, output_offset, requant: &requant, act };
        let mut out = vec![0i8; n_out];
        conv1d_s8(&shape, &q, &input, &weights, bias, &mut out).unwrap();
        let want = reference::eval_s8(&taps, &input, input_offset, &weights, 0, bias, &rq, output_offset, act.min, act.max);
        prop_assert_eq!(out, want);
    }
}

// ---------------------------------------------------------------------------------------------
// Errors.

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Result<(), ShapeError> {
    Err(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn conv2d_length_errors() {
    // batch 2, 5x4x3 input, 4 filters of 3x3, SAME stride 2: out 3x2.
    let shape = Conv2dShape {
        batch: 2,
        in_h: 5,
        in_w: 4,
        in_c: 3,
        out_c: 4,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 2,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    };
    assert_eq!(shape.output_hw(), Ok((3, 2)));
    assert_eq!(shape.input_len(), Ok(120));
    assert_eq!(shape.weights_len(), Ok(108));
    assert_eq!(shape.output_len(), Ok(48));
    let (i, w, b) = (vec![0.0f32; 120], vec![0.0f32; 108], vec![0.0f32; 4]);
    let mut o = vec![7.0f32; 49];
    let act = ActivationF32::NONE;
    assert_eq!(
        conv2d_f32(&shape, &i[..119], &w, Some(&b), act, &mut o[..48]),
        len_err(Buffer::Input, 120, 119)
    );
    assert_eq!(
        conv2d_f32(&shape, &i, &w[..107], Some(&b), act, &mut o[..48]),
        len_err(Buffer::Weights, 108, 107)
    );
    assert_eq!(
        conv2d_f32(&shape, &i, &w, Some(&b[..3]), act, &mut o[..48]),
        len_err(Buffer::Bias, 4, 3)
    );
    assert_eq!(
        conv2d_f32(&shape, &i, &w, Some(&b), act, &mut o),
        len_err(Buffer::Output, 48, 49)
    );
    assert!(o.iter().all(|&v| v == 7.0));

    let (i, w, b) = (vec![0i8; 120], vec![0i8; 108], vec![0i32; 4]);
    let mut o = vec![7i8; 49];
    let rq = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }; 5];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq[..1],
        act: ActivationS8::NONE,
    };
    assert_eq!(
        conv2d_s8(&shape, &q, &i[..119], &w, Some(&b), &mut o[..48]),
        len_err(Buffer::Input, 120, 119)
    );
    assert_eq!(
        conv2d_s8(&shape, &q, &i, &w[..107], Some(&b), &mut o[..48]),
        len_err(Buffer::Weights, 108, 107)
    );
    assert_eq!(
        conv2d_s8(&shape, &q, &i, &w, Some(&b[..3]), &mut o[..48]),
        len_err(Buffer::Bias, 4, 3)
    );
    for bad in [0, 2, 5] {
        let q = QuantArgsS8 {
            requant: &rq[..bad],
            ..q
        };
        assert_eq!(
            conv2d_s8(&shape, &q, &i, &w, Some(&b), &mut o[..48]),
            len_err(Buffer::Requant, 4, bad)
        );
    }
    assert_eq!(
        conv2d_s8(&shape, &q, &i, &w, Some(&b), &mut o),
        len_err(Buffer::Output, 48, 49)
    );
    assert!(o.iter().all(|&v| v == 7));
    let q4 = QuantArgsS8 {
        requant: &rq[..4],
        ..q
    };
    assert_eq!(
        conv2d_s8(&shape, &q4, &i, &w, Some(&b), &mut o[..48]),
        Ok(())
    );
}

#[test]
fn conv2d_parameter_and_dimension_errors() {
    let base = square(4, 1, 1, 3, 1, 1, Padding::Valid);
    let act = ActivationF32::NONE;
    let rq = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq,
        act: ActivationS8::NONE,
    };
    let parameter = [
        Conv2dShape {
            stride_h: 0,
            ..base
        },
        Conv2dShape {
            stride_w: 0,
            ..base
        },
        Conv2dShape {
            dilation_h: 0,
            ..base
        },
        Conv2dShape {
            dilation_w: 0,
            ..base
        },
        Conv2dShape {
            kernel_h: 0,
            ..base
        },
        Conv2dShape {
            kernel_w: 0,
            ..base
        },
        // VALID with a kernel larger than the input, directly or through dilation.
        Conv2dShape {
            kernel_h: 5,
            ..base
        },
        Conv2dShape {
            kernel_w: 5,
            ..base
        },
        Conv2dShape {
            dilation_w: 2,
            ..base
        },
    ];
    for shape in parameter {
        assert_eq!(shape.output_hw(), Err(ShapeError::Parameter), "{shape:?}");
        assert_eq!(
            conv2d_f32(&shape, &[0.0; 16], &[0.0; 9], None, act, &mut [0.0; 4]),
            Err(ShapeError::Parameter)
        );
        assert_eq!(
            conv2d_s8(&shape, &q, &[0; 16], &[0; 9], None, &mut [0; 4]),
            Err(ShapeError::Parameter)
        );
    }
    // SAME accepts a kernel larger than the input.
    assert_eq!(
        Conv2dShape {
            kernel_h: 5,
            kernel_w: 5,
            padding: Padding::Same,
            ..base
        }
        .output_hw(),
        Ok((4, 4))
    );
    let dimension = [
        Conv2dShape { batch: 0, ..base },
        Conv2dShape { in_h: 0, ..base },
        Conv2dShape { in_w: 0, ..base },
        Conv2dShape { in_c: 0, ..base },
        Conv2dShape { out_c: 0, ..base },
        Conv2dShape {
            in_c: usize::MAX,
            ..base
        },
        Conv2dShape {
            batch: usize::MAX,
            ..base
        },
    ];
    for shape in dimension {
        assert_eq!(
            conv2d_f32(&shape, &[], &[], None, act, &mut []),
            Err(ShapeError::Dimension),
            "{shape:?}"
        );
        assert_eq!(
            conv2d_s8(&shape, &q, &[], &[], None, &mut []),
            Err(ShapeError::Dimension),
            "{shape:?}"
        );
    }
}

#[test]
fn conv1d_errors() {
    let shape = Conv1dShape {
        batch: 1,
        len: 5,
        in_c: 2,
        out_c: 3,
        kernel: 3,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
    };
    assert_eq!(
        (shape.input_len(), shape.weights_len(), shape.output_len()),
        (Ok(10), Ok(18), Ok(9))
    );
    let act = ActivationF32::NONE;
    let (i, w) = ([0.0f32; 10], [0.0f32; 18]);
    let mut o = [7.0f32; 9];
    assert_eq!(
        conv1d_f32(&shape, &i[..9], &w, None, act, &mut o),
        len_err(Buffer::Input, 10, 9)
    );
    assert_eq!(
        conv1d_f32(&shape, &i, &w[..17], None, act, &mut o),
        len_err(Buffer::Weights, 18, 17)
    );
    assert_eq!(
        conv1d_f32(&shape, &i, &w, Some(&[0.0; 2]), act, &mut o),
        len_err(Buffer::Bias, 3, 2)
    );
    assert_eq!(
        conv1d_f32(&shape, &i, &w, None, act, &mut o[..8]),
        len_err(Buffer::Output, 9, 8)
    );
    assert!(o.iter().all(|&v| v == 7.0));
    let rq = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }; 2];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq,
        act: ActivationS8::NONE,
    };
    assert_eq!(
        conv1d_s8(&shape, &q, &[0; 10], &[0; 18], None, &mut [0; 9]),
        len_err(Buffer::Requant, 3, 2)
    );
    for bad in [
        Conv1dShape { stride: 0, ..shape },
        Conv1dShape {
            dilation: 0,
            ..shape
        },
        Conv1dShape { kernel: 0, ..shape },
        Conv1dShape { kernel: 6, ..shape },
        Conv1dShape {
            dilation: 3,
            ..shape
        },
    ] {
        assert_eq!(
            conv1d_f32(&bad, &i, &w, None, act, &mut o),
            Err(ShapeError::Parameter),
            "{bad:?}"
        );
    }
    for bad in [
        Conv1dShape { len: 0, ..shape },
        Conv1dShape { out_c: 0, ..shape },
    ] {
        assert_eq!(
            conv1d_s8(&bad, &q, &[], &[], None, &mut []),
            Err(ShapeError::Dimension),
            "{bad:?}"
        );
    }
}
