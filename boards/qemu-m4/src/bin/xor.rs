//! The XOR example: a two-layer perceptron that computes XOR, run in f32 and, after post-training
//! int8 quantization on the device, in int8 with the TFLite-exact kernels.
//!
//! The weights are the textbook solution: `h = relu([x0 + x1, x0 + x1 - 1])`, `y = h0 - 2 h1`.
//! The firmware quantizes them (per-channel symmetric weights, int32 biases, asymmetric
//! activations), runs the four inputs through both paths, prints them, and exits 0 only if both
//! paths classify all four correctly (`y > 0.5`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::{println, unwrap};
use tinytune::kernels::generic::dense::{dense_f32, DenseShape};
use tinytune::kernels::{dense_s8, ActivationF32, ActivationS8, QuantArgsS8};
use tinytune::num::quant::{
    per_channel_symmetric_scales, quantize_bias, quantize_per_channel, requantizers, QuantParams,
    Requantizer,
};
use tinytune_qemu_m4 as board;

const W1: [f32; 4] = [1.0, 1.0, 1.0, 1.0]; // [2 out, 2 in]
const B1: [f32; 2] = [0.0, -1.0];
const W2: [f32; 2] = [1.0, -2.0]; // [1 out, 2 in]
const B2: [f32; 1] = [0.0];
const L1: DenseShape = DenseShape {
    batch: 1,
    in_features: 2,
    out_features: 2,
};
const L2: DenseShape = DenseShape {
    batch: 1,
    in_features: 2,
    out_features: 1,
};

/// One int8 dense layer: quantized weights, bias and requantizers.
struct QuantDense<const IN_OUT: usize, const OUT: usize> {
    weights: [i8; IN_OUT],
    bias: [i32; OUT],
    requant: [Requantizer; OUT],
}

fn quantize_layer<const IN_OUT: usize, const OUT: usize>(
    w: &[f32; IN_OUT],
    b: &[f32; OUT],
    input: QuantParams,
    output: QuantParams,
) -> QuantDense<IN_OUT, OUT> {
    let mut scales = [0f32; OUT];
    let mut q = QuantDense {
        weights: [0; IN_OUT],
        bias: [0; OUT],
        requant: [Requantizer::ZERO; OUT],
    };
    unwrap!(per_channel_symmetric_scales(w, OUT, &mut scales).ok());
    unwrap!(quantize_per_channel(w, &scales, &mut q.weights).ok());
    unwrap!(quantize_bias(b, input.scale, &scales, &mut q.bias).ok());
    unwrap!(requantizers(input.scale, &scales, output.scale, &mut q.requant).ok());
    q
}

#[entry]
fn main() -> ! {
    // Activation ranges: inputs in [0, 1], hidden in [0, 2] after ReLU, output in [-1, 2].
    let q_in = unwrap!(QuantParams::asymmetric_from_min_max(0.0, 1.0).ok());
    let q_hidden = unwrap!(QuantParams::asymmetric_from_min_max(0.0, 2.0).ok());
    let q_out = unwrap!(QuantParams::asymmetric_from_min_max(-1.0, 2.0).ok());
    let l1 = quantize_layer(&W1, &B1, q_in, q_hidden);
    let l2 = quantize_layer(&W2, &B2, q_hidden, q_out);
    let relu = ActivationS8 {
        min: q_hidden.quantize(0.0),
        max: i8::MAX,
    };

    let mut all_correct = true;
    for (x0, x1) in [(0.0f32, 0.0f32), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)] {
        let want = (x0 != x1) as u8;
        let x = [x0, x1];

        let (mut h, mut y) = ([0f32; 2], [0f32; 1]);
        unwrap!(dense_f32(L1, &x, &W1, Some(&B1), ActivationF32::RELU, &mut h).ok());
        unwrap!(dense_f32(L2, &h, &W2, Some(&B2), ActivationF32::NONE, &mut y).ok());

        let mut xq = [0i8; 2];
        unwrap!(q_in.quantize_slice(&x, &mut xq).ok());
        let (mut hq, mut yq) = ([0i8; 2], [0i8; 1]);
        let args1 = QuantArgsS8 {
            input_offset: -q_in.zero_point,
            output_offset: q_hidden.zero_point,
            requant: &l1.requant,
            act: relu,
        };
        unwrap!(dense_s8(L1, &args1, &xq, &l1.weights, Some(&l1.bias), &mut hq).ok());
        let args2 = QuantArgsS8 {
            input_offset: -q_hidden.zero_point,
            output_offset: q_out.zero_point,
            requant: &l2.requant,
            act: ActivationS8::NONE,
        };
        unwrap!(dense_s8(L2, &args2, &hq, &l2.weights, Some(&l2.bias), &mut yq).ok());
        let y_int8 = q_out.dequantize(yq[0]);

        let (c_f32, c_int8) = ((y[0] > 0.5) as u8, (y_int8 > 0.5) as u8);
        all_correct &= c_f32 == want && c_int8 == want;
        println!(
            "xor({=f32}, {=f32}) = {=u8}: f32 y={=f32} -> {=u8}, int8 y={=i8} ({=f32}) -> {=u8}",
            x0, x1, want, y[0], c_f32, yq[0], y_int8, c_int8
        );
    }
    println!(
        "demo: {}",
        if all_correct {
            "all four correct in f32 and int8"
        } else {
            "WRONG"
        }
    );
    board::exit(if all_correct { 0 } else { 1 })
}
