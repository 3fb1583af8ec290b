//! The target's fast int8 dense and convolution kernels (`tinytune::kernels::{dense_s8,
//! conv2d_s8, conv1d_s8}`: SMLAD assembly on the M4, LDRSB/MULS assembly on the M0, the four-row
//! Rust loop on RV32) against `tinytune::kernels::generic` on the same deterministic
//! pseudo-random inputs, on the device: the outputs must be equal bit for bit.
//!
//! The inputs cover the micro-kernels' edges: every input length 1..=67 (the assembly loops run
//! 8 inputs per iteration, then an odd group of 4, then up to 3 left over), output counts 1..=9
//! (blocks of four and the rows left over), channel counts that are not multiples of 4,
//! convolutions with strides, dilations and both paddings, and extreme values: weights and
//! inputs of -128 and 127, input offsets at the ends of the int8 zero-point range (128, -127)
//! and at and beyond the DSP kernel's 16-bit limit (±32640; past it the dense driver splits the
//! offset off and the convolution hands over to `generic`), biases near the `i32` limits (the accumulator wraps), large and small multipliers,
//! shifts over the whole -31..=30, empty and inverted clamps.

use defmt::{assert, assert_eq, info};
use tinytune::kernels::generic::conv::{self as generic_conv, Conv1dShape, Conv2dShape};
use tinytune::kernels::generic::dense::{self as generic_dense, DenseShape};
use tinytune::kernels::{conv1d_s8, conv2d_s8, dense_s8, ActivationS8, Padding, QuantArgsS8};
use tinytune::num::quant::Requantizer;

/// Room for the buffers of one case (the M0 has 16 KiB of RAM; these live on its stack).
const CAP: usize = 1024;
/// Room for per-channel requantizers.
const MAX_CHANNELS: usize = 24;

/// A fixed-seed linear congruential generator (Numerical Recipes); its top bits are the values.
pub struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: u32) -> u32 {
        (self.next() >> 8) % n
    }
    fn i32(&mut self) -> i32 {
        self.next() as i32
    }
    /// One of `values`.
    fn pick<T: Copy>(&mut self, values: &[T]) -> T {
        values[self.below(values.len() as u32) as usize]
    }
}

/// How the int8 values of a case are drawn.
#[derive(Clone, Copy)]
enum Fill {
    /// Uniform over the int8 range, one value in four -128 or 127.
    Mixed,
    /// All -128.
    Min,
    /// All 127.
    Max,
}

fn fill(rng: &mut Rng, how: Fill, out: &mut [i8]) {
    for v in out.iter_mut() {
        *v = match how {
            Fill::Min => i8::MIN,
            Fill::Max => i8::MAX,
            Fill::Mixed => match rng.below(8) {
                0 => i8::MIN,
                1 => i8::MAX,
                _ => (rng.next() >> 24) as i8,
            },
        };
    }
}

/// The fills of a case's inputs and weights: mostly mixed, sometimes all at an extreme.
fn fills(rng: &mut Rng) -> (Fill, Fill) {
    match rng.below(10) {
        0 => (Fill::Min, Fill::Min),
        1 => (Fill::Max, Fill::Min),
        2 => (Fill::Min, Fill::Max),
        3 => (Fill::Max, Fill::Max),
        _ => (Fill::Mixed, Fill::Mixed),
    }
}

/// The quantization of one case: requantizers (per-tensor or per-channel), offsets, clamp.
struct Quant {
    requant: [Requantizer; MAX_CHANNELS],
    len: usize,
    input_offset: i32,
    output_offset: i32,
    act: ActivationS8,
}

