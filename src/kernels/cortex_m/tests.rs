//! Host tests of the fast kernels' drivers (with the portable micro-kernel) and output stage
//! against `generic` and `Requantizer::apply`. The assembly micro-kernels are compared with
//! `generic` on the emulated boards (suite `fast_dense_conv`).

use super::requant::{apply_unprepared, Output, Requant};
use super::Active as Portable;
use super::{conv, dense, Block4, Dot};
use crate::kernels::generic::conv::{self as gconv, Conv2dShape};
use crate::kernels::generic::dense::{self as gdense, DenseShape};
use crate::kernels::{ActivationS8, Padding, QuantArgsS8};
use crate::num::quant::Requantizer;

/// A fixed-seed linear congruential generator; its top bits are the values.
struct Lcg(u32);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 24) as i8
    }
    /// Mostly uniform int8, one value in four an extreme (-128, 127).
    fn i8_extreme(&mut self) -> i8 {
        match self.next() >> 30 {
            0 => i8::MIN,
            1 => i8::MAX,
            _ => self.i8(),
        }
    }
    fn i32(&mut self) -> i32 {
        self.next() as i32
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 8) % n
    }
}

const SPECIAL_I32: [i32; 12] = [
    i32::MIN,
    i32::MIN + 1,
    -(1 << 30),
    -65_537,
    -1,
    0,
    1,
    2,
    1 << 30,
    (1 << 30) + 1,
    i32::MAX - 1,
    i32::MAX,
];

#[test]
fn requant_matches_requantizer_apply() {
    let mut rng = Lcg(7);
    let mut shifts: Vec<i32> = (-40..=40).collect();
    shifts.extend([i32::MIN, i32::MIN + 1, -1000, 1000, i32::MAX]);
    let mut multipliers: Vec<i32> = SPECIAL_I32.to_vec();
    multipliers.extend((0..20).map(|_| rng.i32()));
    multipliers.extend([1_518_500_250, 1 << 30, 2_147_483_000]);
    let mut xs: Vec<i32> = SPECIAL_I32.to_vec();
    xs.extend((0..200).map(|_| rng.i32()));
    xs.extend((0..200).map(|_| rng.i32() >> 12));
    // Values around rounding ties of small exponents.
    xs.extend((-70..70).map(|v| v * 3));
    for &shift in &shifts {
        for &multiplier in &multipliers {
            let r = Requantizer { multiplier, shift };
            let fast = Requant::new(r);
            for &x in &xs {
                let want = r.apply(x);
                assert_eq!(fast.apply(x), want, "x {x}, {r:?}");
                assert_eq!(apply_unprepared(r, x), want, "x {x}, {r:?}");
            }
        }
    }
}

#[test]
fn output_stage_matches_quant_args_output() {
    let mut rng = Lcg(11);
    let requant: Vec<Requantizer> = (0..5)
        .map(|_| Requantizer {
            multiplier: rng.i32(),
            shift: rng.below(50) as i32 - 35,
        })
        .collect();
    for per_channel in [false, true] {
        for (output_offset, act) in [
            (0, ActivationS8::NONE),
            (-128, ActivationS8 { min: -5, max: 90 }),
            (127, ActivationS8 { min: 3, max: -3 }),
            (i32::MAX, ActivationS8::NONE),
            (i32::MIN, ActivationS8::NONE),
        ] {
            let q = QuantArgsS8 {
                input_offset: 0,
                output_offset,
                requant: if per_channel { &requant } else { &requant[..1] },
                act,
            };
            let stage = Output::new(&q);
            for _ in 0..2000 {
                let acc = rng.i32() >> rng.below(31);
                let c = rng.below(5) as usize;
                assert_eq!(stage.apply(acc, c), q.output(acc, c));
            }
        }
    }
}

