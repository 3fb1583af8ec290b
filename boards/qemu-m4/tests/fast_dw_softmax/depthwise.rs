//! The fast int8 depthwise convolution against the reference kernel.

use crate::rng::Lcg;
use defmt::{assert, assert_eq, unwrap};
use tinytune::kernels::generic::depthwise::{
    depthwise_conv2d_s8 as reference, DepthwiseConv2dShape,
};
use tinytune::kernels::generic::depthwise_fast::depthwise_conv2d_s8;
use tinytune::kernels::{ActivationS8, Padding, QuantArgsS8};
use tinytune::layers::s8::DepthwiseConv2dS8Config;
use tinytune::num::quant::{QuantParams, Requantizer};

const MAX_INPUT: usize = 16_384;
const MAX_OUTPUT: usize = 40_960;
const MAX_WEIGHTS: usize = 1_024;
const MAX_CHANNELS: usize = 64;

/// The buffers of one case.
struct Buffers {
    input: [i8; MAX_INPUT],
    weights: [i8; MAX_WEIGHTS],
    bias: [i32; MAX_CHANNELS],
    want: [i8; MAX_OUTPUT],
    got: [i8; MAX_OUTPUT],
}

impl Buffers {
    fn new() -> Self {
        Buffers {
            input: [0; MAX_INPUT],
            weights: [0; MAX_WEIGHTS],
            bias: [0; MAX_CHANNELS],
            want: [0; MAX_OUTPUT],
            got: [0; MAX_OUTPUT],
        }
    }

    /// Fills the input and weights with `value` (or random int8 with extremes) and the bias,
    /// runs both kernels and compares every output.
    fn check(
        &mut self,
        s: &DepthwiseConv2dShape,
        q: &QuantArgsS8,
        rng: &mut Lcg,
        value: Option<i8>,
        bias: Option<i32>,
    ) {
        let (n_in, n_w, n_out) = (
            unwrap!(s.input_len()),
            unwrap!(s.weights_len()),
            unwrap!(s.output_len()),
        );
        let out_c = unwrap!(s.out_c());
        assert!(n_in <= MAX_INPUT && n_w <= MAX_WEIGHTS && n_out <= MAX_OUTPUT);
        assert!(out_c <= MAX_CHANNELS);
        for x in self.input[..n_in]
            .iter_mut()
            .chain(&mut self.weights[..n_w])
        {
            *x = value.unwrap_or_else(|| rng.i8_extreme());
        }
        for b in &mut self.bias[..out_c] {
            // Mostly small biases, some of any size (these take the general requantization).
            *b = bias.unwrap_or_else(|| (rng.next() as i32) >> rng.pick(&[31, 20, 16, 12, 8, 0]));
        }
        let bias = Some(&self.bias[..out_c]).filter(|_| rng.below(8) != 0);
        let (input, weights) = (&self.input[..n_in], &self.weights[..n_w]);
        self.got[..n_out].fill(0x55);
        unwrap!(reference(
            s,
            q,
            input,
            weights,
            bias,
            &mut self.want[..n_out]
        ));
        unwrap!(depthwise_conv2d_s8(
            s,
            q,
            input,
            weights,
            bias,
            &mut self.got[..n_out]
        ));
        for i in 0..n_out {
            assert!(
                self.got[i] == self.want[i],
                "{} {}: output {}: got {}, want {}",
                s,
                q,
                i,
                self.got[i],
                self.want[i]
            );
        }
    }
}

fn shape(h: usize, w: usize, c: usize, m: usize, k: usize) -> DepthwiseConv2dShape {
    DepthwiseConv2dShape {
        batch: 1,
        in_h: h,
        in_w: w,
        in_c: c,
        multiplier: m,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    }
}

/// Per-channel (or per-tensor) requantizers of realistic size: multiplier in [2^30, 2^31),
/// shift -4..=-17.
fn requantizers(rng: &mut Lcg, n: usize) -> [Requantizer; MAX_CHANNELS] {
    let mut rq = [Requantizer::ZERO; MAX_CHANNELS];
    for r in &mut rq[..n] {
        *r = Requantizer {
            multiplier: (1 << 30) + (rng.next() >> 2) as i32,
            shift: -4 - rng.below(14) as i32,
        };
    }
    rq
}

fn random_case(bufs: &mut Buffers, rng: &mut Lcg, s: &DepthwiseConv2dShape) {
    let out_c = unwrap!(s.out_c());
    let rq = requantizers(rng, out_c);
    let per_tensor = rng.below(4) == 0;
    let act = if rng.below(4) == 0 {
        ActivationS8 {
            min: (rng.range(0, 60) as i32 - 128) as i8,
            max: rng.range(0, 100) as i8,
        }
    } else {
        ActivationS8::NONE
    };
    let q = QuantArgsS8 {
        input_offset: rng.range(0, 255) as i32 - 127,
        output_offset: rng.range(0, 255) as i32 - 128,
        requant: if per_tensor { &rq[..1] } else { &rq[..out_c] },
        act,
    };
    bufs.check(s, &q, rng, None, None);
}

/// 3x3, stride 1 (the assembly path on the Cortex-M4): odd and even sizes, widths past one
/// plane (50 columns), heights past one tile, channel counts 1..=7, multipliers 1..=3, batch 2.
pub fn shapes_3x3() {
    let mut bufs = Buffers::new();
    let mut rng = Lcg(0xD3D3_0001);
    let mut cases = 0;
    for &(h, w) in &[
        (1, 1),
        (2, 3),
        (3, 2),
        (5, 7),
        (16, 16),
        (17, 9),
        (4, 51),
        (7, 60),
        (30, 6),
    ] {
        for c in 1..=7 {
            let mut s = shape(h, w, c, 1 + (c + h) % 3, 3);
            s.batch = 1 + (w + c) % 2;
            if (h + c) % 3 == 0 {
                s.padding = Padding::Valid;
            }
            if s.output_hw().is_err() || unwrap!(s.output_len()) > MAX_OUTPUT {
                continue;
            }
            random_case(&mut bufs, &mut rng, &s);
            cases += 1;
        }
    }
    defmt::info!("3x3 stride 1: {} shapes", cases);
    assert!(cases > 50);
}