impl Quant {
    fn draw(rng: &mut Rng, channels: usize) -> Quant {
        let len = if rng.below(2) == 0 {
            1
        } else {
            channels.min(MAX_CHANNELS)
        };
        let mut requant = [Requantizer::ZERO; MAX_CHANNELS];
        for r in requant.iter_mut().take(len) {
            let multiplier = match rng.below(8) {
                0 => i32::MAX,
                1 => 1 << 30,
                2 => rng.pick(&[0, 1, -1, i32::MIN, -(1 << 30)]),
                _ => (rng.next() >> 1) as i32 | (1 << 30),
            };
            // Mostly shifts that keep the outputs inside the int8 range for these sums, the
            // whole range of TFLite's shifts otherwise.
            let shift = if rng.below(4) == 0 {
                rng.below(62) as i32 - 31
            } else {
                -(rng.below(12) as i32) - 6
            };
            *r = Requantizer { multiplier, shift };
        }
        let input_offset = match rng.below(12) {
            0 => 128,
            1 => -127,
            2 => 32_640,
            3 => -32_640,
            4 => rng.pick(&[32_641, -32_641, i32::MAX, i32::MIN]),
            _ => -(rng.below(256) as i32 - 128), // -zero_point
        };
        let output_offset = match rng.below(10) {
            0 => rng.pick(&[i32::MIN, i32::MAX, 1000]),
            _ => rng.below(256) as i32 - 128,
        };
        let act = match rng.below(6) {
            0 => ActivationS8 { min: 0, max: 127 },
            1 => ActivationS8 { min: -20, max: 30 },
            2 => ActivationS8 { min: 5, max: -5 },
            _ => ActivationS8::NONE,
        };
        Quant {
            requant,
            len,
            input_offset,
            output_offset,
            act,
        }
    }

    fn args(&self) -> QuantArgsS8<'_> {
        QuantArgsS8 {
            input_offset: self.input_offset,
            output_offset: self.output_offset,
            requant: &self.requant[..self.len],
            act: self.act,
        }
    }
}

/// `None`, or a bias of small values, or one near the `i32` limits (the sums wrap).
fn draw_bias<'a>(rng: &mut Rng, storage: &'a mut [i32]) -> Option<&'a [i32]> {
    match rng.below(4) {
        0 => None,
        1 => {
            for b in storage.iter_mut() {
                *b = rng.pick(&[i32::MAX - 50, i32::MIN + 50, i32::MAX, i32::MIN]);
            }
            Some(storage)
        }
        _ => {
            for b in storage.iter_mut() {
                *b = rng.i32() >> 14;
            }
            Some(storage)
        }
    }
}

/// The outputs must be equal; the message names the first difference.
fn exact(got: &[i8], want: &[i8], case: usize) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w,
            "case {}: output {}: fast {}, generic {}",
            case,
            i,
            g,
            w
        );
    }
}

/// Dense: every `in_features` in 1..=67 with every `out_features` in 1..=9, batch 1 or 2.
pub fn dense_all_shapes() {
    let mut rng = Rng(0xDE45_0001);
    let mut cases = 0;
    for in_features in 1..=67usize {
        for out_features in 1..=9usize {
            let batch = 1 + (in_features + out_features) % 2;
            dense_case(&mut rng, batch, in_features, out_features, cases);
            cases += 1;
        }
    }
    info!("dense: {} shapes bit-exact", cases);
}

/// Dense: the bench's shapes and larger rows (longer loops, more blocks).
pub fn dense_large() {
    let mut rng = Rng(0xDE45_0002);
    let shapes = [(128, 8), (640, 1), (200, 5), (255, 4), (97, 10)];
    for (case, &(in_features, out_features)) in shapes.iter().enumerate() {
        dense_case(&mut rng, 1, in_features, out_features, case);
    }
    info!("dense: {} large shapes bit-exact", shapes.len());
}

fn dense_case(rng: &mut Rng, batch: usize, in_features: usize, out_features: usize, case: usize) {
    let shape = DenseShape {
        batch,
        in_features,
        out_features,
    };
    let (n_in, n_w, n_out) = (
        batch * in_features,
        in_features * out_features,
        batch * out_features,
    );
    assert!(n_in <= CAP && n_w <= CAP && n_out <= CAP && out_features <= MAX_CHANNELS);
    let (mut input, mut weights) = ([0i8; CAP], [0i8; CAP]);
    let (fill_x, fill_w) = fills(rng);
    fill(rng, fill_x, &mut input[..n_in]);
    fill(rng, fill_w, &mut weights[..n_w]);
    let mut bias_storage = [0i32; MAX_CHANNELS];
    let bias = draw_bias(rng, &mut bias_storage[..out_features]);
    let quant = Quant::draw(rng, out_features);
    let q = quant.args();
    let (mut got, mut want) = ([0i8; CAP], [1i8; CAP]);
    let fast = dense_s8(
        shape,
        &q,
        &input[..n_in],
        &weights[..n_w],
        bias,
        &mut got[..n_out],
    );
    let reference = generic_dense::dense_s8(
        shape,
        &q,
        &input[..n_in],
        &weights[..n_w],
        bias,
        &mut want[..n_out],
    );
    assert!(fast.is_ok() && reference.is_ok(), "case {}", case);
    exact(&got[..n_out], &want[..n_out], case);
}

