//! Depthwise convolution kernels (`depthwise_conv2d_f32`, `depthwise_conv2d_s8`) against
//! hand-worked cases and the independent references of `reference::linear`.
//!
//! f32 tolerance: `|got - ref| <= 1e-5 * (1 + |bias| + sum |x * w|)` against the f64 reference.
//! int8: bit-exact against the exact integer reference.

use proptest::prelude::*;
use tinytune::kernels::generic::depthwise::{
    depthwise_conv2d_f32, depthwise_conv2d_s8, DepthwiseConv2dShape,
};
use tinytune::kernels::{ActivationF32, ActivationS8, Padding, QuantArgsS8};
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::reference::linear::{self as reference, Conv2dParams, Pad};
use tinytune_host_tests::rng::SplitMix64;

/// The reference describes depthwise geometry with `out_c` standing for the multiplier.
fn params(s: &DepthwiseConv2dShape) -> Conv2dParams {
    Conv2dParams {
        batch: s.batch,
        in_h: s.in_h,
        in_w: s.in_w,
        in_c: s.in_c,
        out_c: s.multiplier,
        kernel_h: s.kernel_h,
        kernel_w: s.kernel_w,
        stride_h: s.stride_h,
        stride_w: s.stride_w,
        dilation_h: s.dilation_h,
        dilation_w: s.dilation_w,
        pad: match s.padding {
            Padding::Valid => Pad::Valid,
            Padding::Same => Pad::Same,
        },
    }
}