/// Any filter size 1..=5 (square or not), stride and dilation 1..=3, both paddings.
pub fn shapes_any() {
    let mut bufs = Buffers::new();
    let mut rng = Lcg(0xD3D3_0002);
    let mut cases = 0;
    while cases < 120 {
        let mut s = shape(
            rng.range(1, 24),
            rng.range(1, 56),
            rng.range(1, 9),
            rng.range(1, 3),
            1,
        );
        s.kernel_h = rng.range(1, 5);
        s.kernel_w = rng.range(1, 5);
        s.stride_h = rng.range(1, 3);
        s.stride_w = rng.range(1, 3);
        s.dilation_h = rng.range(1, 3);
        s.dilation_w = rng.range(1, 3);
        s.batch = rng.range(1, 2);
        if rng.below(2) == 0 {
            s.padding = Padding::Valid;
        }
        if s.output_hw().is_err()
            || unwrap!(s.output_len()) > MAX_OUTPUT
            || unwrap!(s.input_len()) > MAX_INPUT
        {
            continue;
        }
        random_case(&mut bufs, &mut rng, &s);
        cases += 1;
    }
}

/// Requantizer multipliers and shifts over their whole range (zero, negative, `i32::MIN`,
/// shifts -31..=30 and beyond), input and output offsets at and past the int8 limits,
/// activations (ReLU6-like, and a malformed min > max).
pub fn extreme_parameters() {
    let mut bufs = Buffers::new();
    let mut rng = Lcg(0xD3D3_0003);
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
            let k = if j % 4 == 3 { 5 } else { 3 };
            let s = shape(5 + i, 6 + j, 3 + (i + j) % 5, 1 + j % 3, k);
            let rq = [Requantizer { multiplier, shift }];
            for (n, &input_offset) in offsets.iter().enumerate() {
                let q = QuantArgsS8 {
                    input_offset,
                    output_offset: offsets[(n + 3) % offsets.len()],
                    requant: &rq,
                    act: acts[(i + n) % acts.len()],
                };
                bufs.check(&s, &q, &mut rng, None, None);
            }
        }
    }
}

/// Inputs and weights all -128 or all 127, with zero points at both ends and biases at the
/// `i32` limits: the largest accumulators, and the ones that wrap.
pub fn extreme_values() {
    let mut bufs = Buffers::new();
    let mut rng = Lcg(0xD3D3_0004);
    let rq = [Requantizer {
        multiplier: 1_518_500_250,
        shift: -9,
    }];
    for value in [i8::MIN, i8::MAX] {
        for input_offset in [-127, 128, 0] {
            for bias in [0, i32::MAX, i32::MIN, 1 << 29, -(1 << 29)] {
                for s in [
                    shape(9, 13, 5, 1, 3),
                    shape(6, 5, 3, 2, 3),
                    shape(7, 8, 2, 3, 4),
                ] {
                    let q = QuantArgsS8 {
                        input_offset,
                        output_offset: -128,
                        requant: &rq,
                        act: ActivationS8::NONE,
                    };
                    bufs.check(&s, &q, &mut rng, Some(value), Some(bias));
                }
            }
        }
    }
}

/// The int8 layer runs the fast kernel: its output equals the reference kernel's.
pub fn layer() {
    let mut bufs = Buffers::new();
    let mut rng = Lcg(0xD3D3_0005);
    for (h, w, c, m) in [(16, 16, 16, 1), (9, 11, 6, 2)] {
        let out_c = c * m;
        let s = shape(h, w, c, m, 3);
        let (n_in, n_w, n_out) = (
            unwrap!(s.input_len()),
            unwrap!(s.weights_len()),
            unwrap!(s.output_len()),
        );
        for x in bufs.input[..n_in]
            .iter_mut()
            .chain(&mut bufs.weights[..n_w])
        {
            *x = rng.i8();
        }
        for b in &mut bufs.bias[..out_c] {
            *b = (rng.next() as i32) >> 20;
        }
        let rq = requantizers(&mut rng, out_c);
        let input_q = unwrap!(QuantParams::new(0.05, -7));
        let output_q = unwrap!(QuantParams::new(0.1, 3));
        let act = ActivationS8 {
            min: -100,
            max: 120,
        };
        let layer = unwrap!(DepthwiseConv2dS8Config {
            in_h: h,
            in_w: w,
            in_c: c,
            multiplier: m,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 1,
            dilation_w: 1,
            padding: Padding::Same,
            input: input_q,
            output: output_q,
            act,
        }
        .init(
            &bufs.weights[..n_w],
            Some(&bufs.bias[..out_c]),
            &rq[..out_c]
        ));
        unwrap!(layer.forward(1, &bufs.input[..n_in], &mut bufs.got[..n_out]));
        let q = QuantArgsS8 {
            input_offset: 7,
            output_offset: 3,
            requant: &rq[..out_c],
            act,
        };
        let (input, weights, bias) = (
            &bufs.input[..n_in],
            &bufs.weights[..n_w],
            &bufs.bias[..out_c],
        );
        unwrap!(reference(
            &s,
            &q,
            input,
            weights,
            Some(bias),
            &mut bufs.want[..n_out]
        ));
        assert_eq!(&bufs.got[..n_out], &bufs.want[..n_out]);
    }
}
