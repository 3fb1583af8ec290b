//! The fast path against the reference kernel, bit for bit, over shapes that exercise the
//! tiling (several tiles per axis), padding on every side, strides, dilations, multipliers,
//! channel counts, and extreme values and quantization parameters.

use super::super::depthwise::{depthwise_conv2d_s8 as reference, DepthwiseConv2dShape};
use super::depthwise_conv2d_s8;
use crate::kernels::{ActivationS8, Padding, QuantArgsS8};
use crate::num::quant::Requantizer;

/// A small LCG: deterministic data with no dependency.
struct Lcg(u32);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 8) % n
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 24) as i8
    }
    /// Mostly uniform int8, with runs of the extremes.
    fn i8_extreme(&mut self) -> i8 {
        match self.below(8) {
            0 => i8::MIN,
            1 => i8::MAX,
            _ => self.i8(),
        }
    }
}

fn check(shape: &DepthwiseConv2dShape, q: &QuantArgsS8, rng: &mut Lcg, bias: bool) {
    let input: Vec<i8> = (0..shape.input_len().unwrap())
        .map(|_| rng.i8_extreme())
        .collect();
    let weights: Vec<i8> = (0..shape.weights_len().unwrap())
        .map(|_| rng.i8_extreme())
        .collect();
    let out_c = shape.out_c().unwrap();
    let bias_v: Vec<i32> = (0..out_c)
        .map(|_| (rng.next() as i32) >> (rng.below(32)))
        .collect();
    let bias = bias.then_some(&bias_v[..]);
    let n = shape.output_len().unwrap();
    let mut want = vec![0i8; n];
    let mut got = vec![0x55i8; n];
    reference(shape, q, &input, &weights, bias, &mut want).unwrap();
    depthwise_conv2d_s8(shape, q, &input, &weights, bias, &mut got).unwrap();
    assert_eq!(got, want, "{shape:?} {q:?}");
}

fn shape(hw: (usize, usize), c: usize, m: usize, k: (usize, usize)) -> DepthwiseConv2dShape {
    DepthwiseConv2dShape {
        batch: 1,
        in_h: hw.0,
        in_w: hw.1,
        in_c: c,
        multiplier: m,
        kernel_h: k.0,
        kernel_w: k.1,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    }
}

fn requant(rng: &mut Lcg, channels: usize) -> Vec<Requantizer> {
    (0..channels)
        .map(|_| Requantizer {
            multiplier: (1 << 30) + (rng.next() >> 2) as i32,
            shift: -(rng.below(14) as i32) - 4,
        })
        .collect()
}

#[test]
fn shapes_match_the_reference() {
    let mut rng = Lcg(7);
    for case in 0..400 {
        let mut s = shape(
            (1 + rng.below(40) as usize, 1 + rng.below(70) as usize),
            1 + rng.below(9) as usize,
            1 + rng.below(3) as usize,
            (1 + rng.below(5) as usize, 1 + rng.below(5) as usize),
        );
        if case % 11 == 5 {
            // Nine taps that are not 3x3.
            (s.kernel_h, s.kernel_w) = (1, 9);
        }
        s.batch = 1 + rng.below(2) as usize;
        s.stride_h = 1 + rng.below(3) as usize;
        s.stride_w = 1 + rng.below(3) as usize;
        s.dilation_h = 1 + rng.below(3) as usize;
        s.dilation_w = 1 + rng.below(3) as usize;
        if case % 3 == 0 {
            (s.kernel_h, s.kernel_w, s.stride_h, s.stride_w) = (3, 3, 1, 1);
            (s.dilation_h, s.dilation_w) = (1, 1);
        }
        if case % 2 == 1 {
            s.padding = Padding::Valid;
        }
        if s.output_hw().is_err() {
            continue;
        }
        let out_c = s.out_c().unwrap();
        let rq = if case % 4 == 0 {
            requant(&mut rng, 1)
        } else {
            requant(&mut rng, out_c)
        };
        let act = if case % 5 == 0 {
            ActivationS8 { min: -100, max: 90 }
        } else {
            ActivationS8::NONE
        };
        let q = QuantArgsS8 {
            input_offset: rng.below(256) as i32 - 127,
            output_offset: rng.below(256) as i32 - 128,
            requant: &rq,
            act,
        };
        check(&s, &q, &mut rng, case % 7 != 0);
    }
}

#[test]
fn extreme_parameters_match_the_reference() {
    let mut rng = Lcg(11);
    let multipliers = [0, 1, i32::MAX, 1 << 30, i32::MIN, -1_518_500_250];
    let shifts = [-31, -30, -20, -12, -1, 0, 1, 5, 30, i32::MIN, i32::MAX];
    let offsets = [-128, 127, 0, 128, -127, 40_000, -40_000, i32::MIN, i32::MAX];
    let acts = [
        ActivationS8::NONE,
        ActivationS8 { min: 0, max: 6 },
        ActivationS8 { min: 5, max: -5 },
    ];
    for (i, &multiplier) in multipliers.iter().enumerate() {
        for (j, &shift) in shifts.iter().enumerate() {
            let s = shape((5 + i, 6 + j), 3 + (i + j) % 5, 1 + j % 3, (3, 3));
            let rq = [Requantizer { multiplier, shift }];
            for (k, &input_offset) in offsets.iter().enumerate() {
                let q = QuantArgsS8 {
                    input_offset,
                    output_offset: offsets[(k + 3) % offsets.len()],
                    requant: &rq,
                    act: acts[(i + k) % acts.len()],
                };
                check(&s, &q, &mut rng, k % 2 == 0);
            }
        }
    }
}

#[test]
fn errors_match_the_reference() {
    let s = shape((4, 4), 2, 1, (3, 3));
    let rq = [Requantizer::ZERO];
    let q = QuantArgsS8 {
        input_offset: 0,
        output_offset: 0,
        requant: &rq,
        act: ActivationS8::NONE,
    };
    let input = [0i8; 32];
    let weights = [0i8; 18];
    for (i, w, b, o) in [
        (31, 18, 2, 32),
        (32, 17, 2, 32),
        (32, 18, 3, 32),
        (32, 18, 2, 33),
    ] {
        let bias = vec![0; b];
        let mut out = vec![0i8; o];
        let mut out2 = out.clone();
        let fast = depthwise_conv2d_s8(&s, &q, &input[..i], &weights[..w], Some(&bias), &mut out);
        let slow = reference(&s, &q, &input[..i], &weights[..w], Some(&bias), &mut out2);
        assert!(fast.is_err());
        assert_eq!(fast, slow);
    }
}