/// Conv2d: random geometries (strides 1-3, dilations 1-3, both paddings, kernels 1-4, channel
/// counts 1-9 and some of 16-20), `count` of them that fit the buffers.
pub fn conv2d_random(seed: u32, count: usize) {
    let mut rng = Rng(seed);
    let mut cases = 0;
    while cases < count {
        let wide = rng.below(5) == 0;
        let channels = |rng: &mut Rng| {
            if wide {
                16 + rng.below(5) as usize
            } else {
                1 + rng.below(9) as usize
            }
        };
        let s = Conv2dShape {
            batch: 1 + rng.below(2) as usize,
            in_h: 1 + rng.below(7) as usize,
            in_w: 1 + rng.below(7) as usize,
            in_c: channels(&mut rng),
            out_c: channels(&mut rng),
            kernel_h: 1 + rng.below(4) as usize,
            kernel_w: 1 + rng.below(4) as usize,
            stride_h: 1 + rng.below(3) as usize,
            stride_w: 1 + rng.below(3) as usize,
            dilation_h: 1 + rng.below(2) as usize,
            dilation_w: rng.pick(&[1, 1, 2, 3]),
            padding: rng.pick(&[Padding::Same, Padding::Valid]),
        };
        let (Ok(n_in), Ok(n_w), Ok(n_out)) = (s.input_len(), s.weights_len(), s.output_len())
        else {
            continue; // a VALID window larger than the input
        };
        if n_in > CAP || n_w > CAP || n_out > CAP || s.out_c > MAX_CHANNELS {
            continue;
        }
        conv2d_case(&mut rng, &s, cases);
        cases += 1;
    }
    info!("conv2d: {} geometries bit-exact", cases);
}

fn conv2d_case(rng: &mut Rng, s: &Conv2dShape, case: usize) {
    let (Ok(n_in), Ok(n_w), Ok(n_out)) = (s.input_len(), s.weights_len(), s.output_len()) else {
        defmt::panic!("case {}: shape rejected", case);
    };
    let (mut input, mut weights) = ([0i8; CAP], [0i8; CAP]);
    let (fill_x, fill_w) = fills(rng);
    fill(rng, fill_x, &mut input[..n_in]);
    fill(rng, fill_w, &mut weights[..n_w]);
    let mut bias_storage = [0i32; MAX_CHANNELS];
    let bias = draw_bias(rng, &mut bias_storage[..s.out_c]);
    let quant = Quant::draw(rng, s.out_c);
    let q = quant.args();
    let (mut got, mut want) = ([0i8; CAP], [1i8; CAP]);
    let fast = conv2d_s8(
        s,
        &q,
        &input[..n_in],
        &weights[..n_w],
        bias,
        &mut got[..n_out],
    );
    let reference = generic_conv::conv2d_s8(
        s,
        &q,
        &input[..n_in],
        &weights[..n_w],
        bias,
        &mut want[..n_out],
    );
    assert!(fast.is_ok() && reference.is_ok(), "case {}", case);
    exact(&got[..n_out], &want[..n_out], case);
}

/// Conv2d: the 3×3, stride 1, pad 1 shape of the bench, scaled down (8×8×16 → 6).
pub fn conv2d_bench_like() {
    let mut rng = Rng(0xC0_0002);
    let s = Conv2dShape {
        batch: 1,
        in_h: 8,
        in_w: 8,
        in_c: 16,
        out_c: 6,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
    };
    for case in 0..4 {
        conv2d_case(&mut rng, &s, case);
    }
    info!("conv2d: 8x8x16 -> 6, 3x3 SAME bit-exact");
}