/// Quantization of a random case: offsets from the extremes of the specification, beyond them
/// (which the DSP kernel hands to `generic`) and random ones.
fn quant(
    rng: &mut Lcg,
    channels: usize,
    storage: &mut Vec<Requantizer>,
) -> (i32, i32, ActivationS8) {
    storage.clear();
    let n = if rng.below(2) == 0 { 1 } else { channels };
    storage.extend((0..n).map(|_| Requantizer {
        multiplier: (rng.next() >> 1) as i32 | (1 << 30),
        shift: rng.below(20) as i32 - 17,
    }));
    let input_offset = match rng.below(8) {
        0 => 128,
        1 => -127,
        2 => 32_640,
        3 => -32_641,
        4 => i32::MIN,
        _ => rng.below(256) as i32 - 128,
    };
    let output_offset = rng.below(256) as i32 - 128;
    let act = if rng.below(3) == 0 {
        ActivationS8 { min: -20, max: 100 }
    } else {
        ActivationS8::NONE
    };
    (input_offset, output_offset, act)
}

/// The portable micro-kernel limited to the DSP kernel's offsets (±32640), so the host runs the
/// dense driver's split of larger offsets.
struct Narrow;

impl Dot for Narrow {
    fn accepts(input_offset: i32) -> bool {
        (-32_640..=32_640).contains(&input_offset)
    }

    fn dot4(acc: [i32; 4], block: Block4<'_>, input_offset: i32) -> [i32; 4] {
        assert!(
            Self::accepts(input_offset),
            "offset {input_offset} reached dot4"
        );
        Portable::dot4(acc, block, input_offset)
    }

    fn dot1(acc: i32, x: &[i8], w: &[i8], input_offset: i32) -> i32 {
        assert!(
            Self::accepts(input_offset),
            "offset {input_offset} reached dot1"
        );
        Portable::dot1(acc, x, w, input_offset)
    }
}

#[test]
fn dense_portable_matches_generic() {
    dense_matches_generic::<Portable>();
}

#[test]
fn dense_splits_offsets_beyond_the_micro_kernel_and_matches_generic() {
    dense_matches_generic::<Narrow>();
}

fn dense_matches_generic<D: Dot>() {
    let mut rng = Lcg(3);
    let mut requant = Vec::new();
    for in_features in 1..=67 {
        for out_features in 1..=9 {
            let batch = 1 + rng.below(3) as usize;
            let input: Vec<i8> = (0..batch * in_features).map(|_| rng.i8_extreme()).collect();
            let weights: Vec<i8> = (0..in_features * out_features)
                .map(|_| rng.i8_extreme())
                .collect();
            let bias: Vec<i32> = (0..out_features).map(|_| rng.i32() >> 8).collect();
            let (input_offset, output_offset, act) = quant(&mut rng, out_features, &mut requant);
            let q = QuantArgsS8 {
                input_offset,
                output_offset,
                requant: &requant,
                act,
            };
            let shape = DenseShape {
                batch,
                in_features,
                out_features,
            };
            for bias in [None, Some(&bias[..])] {
                let mut want = vec![0; batch * out_features];
                let mut got = vec![1; batch * out_features];
                gdense::dense_s8(shape, &q, &input, &weights, bias, &mut want).unwrap();
                dense::dense_s8::<D>(shape, &q, &input, &weights, bias, &mut got).unwrap();
                assert_eq!(got, want, "{shape:?}, input offset {input_offset}");
            }
        }
    }
}

#[test]
fn dense_errors_match_generic() {
    let shape = DenseShape {
        batch: 1,
        in_features: 3,
        out_features: 2,
    };
    let rq = [Requantizer::ZERO; 3];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq[..1],
        act: ActivationS8::NONE,
    };
    /// Input, weights, bias, output length.
    type Case<'a> = (&'a [i8], &'a [i8], Option<&'a [i32]>, usize);
    let cases: [Case; 4] = [
        (&[0; 2], &[0; 6], None, 2),
        (&[0; 3], &[0; 5], None, 2),
        (&[0; 3], &[0; 6], Some(&[0; 3]), 2),
        (&[0; 3], &[0; 6], None, 3),
    ];
    for (input, weights, bias, out) in cases {
        let mut a = vec![0; out];
        let mut b = vec![0; out];
        assert_eq!(
            dense::dense_s8::<Portable>(shape, &q, input, weights, bias, &mut a),
            gdense::dense_s8(shape, &q, input, weights, bias, &mut b)
        );
        assert!(a.iter().all(|&v| v == 0));
    }
    // Three requantizers for two channels.
    let q = QuantArgsS8 { requant: &rq, ..q };
    let (mut a, mut b) = ([0; 2], [0; 2]);
    let got = dense::dense_s8::<Portable>(shape, &q, &[0; 3], &[0; 6], None, &mut a);
    assert!(got.is_err());
    assert_eq!(
        got,
        gdense::dense_s8(shape, &q, &[0; 3], &[0; 6], None, &mut b)
    );
}

