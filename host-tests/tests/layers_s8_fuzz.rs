//! Random, often invalid, configurations of every int8 layer, run on buffers of random, often
//! wrong, lengths: `init` and `forward` must return (`Ok` or an error) and never panic.

mod common_d;

use common_d::SplitMix64;
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::s8::*;
use tinytune::num::quant::{QuantParams, Requantizer};

const R: Requantizer = Requantizer {
    multiplier: 1 << 30,
    shift: -3,
};

fn dim(rng: &mut SplitMix64) -> usize {
    rng.range_i64(0, 4) as usize
}

/// A length near `n`: exact most of the time, off by one otherwise.
fn near(rng: &mut SplitMix64, n: usize) -> usize {
    match rng.range_i64(0, 5) {
        0 => n.saturating_sub(1),
        1 => n + 1,
        _ => n,
    }
}

fn padding(rng: &mut SplitMix64) -> Padding {
    if rng.range_i64(0, 1) == 0 {
        Padding::Same
    } else {
        Padding::Valid
    }
}

/// Runs `layer` on buffers of random, often wrong, lengths; must return, not panic. Returns how
/// many calls succeeded.
fn poke(rng: &mut SplitMix64, layer: &dyn LayerS8) -> usize {
    let mut ok = 0;
    for _ in 0..3 {
        let batch = dim(rng);
        let (n_in, n_out) = (
            near(rng, batch * layer.input_len()),
            near(rng, batch * layer.output_len()),
        );
        let x = rng.i8_vec(n_in);
        let mut y = vec![0i8; n_out];
        ok += usize::from(layer.forward(batch, &x, &mut y).is_ok());
    }
    ok
}

#[test]
fn random_configs_and_buffers_never_panic() {
    let mut rng = SplitMix64::new(0xBAD);
    let mut ran = 0;
    for _ in 0..3000 {
        let q = QuantParams {
            scale: rng.uniform(0.001, 1.0) as f32,
            zero_point: rng.range_i64(-130, 130) as i32,
        };
        let act = ActivationS8 {
            min: rng.range_i64(-128, 127) as i8,
            max: rng.range_i64(-128, 127) as i8,
        };
        let r: Vec<Requantizer> = (0..dim(&mut rng)).map(|_| R).collect();
        let b: Vec<i32> = (0..dim(&mut rng)).map(|_| 1000).collect();
        let bias = (rng.range_i64(0, 1) == 0).then_some(b.as_slice());
        let n_w = rng.range_i64(0, 80) as usize;
        let w = rng.i8_vec(n_w);
        let (in_c, out_c, k) = (dim(&mut rng), dim(&mut rng), dim(&mut rng));
        if let Ok(l) = (DenseS8Config {
            in_features: in_c,
            out_features: out_c,
            input: q,
            output: q,
            act,
        })
        .init(&w, bias, &r)
        {
            ran += poke(&mut rng, &l);
        }
        let c2 = Conv2dS8Config {
            in_h: dim(&mut rng),
            in_w: dim(&mut rng),
            in_c,
            out_c,
            kernel_h: k,
            kernel_w: dim(&mut rng),
            stride_h: dim(&mut rng),
            stride_w: dim(&mut rng),
            dilation_h: dim(&mut rng),
            dilation_w: dim(&mut rng),
            padding: padding(&mut rng),
            input: q,
            output: q,
            act,
        };
        if let Ok(l) = c2.init(&w, bias, &r) {
            ran += poke(&mut rng, &l);
        }
        let c1 = Conv1dS8Config {
            len: dim(&mut rng),
            in_c,
            out_c,
            kernel: k,
            stride: dim(&mut rng),
            dilation: dim(&mut rng),
            padding: padding(&mut rng),
            input: q,
            output: q,
            act,
        };
        if let Ok(l) = c1.init(&w, bias, &r) {
            ran += poke(&mut rng, &l);
        }
        let dw = DepthwiseConv2dS8Config {
            multiplier: dim(&mut rng),
            ..DepthwiseConv2dS8Config {
                in_h: c2.in_h,
                in_w: c2.in_w,
                in_c,
                multiplier: 1,
                kernel_h: c2.kernel_h,
                kernel_w: c2.kernel_w,
                stride_h: c2.stride_h,
                stride_w: c2.stride_w,
                dilation_h: c2.dilation_h,
                dilation_w: c2.dilation_w,
                padding: c2.padding,
                input: q,
                output: q,
                act,
            }
        };
        if let Ok(l) = dw.init(&w, bias, &r) {
            ran += poke(&mut rng, &l);
        }
        let kind = if rng.range_i64(0, 1) == 0 {
            PoolKindS8::Max
        } else {
            PoolKindS8::Avg
        };
        let p2 = Pool2dS8Config {
            in_h: c2.in_h,
            in_w: c2.in_w,
            channels: in_c,
            window_h: k,
            window_w: c2.kernel_w,
            stride_h: c2.stride_h,
            stride_w: c2.stride_w,
            padding: c2.padding,
            kind,
            act,
        };
        if let Ok(l) = p2.init() {
            ran += poke(&mut rng, &l);
        }
        let p1 = Pool1dS8Config {
            len: c1.len,
            channels: in_c,
            window: k,
            stride: c1.stride,
            padding: c1.padding,
            kind,
            act,
        };
        if let Ok(l) = p1.init() {
            ran += poke(&mut rng, &l);
        }
        if let Ok(l) = (GlobalAvgPoolS8Config {
            spatial: k,
            channels: in_c,
            act,
        })
        .init()
        {
            ran += poke(&mut rng, &l);
        }
        let len = dim(&mut rng);
        let kinds = [
            ActivationKindS8::Relu { quant: q },
            ActivationKindS8::Relu6 { quant: q },
            ActivationKindS8::Sigmoid { input: q },
            ActivationKindS8::Gelu {
                input: q,
                output: q,
            },
            ActivationKindS8::Softmax {
                params: SoftmaxParamsS8::new(0.1, 1.0).unwrap(),
                depth: k,
            },
        ];
        let kind = kinds[rng.range_i64(0, 4) as usize];
        if let Ok(l) = (ActivationS8Config { len, kind }).init() {
            ran += poke(&mut rng, &l);
        }
    }
    // Not vacuous: many configurations were valid and many calls ran.
    assert!(ran > 1000, "only {ran} successful calls");
}
