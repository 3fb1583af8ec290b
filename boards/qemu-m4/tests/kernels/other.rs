//! Requantizer, pooling, elementwise, activation and softmax kernels on target.

use crate::check::{act_f32, act_s8, exact};
use defmt::{assert, assert_eq, unwrap};
use tinytune::kernels::generic::activation::LutS8;
use tinytune::kernels::generic::elementwise::{add_s8, mul_s8, AddParamsS8, MulParamsS8};
use tinytune::kernels::generic::pool::{avg_pool2d_f32, avg_pool2d_s8, max_pool2d_s8, Pool2dShape};
use tinytune::kernels::generic::softmax::{
    softmax_f32, softmax_s8, softmax_s8_s16, SoftmaxParamsS8,
};
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::num::quant::Requantizer;
use tinytune_test_vectors as v;

pub fn requant_case() {
    use v::requant as c;
    let cols = c::ACCS_LEN;
    for (row, &real) in c::REALS.iter().enumerate() {
        let r = unwrap!(Requantizer::from_real(real));
        assert_eq!(
            r.multiplier,
            c::MULTIPLIERS[row],
            "multiplier of row {}",
            row
        );
        assert_eq!(r.shift, c::SHIFTS[row], "shift of row {}", row);
        for (col, &x) in c::ACCS.iter().enumerate() {
            assert_eq!(
                r.apply(x),
                c::EXPECTED[row * cols + col],
                "row {} acc {}",
                row,
                x
            );
        }
    }
}

fn pool_shape() -> Pool2dShape {
    use v::pool2d as c;
    Pool2dShape {
        batch: 1,
        in_h: c::IN_H,
        in_w: c::IN_W,
        channels: c::CHANNELS,
        window_h: c::WINDOW_H,
        window_w: c::WINDOW_W,
        stride_h: c::STRIDE,
        stride_w: c::STRIDE,
        padding: Padding::Same,
    }
}

pub fn pool_s8_case() {
    use v::pool2d as c;
    let mut out = [0i8; c::MAX_S8_LEN];
    unwrap!(max_pool2d_s8(
        &pool_shape(),
        act_s8(-100, 100),
        &c::INPUT,
        &mut out
    ));
    exact(&out, &c::MAX_S8);
    unwrap!(avg_pool2d_s8(
        &pool_shape(),
        ActivationS8::NONE,
        &c::INPUT,
        &mut out
    ));
    exact(&out, &c::AVG_S8);
}

pub fn pool_f32_case() {
    use v::pool2d as c;
    let mut out = [0f32; c::AVG_F32_LEN];
    let act = act_f32(f32::NEG_INFINITY, f32::INFINITY);
    unwrap!(avg_pool2d_f32(&pool_shape(), act, &c::INPUT_F32, &mut out));
    for (g, w) in out.iter().zip(c::AVG_F32.iter()) {
        // at most 6 terms of magnitude <= 4: f32 sum and division err by < 1e-5
        assert!((g - w).abs() <= 1e-5, "got {}, want {}", g, w);
    }
}

pub fn add_mul_s8_case() {
    use v::elementwise as c;
    let add = unwrap!(AddParamsS8::new(
        c::Q1_SCALE,
        c::Q1_ZP,
        c::Q2_SCALE,
        c::Q2_ZP,
        c::QADD_SCALE,
        c::QADD_ZP,
        ActivationS8::NONE
    ));
    let mut out = [0i8; c::ADD_LEN];
    unwrap!(add_s8(&add, &c::A, &c::B, &mut out));
    exact(&out, &c::ADD);
    let mul = unwrap!(MulParamsS8::new(
        c::Q1_SCALE,
        c::Q1_ZP,
        c::Q2_SCALE,
        c::Q2_ZP,
        c::QMUL_SCALE,
        c::QMUL_ZP,
        ActivationS8::NONE
    ));
    unwrap!(mul_s8(&mul, &c::A, &c::B, &mut out));
    exact(&out, &c::MUL);
}

pub fn sigmoid_lut_case() {
    use v::sigmoid_lut as c;
    let lut = unwrap!(LutS8::sigmoid(c::IN_SCALE, c::IN_ZP));
    for i in 0..256usize {
        let got = lut.lookup(i as u8 as i8) as i32;
        let want = c::EXPECTED[i] as i32;
        let ok = got == want || (c::NEAR_TIE[i] && (got - want).abs() == 1);
        assert!(ok, "input {}: got {}, want {}", i as u8 as i8, got, want);
    }
}

pub fn softmax_s8_case() {
    use v::softmax as c;
    let p = unwrap!(SoftmaxParamsS8::new(c::SCALE, c::BETA));
    assert_eq!(p.input_multiplier, c::MULTIPLIER);
    assert_eq!(p.input_left_shift, c::LEFT_SHIFT);
    assert_eq!(p.diff_min, c::DIFF_MIN);
    let mut out = [0i8; c::S8_LEN];
    unwrap!(softmax_s8(&p, c::DEPTH, &c::INPUT, &mut out));
    exact(&out, &c::S8);
    let mut out16 = [0i16; c::S16_LEN];
    unwrap!(softmax_s8_s16(&p, c::DEPTH, &c::INPUT, &mut out16));
    exact(&out16, &c::S16);
}

pub fn softmax_f32_case() {
    use v::softmax as c;
    let mut out = [0f32; c::F32_LEN];
    unwrap!(softmax_f32(c::DEPTH, &c::INPUT_F32, &mut out));
    for (g, w) in out.iter().zip(c::F32.iter()) {
        // probabilities: libm expf within 1.2e-7 relative, 10 terms
        assert!((g - w).abs() <= 2e-6 * (1.0 + w), "got {}, want {}", g, w);
    }
}