#[test]
fn conv_portable_matches_generic() {
    let mut rng = Lcg(5);
    let mut requant = Vec::new();
    for case in 0..400 {
        let padding = if rng.below(2) == 0 {
            Padding::Same
        } else {
            Padding::Valid
        };
        let s = Conv2dShape {
            batch: 1 + rng.below(2) as usize,
            in_h: 1 + rng.below(7) as usize,
            in_w: 1 + rng.below(7) as usize,
            in_c: 1 + rng.below(9) as usize,
            out_c: 1 + rng.below(9) as usize,
            kernel_h: 1 + rng.below(4) as usize,
            kernel_w: 1 + rng.below(4) as usize,
            stride_h: 1 + rng.below(3) as usize,
            stride_w: 1 + rng.below(3) as usize,
            dilation_h: 1 + rng.below(2) as usize,
            dilation_w: 1 + rng.below(3) as usize,
            padding,
        };
        let (Ok(input_len), Ok(weights_len), Ok(output_len)) =
            (s.input_len(), s.weights_len(), s.output_len())
        else {
            continue; // a VALID window larger than the input
        };
        let input: Vec<i8> = (0..input_len).map(|_| rng.i8_extreme()).collect();
        let weights: Vec<i8> = (0..weights_len).map(|_| rng.i8_extreme()).collect();
        let bias: Vec<i32> = (0..s.out_c).map(|_| rng.i32() >> 8).collect();
        let (input_offset, output_offset, act) = quant(&mut rng, s.out_c, &mut requant);
        let q = QuantArgsS8 {
            input_offset,
            output_offset,
            requant: &requant,
            act,
        };
        let bias = if case % 3 == 0 { None } else { Some(&bias[..]) };
        let mut want = vec![0; output_len];
        let mut got = vec![1; output_len];
        gconv::conv2d_s8(&s, &q, &input, &weights, bias, &mut want).unwrap();
        conv::conv2d_s8::<Portable>(&s, &q, &input, &weights, bias, &mut got).unwrap();
        assert_eq!(got, want, "{s:?}");
    }
}

#[test]
fn conv_errors_match_generic() {
    let s = Conv2dShape {
        batch: 1,
        in_h: 3,
        in_w: 3,
        in_c: 2,
        out_c: 2,
        kernel_h: 2,
        kernel_w: 2,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
    };
    let rq = [Requantizer::ZERO];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq,
        act: ActivationS8::NONE,
    };
    let cases: [(&[i8], &[i8], usize); 3] = [
        (&[0; 17], &[0; 16], 8),
        (&[0; 18], &[0; 15], 8),
        (&[0; 18], &[0; 16], 9),
    ];
    for (input, weights, out) in cases {
        let mut a = vec![0; out];
        let mut b = vec![0; out];
        assert_eq!(
            conv::conv2d_s8::<Portable>(&s, &q, input, weights, None, &mut a),
            gconv::conv2d_s8(&s, &q, input, weights, None, &mut b)
        );
        assert!(a.iter().all(|&v| v == 0));
    }
    let zero_stride = Conv2dShape { stride_h: 0, ..s };
    let mut y = [0; 8];
    assert_eq!(
        conv::conv2d_s8::<Portable>(&zero_stride, &q, &[0; 18], &[0; 16], None, &mut y),
        gconv::conv2d_s8(&zero_stride, &q, &[0; 18], &[0; 16], None, &mut y)
    );
}