/// Conv1d (a conv2d of height 1, so each output pixel's window is one contiguous run).
pub fn conv1d_random() {
    let mut rng = Rng(0xC1_0001);
    let mut cases = 0;
    while cases < 100 {
        let s = Conv1dShape {
            batch: 1 + rng.below(2) as usize,
            len: 1 + rng.below(30) as usize,
            in_c: 1 + rng.below(11) as usize,
            out_c: 1 + rng.below(9) as usize,
            kernel: 1 + rng.below(5) as usize,
            stride: 1 + rng.below(3) as usize,
            dilation: 1 + rng.below(2) as usize,
            padding: rng.pick(&[Padding::Same, Padding::Valid]),
        };
        let (Ok(n_in), Ok(n_w), Ok(n_out)) = (s.input_len(), s.weights_len(), s.output_len())
        else {
            continue;
        };
        if n_in > CAP || n_w > CAP || n_out > CAP {
            continue;
        }
        let (mut input, mut weights) = ([0i8; CAP], [0i8; CAP]);
        let (fill_x, fill_w) = fills(&mut rng);
        fill(&mut rng, fill_x, &mut input[..n_in]);
        fill(&mut rng, fill_w, &mut weights[..n_w]);
        let mut bias_storage = [0i32; MAX_CHANNELS];
        let bias = draw_bias(&mut rng, &mut bias_storage[..s.out_c]);
        let quant = Quant::draw(&mut rng, s.out_c);
        let q = quant.args();
        let (mut got, mut want) = ([0i8; CAP], [1i8; CAP]);
        let fast = conv1d_s8(
            &s,
            &q,
            &input[..n_in],
            &weights[..n_w],
            bias,
            &mut got[..n_out],
        );
        let reference = generic_conv::conv1d_s8(
            &s,
            &q,
            &input[..n_in],
            &weights[..n_w],
            bias,
            &mut want[..n_out],
        );
        assert!(fast.is_ok() && reference.is_ok(), "case {}", cases);
        exact(&got[..n_out], &want[..n_out], cases);
        cases += 1;
    }
    info!("conv1d: {} geometries bit-exact", cases);
}

/// Wrong lengths: the fast kernels return the errors of `generic` and write nothing.
pub fn errors_match_generic() {
    let shape = DenseShape {
        batch: 1,
        in_features: 5,
        out_features: 6,
    };
    let rq = [Requantizer::ZERO; 2];
    let q = QuantArgsS8 {
        input_offset: 3,
        output_offset: 0,
        requant: &rq,
        act: ActivationS8::NONE,
    };
    let (x, w) = ([1i8; 5], [1i8; 30]);
    let (mut a, mut b) = ([7i8; 6], [7i8; 6]);
    // Two requantizers for six channels, then a short input.
    let fast = dense_s8(shape, &q, &x, &w, None, &mut a);
    assert!(fast.is_err());
    assert!(fast == generic_dense::dense_s8(shape, &q, &x, &w, None, &mut b));
    let q = QuantArgsS8 {
        requant: &rq[..1],
        ..q
    };
    let fast = dense_s8(shape, &q, &x[..4], &w, None, &mut a);
    assert!(fast.is_err());
    assert!(fast == generic_dense::dense_s8(shape, &q, &x[..4], &w, None, &mut b));
    assert!(a == [7; 6]);

    let s = Conv2dShape {
        batch: 1,
        in_h: 4,
        in_w: 4,
        in_c: 2,
        out_c: 3,
        kernel_h: 5,
        kernel_w: 1,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Valid,
    };
    let (x, w) = ([1i8; 32], [1i8; 30]);
    let mut a = [7i8; 48];
    let mut b = [7i8; 48];
    // A VALID window taller than the input.
    let fast = conv2d_s8(&s, &q, &x, &w, None, &mut a);
    assert!(fast.is_err());
    assert!(fast == generic_conv::conv2d_s8(&s, &q, &x, &w, None, &mut b));
    assert!(a == [7; 48]);
}