fn shape_2x2(in_c: usize, multiplier: usize, padding: Padding) -> DepthwiseConv2dShape {
    DepthwiseConv2dShape {
        batch: 1,
        in_h: 2,
        in_w: 2,
        in_c,
        multiplier,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding,
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-worked cases.

#[test]
fn depthwise_f32_multiplier2_by_hand() {
    // 2x2 image, 2 channels, 2x2 filter VALID: a 1x1 output with 4 channels.
    let shape = shape_2x2(2, 2, Padding::Valid);
    assert_eq!(shape.output_hw(), Ok((1, 1)));
    // Pixels (0,0) (0,1) (1,0) (1,1); channel 0 = [1, 2, 3, 4], channel 1 = [10, 20, 30, 40].
    let input = [1.0f32, 10.0, 2.0, 20.0, 3.0, 30.0, 4.0, 40.0];
    // [kh, kw, 4], output channel oc = ic * 2 + m:
    // oc0 (ic 0): ones; oc1 (ic 0): [1, 0; 0, -1]; oc2 (ic 1): [0, 1; 0, 0]; oc3 (ic 1): 0.5.
    #[rustfmt::skip]
    let weights = [
        1.0f32, 1.0, 0.0, 0.5,  // (0,0)
        1.0, 0.0, 1.0, 0.5,     // (0,1)
        1.0, 0.0, 0.0, 0.5,     // (1,0)
        1.0, -1.0, 0.0, 0.5,    // (1,1)
    ];
    let bias = [0.0f32, 0.0, 1.0, -1.0];
    let mut out = [0.0f32; 4];
    depthwise_conv2d_f32(
        &shape,
        &input,
        &weights,
        Some(&bias),
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // oc0 = 1+2+3+4 = 10; oc1 = 1-4 = -3; oc2 = 20+1 = 21; oc3 = 0.5*100-1 = 49.
    assert_eq!(out, [10.0, -3.0, 21.0, 49.0]);
    depthwise_conv2d_f32(
        &shape,
        &input,
        &weights,
        Some(&bias),
        ActivationF32::RELU6,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [6.0, 0.0, 6.0, 6.0]);
}

#[test]
fn depthwise_f32_same_stride2_by_hand() {
    // 3x3 single-channel image 1..=9, 3x3 ones filter, SAME stride 2: out 2x2, total padding
    // (2-1)*2 + 3 - 3 = 2, one before and one after. Output (oy,ox) sums rows/cols 2o-1..2o+1.
    let shape = DepthwiseConv2dShape {
        batch: 1,
        in_h: 3,
        in_w: 3,
        in_c: 1,
        multiplier: 1,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 2,
        stride_w: 2,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    };
    let input: Vec<f32> = (1..=9).map(|v| v as f32).collect();
    let mut out = [0.0f32; 4];
    depthwise_conv2d_f32(
        &shape,
        &input,
        &[1.0; 9],
        None,
        ActivationF32::NONE,
        &mut out,
    )
    .unwrap();
    // (0,0): rows 0-1, cols 0-1 = 1+2+4+5 = 12; (0,1): cols 1-2 = 2+3+5+6 = 16;
    // (1,0): rows 1-2 = 4+5+7+8 = 24; (1,1) = 5+6+8+9 = 28.
    assert_eq!(out, [12.0, 16.0, 24.0, 28.0]);
}

#[test]
fn depthwise_s8_multiplier2_same_by_hand() {
    // A 1x3 image, 1 channel, multiplier 2, 1x3 filter, SAME: one padded column each side.
    let shape = DepthwiseConv2dShape {
        batch: 1,
        in_h: 1,
        in_w: 3,
        in_c: 1,
        multiplier: 2,
        kernel_h: 1,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    };
    let input = [1i8, 2, 3];
    // [1, 3, 2]: kx0 = [1, -1], kx1 = [2, 0], kx2 = [3, 1].
    let weights = [1i8, -1, 2, 0, 3, 1];
    // Channel 0 x 1.0, channel 1 x 4.0.
    let requant = [
        Requantizer {
            multiplier: 1 << 30,
            shift: 1,
        },
        Requantizer {
            multiplier: 1 << 30,
            shift: 3,
        },
    ];
    let q = QuantArgsS8 {
        input_offset: 1,
        output_offset: 0,
        requant: &requant,
        act: ActivationS8 { min: -10, max: 127 },
    };
    let mut out = [0i8; 6];
    depthwise_conv2d_s8(&shape, &q, &input, &weights, None, &mut out).unwrap();
    // input + 1 = [2, 3, 4]; padding (the zero point, -1) contributes 0.
    // oc0: [2*2 + 3*3, 2 + 6 + 12, 3 + 8] = [13, 20, 11]
    // oc1: [0 + 3, -2 + 0 + 4, -3 + 0] = [3, 2, -3], x 4 = [12, 8, -12], -12 clamped to -10.
    assert_eq!(out, [13, 12, 20, 8, 11, -10]);
}

// ---------------------------------------------------------------------------------------------
// Random shapes and values against the references.

fn depthwise_shape() -> impl Strategy<Value = DepthwiseConv2dShape> {
    (
        (1usize..3, 1usize..8, 1usize..8, 1usize..5, 1usize..4),
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
                (batch, in_h, in_w, in_c, multiplier),
                (kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w),
                padding,
            )| {
                DepthwiseConv2dShape {
                    batch,
                    in_h,
                    in_w,
                    in_c,
                    multiplier,
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(160))]

    #[test]
    fn depthwise_f32_matches_reference(
        shape in depthwise_shape(),
        with_bias in any::<bool>(),
        act in prop_oneof![Just(ActivationF32::NONE), Just(ActivationF32::RELU), Just(ActivationF32::RELU6)],
        seed in any::<u64>(),
    ) {
        let p = params(&shape);
        let out_c = shape.in_c * shape.multiplier;
        let mut rng = SplitMix64::new(seed);
        let input = rng.f32_vec(shape.batch * shape.in_h * shape.in_w * shape.in_c, -2.0, 2.0);
        let weights = rng.f32_vec(shape.kernel_h * shape.kernel_w * out_c, -1.0, 1.0);
        let bias = rng.f32_vec(out_c, -1.0, 1.0);
        let bias = with_bias.then_some(&bias[..]);
        let Some((oh, _, ow, _)) = p.geometry() else {
            let mut out = [0.0f32; 1];
            prop_assert_eq!(depthwise_conv2d_f32(&shape, &input, &weights, bias, act, &mut out), Err(ShapeError::Parameter));
            return Ok(());
        };
        prop_assert_eq!(shape.output_hw(), Ok((oh, ow)));
        let mut out = vec![f32::NAN; shape.batch * oh * ow * out_c];
        depthwise_conv2d_f32(&shape, &input, &weights, bias, act, &mut out).unwrap();
        let want = reference::eval_f64(&reference::depthwise_taps(&p), &input, &weights, bias, act.min, act.max);
        prop_assert_eq!(out.len(), want.len());
        for (got, want) in out.iter().zip(&want) {
            prop_assert!(reference::within_tolerance(*got, want), "got {got}, want {want:?}");
        }
    }

    #[test]
    fn depthwise_s8_matches_reference(
        shape in depthwise_shape(),
        with_bias in any::<bool>(),
        per_channel in any::<bool>(),
        input_offset in -127i32..=128,
        output_offset in -128i32..=127,
        act in prop_oneof![
            Just(ActivationS8::NONE),
            (any::<i8>(), any::<i8>()).prop_map(|(a, b)| ActivationS8 { min: a.min(b), max: a.max(b) }),
        ],
        seed in any::<u64>(),
    ) {
        let p = params(&shape);
        let out_c = shape.in_c * shape.multiplier;
        let mut rng = SplitMix64::new(seed);
        let input = rng.i8_vec(shape.batch * shape.in_h * shape.in_w * shape.in_c);
        let weights: Vec<i8> = (0..shape.kernel_h * shape.kernel_w * out_c).map(|_| rng.range_i64(-127, 127) as i8).collect();
        let bias: Vec<i32> = (0..out_c).map(|_| rng.range_i64(-20_000, 20_000) as i32).collect();
        let bias = with_bias.then_some(&bias[..]);
        let rq: Vec<(i32, i32)> = (0..if per_channel { out_c } else { 1 })
            .map(|_| (rng.range_i64(1 << 30, (1 << 31) - 1) as i32, rng.range_i64(-14, 2) as i32))
            .collect();
        let requant: Vec<Requantizer> = rq.iter().map(|&(multiplier, shift)| Requantizer { multiplier, shift }).collect();
        let q = QuantArgsS8 { input_offset, output_offset, requant: &requant, act };
        let Some((oh, _, ow, _)) = p.geometry() else {
            let mut out = [0i8; 1];
            prop_assert_eq!(depthwise_conv2d_s8(&shape, &q, &input, &weights, bias, &mut out), Err(ShapeError::Parameter));
            return Ok(());
        };
        let mut out = vec![0i8; shape.batch * oh * ow * out_c];
        depthwise_conv2d_s8(&shape, &q, &input, &weights, bias, &mut out).unwrap();
        let want = reference::eval_s8(
            &reference::depthwise_taps(&p), &input, input_offset, &weights, 0, bias, &rq, output_offset, act.min, act.max,
        );
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
fn depthwise_length_errors() {
    // batch 2, 3x3x2 input, multiplier 3 (6 output channels), 2x2 VALID: out 2x2.
    let shape = DepthwiseConv2dShape {
        batch: 2,
        in_h: 3,
        in_w: 3,
        in_c: 2,
        multiplier: 3,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
    };
    assert_eq!(shape.out_c(), Ok(6));
    assert_eq!(
        (shape.input_len(), shape.weights_len(), shape.output_len()),
        (Ok(36), Ok(24), Ok(48))
    );
    let act = ActivationF32::NONE;
    let (i, w, b) = ([0.0f32; 36], [0.0f32; 24], [0.0f32; 6]);
    let mut o = [7.0f32; 49];
    assert_eq!(
        depthwise_conv2d_f32(&shape, &i[..35], &w, Some(&b), act, &mut o[..48]),
        len_err(Buffer::Input, 36, 35)
    );
    assert_eq!(
        depthwise_conv2d_f32(&shape, &i, &w[..23], Some(&b), act, &mut o[..48]),
        len_err(Buffer::Weights, 24, 23)
    );
    assert_eq!(
        depthwise_conv2d_f32(&shape, &i, &w, Some(&b[..2]), act, &mut o[..48]),
        len_err(Buffer::Bias, 6, 2)
    );
    assert_eq!(
        depthwise_conv2d_f32(&shape, &i, &w, Some(&b), act, &mut o),
        len_err(Buffer::Output, 48, 49)
    );
    assert!(o.iter().all(|&v| v == 7.0));

    let (i, w, b) = ([0i8; 36], [0i8; 24], [0i32; 6]);
    let mut o = [7i8; 49];
    let rq = [Requantizer {
        multiplier: 1 << 30,
        shift: 0,
    }; 7];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq[..1],
        act: ActivationS8::NONE,
    };
    assert_eq!(
        depthwise_conv2d_s8(&shape, &q, &i[..35], &w, Some(&b), &mut o[..48]),
        len_err(Buffer::Input, 36, 35)
    );
    assert_eq!(
        depthwise_conv2d_s8(&shape, &q, &i, &w[..23], Some(&b), &mut o[..48]),
        len_err(Buffer::Weights, 24, 23)
    );
    assert_eq!(
        depthwise_conv2d_s8(&shape, &q, &i, &w, Some(&b[..5]), &mut o[..48]),
        len_err(Buffer::Bias, 6, 5)
    );
    // Per input channel (2) is not a valid requantizer count: it must be 1 or in_c * multiplier.
    for bad in [0, 2, 7] {
        let q = QuantArgsS8 {
            requant: &rq[..bad],
            ..q
        };
        assert_eq!(
            depthwise_conv2d_s8(&shape, &q, &i, &w, Some(&b), &mut o[..48]),
            len_err(Buffer::Requant, 6, bad)
        );
    }
    assert_eq!(
        depthwise_conv2d_s8(&shape, &q, &i, &w, Some(&b), &mut o),
        len_err(Buffer::Output, 48, 49)
    );
    assert!(o.iter().all(|&v| v == 7));
    let q6 = QuantArgsS8 {
        requant: &rq[..6],
        ..q
    };
    assert_eq!(
        depthwise_conv2d_s8(&shape, &q6, &i, &w, Some(&b), &mut o[..48]),
        Ok(())
    );
}

#[test]
fn depthwise_parameter_and_dimension_errors() {
    let base = shape_2x2(2, 2, Padding::Valid);
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
        DepthwiseConv2dShape {
            multiplier: 0,
            ..base
        },
        DepthwiseConv2dShape {
            stride_h: 0,
            ..base
        },
        DepthwiseConv2dShape {
            stride_w: 0,
            ..base
        },
        DepthwiseConv2dShape {
            dilation_h: 0,
            ..base
        },
        DepthwiseConv2dShape {
            dilation_w: 0,
            ..base
        },
        DepthwiseConv2dShape {
            kernel_h: 0,
            ..base
        },
        DepthwiseConv2dShape {
            kernel_w: 0,
            ..base
        },
        DepthwiseConv2dShape {
            kernel_h: 3,
            ..base
        },
        DepthwiseConv2dShape {
            dilation_w: 2,
            ..base
        },
    ];
    for shape in parameter {
        assert_eq!(shape.output_hw(), Err(ShapeError::Parameter), "{shape:?}");
        assert_eq!(
            depthwise_conv2d_f32(&shape, &[0.0; 8], &[0.0; 16], None, act, &mut [0.0; 4]),
            Err(ShapeError::Parameter)
        );
        assert_eq!(
            depthwise_conv2d_s8(&shape, &q, &[0; 8], &[0; 16], None, &mut [0; 4]),
            Err(ShapeError::Parameter)
        );
    }
    let dimension = [
        DepthwiseConv2dShape { batch: 0, ..base },
        DepthwiseConv2dShape { in_h: 0, ..base },
        DepthwiseConv2dShape { in_w: 0, ..base },
        DepthwiseConv2dShape { in_c: 0, ..base },
        DepthwiseConv2dShape {
            multiplier: usize::MAX,
            ..base
        },
        DepthwiseConv2dShape {
            batch: usize::MAX,
            ..base
        },
    ];
    for shape in dimension {
        assert_eq!(
            depthwise_conv2d_f32(&shape, &[], &[], None, act, &mut []),
            Err(ShapeError::Dimension),
            "{shape:?}"
        );
        assert_eq!(
            depthwise_conv2d_s8(&shape, &q, &[], &[], None, &mut []),
            Err(ShapeError::Dimension),
            "{shape:?}"
        );
    }
}
