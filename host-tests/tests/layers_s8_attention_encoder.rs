//! The int8 pre-LN transformer encoder block against the f64 reference, its memory, and its
//! error handling.
//!
//! Weights are random with a fixed seed (Xavier-uniform `±sqrt(6 / (in + out))`, biases and
//! betas `±0.1`, gammas `1 ± 0.2`), inputs uniform in `[-2, 2)`. Activation ranges come from
//! an f64 forward pass over 16 calibration samples (`transformer_s8::encoder_f64`, written from
//! the reference pieces and checked here equal to `reference::attention::encoder`); the accuracy is measured on 16 other
//! samples: the int8 output, dequantized, against the f64 block on the dequantized int8 input.

use tinytune::layers::s8::attention::*;
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::{Error, ShapeError};
use tinytune_host_tests::reference::attention as f64ref;
use tinytune_host_tests::rng::SplitMix64;
use tinytune_host_tests::transformer_s8::{
    encoder_f64, encoder_ranges, range_of, EncoderDims as Dims, EPS,
};

fn random_params(d: Dims, seed: u64) -> Vec<f32> {
    let (w, f) = (d.width, d.ff);
    let mut rng = SplitMix64::new(seed);
    let mut p = vec![];
    let xavier = |p: &mut Vec<f32>, rng: &mut SplitMix64, out: usize, inp: usize| {
        let a = (6.0 / (inp + out) as f64).sqrt();
        p.extend(rng.f32_vec(out * inp, -a, a));
        p.extend(rng.f32_vec(out, -0.1, 0.1));
    };
    p.extend(rng.f32_vec(w, 0.8, 1.2));
    p.extend(rng.f32_vec(w, -0.1, 0.1));
    for _ in 0..4 {
        xavier(&mut p, &mut rng, w, w);
    }
    p.extend(rng.f32_vec(w, 0.8, 1.2));
    p.extend(rng.f32_vec(w, -0.1, 0.1));
    xavier(&mut p, &mut rng, f, w);
    xavier(&mut p, &mut rng, w, f);
    assert_eq!(p.len(), f64ref::encoder_param_len(w, f));
    p
}

struct Built {
    weights: Vec<i8>,
    bias: Vec<i32>,
    requant: Vec<Requantizer>,
    ln_multiplier: Vec<i32>,
    ln_offset: Vec<i64>,
    config: TransformerEncoderS8Config,
}

impl Built {
    fn params(&self) -> EncoderS8Params<'_> {
        EncoderS8Params {
            weights: &self.weights,
            bias: &self.bias,
            requant: &self.requant,
            ln_multiplier: &self.ln_multiplier,
            ln_offset: &self.ln_offset,
        }
    }
}

fn build(d: Dims, params: &[f32], calib: &[Vec<f64>], causal: bool, valid: usize) -> Built {
    let p64: Vec<f64> = params.iter().map(|&v| v as f64).collect();
    let mask = f64ref::Mask { causal, valid };
    let mut all: [Vec<f64>; 13] = Default::default();
    for x in calib {
        let t = encoder_f64(d, &p64, x, mask);
        let whole = f64ref::encoder(x, d.seq, d.width, d.heads, d.ff, &p64, mask, EPS as f64);
        assert!(t[12].iter().zip(&whole).all(|(a, b)| (a - b).abs() < 1e-12));
        for (acc, v) in all.iter_mut().zip(t) {
            acc.extend(v);
        }
    }
    let ranges = encoder_ranges(&all.each_ref().map(|v| range_of(v)));
    let (lens, scales_len) = encoder_s8_storage_len(d.width, d.ff).unwrap();
    let mut b = Built {
        weights: vec![0; lens.weights],
        bias: vec![0; lens.bias],
        requant: vec![Requantizer::ZERO; lens.bias],
        ln_multiplier: vec![0; lens.ln],
        ln_offset: vec![0; lens.ln],
        config: TransformerEncoderS8Config {
            seq: 0,
            width: 0,
            heads: 0,
            ff: 0,
            causal,
            eps: EPS,
            ln1_shift: 0,
            ln2_shift: 0,
            quant: ranges.quant().unwrap(),
        },
    };
    let mut scales = vec![0f32; scales_len];
    b.config = quantize_encoder(
        EncoderShapeS8 {
            seq: d.seq,
            width: d.width,
            heads: d.heads,
            ff: d.ff,
            causal,
            eps: EPS,
        },
        params,
        &ranges,
        EncoderS8Storage {
            weights: &mut b.weights,
            bias: &mut b.bias,
            requant: &mut b.requant,
            ln_multiplier: &mut b.ln_multiplier,
            ln_offset: &mut b.ln_offset,
            scales: &mut scales,
        },
    )
    .unwrap();
    b
}

fn inputs(d: Dims, seed: u64, n: usize) -> Vec<Vec<f64>> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            (0..d.seq * d.width)
                .map(|_| rng.uniform(-2.0, 2.0))
                .collect()
        })
        .collect()
}

/// (max, mean) absolute error in output steps, and the output scale.
fn accuracy(d: Dims, causal: bool, valid: usize, calib: (u64, usize)) -> (f64, f64, f32) {
    let params = random_params(d, 42 + d.width as u64);
    let p64: Vec<f64> = params.iter().map(|&v| v as f64).collect();
    let built = build(d, &params, &inputs(d, calib.0, calib.1), causal, valid);
    let enc = built.config.init(built.params()).unwrap();
    let sl = enc.scratch_len();
    let (mut bytes, mut words) = (vec![0i8; sl.bytes], vec![0i32; sl.words]);
    let q = built.config.quant;
    let (mut worst, mut sum, mut count) = (0f64, 0f64, 0usize);
    let tests = inputs(d, 2, 16);
    // All 16 samples in one batch.
    let xq: Vec<i8> = tests
        .iter()
        .flat_map(|x| x.iter().map(|&v| q.input.quantize(v as f32)))
        .collect();
    let mut out = vec![0i8; xq.len()];
    let mask = AttentionMask { causal, valid };
    let mut scratch = ScratchS8 {
        bytes: &mut bytes,
        words: &mut words,
    };
    enc.forward_masked(tests.len(), &xq, &mut out, &mut scratch, mask)
        .unwrap();
    let n = d.seq * d.width;
    for (xs, os) in xq.chunks(n).zip(out.chunks(n)) {
        let xd: Vec<f64> = xs.iter().map(|&v| q.input.dequantize(v) as f64).collect();
        let rmask = f64ref::Mask { causal, valid };
        let want = f64ref::encoder(&xd, d.seq, d.width, d.heads, d.ff, &p64, rmask, EPS as f64);
        for (&o, &r) in os.iter().zip(&want) {
            let e = (q.output.dequantize(o) as f64 - r).abs() / q.output.scale as f64;
            worst = worst.max(e);
            sum += e;
            count += 1;
        }
    }
    (worst, sum / count as f64, q.output.scale)
}

#[test]
fn encoder_accuracy_against_f64() {
    let cases = [
        (
            Dims {
                seq: 8,
                width: 16,
                heads: 2,
                ff: 32,
            },
            false,
            8,
        ),
        (
            Dims {
                seq: 8,
                width: 32,
                heads: 2,
                ff: 64,
            },
            false,
            8,
        ),
        (
            Dims {
                seq: 8,
                width: 16,
                heads: 2,
                ff: 32,
            },
            true,
            8,
        ),
        (
            Dims {
                seq: 8,
                width: 32,
                heads: 2,
                ff: 64,
            },
            true,
            5,
        ),
    ];
    // (calibration set, bound on the max error in steps, bound on the mean)
    let calibrations = [
        ((2, 16), "the evaluation samples", 3.5, 0.7),
        ((1, 64), "64 other samples", 32.0, 0.7),
    ];
    for (calib, what, max_bound, mean_bound) in calibrations {
        for (d, causal, valid) in cases {
            let (max, mean, scale) = accuracy(d, causal, valid, calib);
            println!(
                "(seq {}, width {}, heads {}, ff {}), causal {causal}, valid {valid}, calibrated \
                 on {what}: max {max:.2} steps ({:.4}), mean {mean:.3} steps ({:.4}); step {scale:.4}",
                d.seq,
                d.width,
                d.heads,
                d.ff,
                max * scale as f64,
                mean * scale as f64
            );
            assert!(max <= max_bound && mean <= mean_bound);
        }
    }
}

#[test]
fn scratch_and_parameter_memory() {
    // (dims, scratch bytes, scratch words, MHA scratch bytes, weights, bias/requant count)
    for (d, enc_bytes, mha_bytes, weights, bias) in [
        ((8, 16, 2, 32), 512, 384, 2048, 112),
        ((8, 32, 2, 64), 1024, 768, 8192, 224),
    ] {
        let dims = Dims {
            seq: d.0,
            width: d.1,
            heads: d.2,
            ff: d.3,
        };
        let params = random_params(dims, 3);
        let built = build(dims, &params, &inputs(dims, 4, 2), false, dims.seq);
        let enc = built.config.init(built.params()).unwrap();
        let s = enc.scratch_len();
        assert_eq!((s.bytes, s.words), (enc_bytes, d.0));
        let mha = built
            .config
            .mha_config()
            .init(MhaS8Params {
                weights: &built.weights[..4 * d.1 * d.1],
                bias: &built.bias[..4 * d.1],
                requant: &built.requant[..4 * d.1],
            })
            .unwrap();
        assert_eq!(mha.scratch_len().bytes, mha_bytes);
        assert_eq!((built.weights.len(), built.bias.len()), (weights, bias));
        println!(
            "{d:?}: encoder scratch {} B, MHA scratch {} B, params {} B",
            s.total_bytes(),
            mha.scratch_len().total_bytes(),
            weights + bias * (4 + 8) + 2 * d.1 * (4 + 8)
        );
    }
}

#[test]
fn wrong_lengths_and_invalid_configurations_do_not_panic() {
    let d = Dims {
        seq: 4,
        width: 8,
        heads: 2,
        ff: 16,
    };
    let params = random_params(d, 5);
    let built = build(d, &params, &inputs(d, 6, 2), false, d.seq);
    let enc = built.config.init(built.params()).unwrap();
    let s = enc.scratch_len();
    let (mut b, mut w) = (vec![0i8; s.bytes], vec![0i32; s.words]);
    let mut out = vec![0i8; 32];
    let x = vec![0i8; 32];
    let mut sc = ScratchS8 {
        bytes: &mut b,
        words: &mut w,
    };
    assert!(matches!(
        enc.forward(1, &x[..31], &mut out, &mut sc),
        Err(Error::Shape(ShapeError::Length { .. }))
    ));
    assert!(matches!(
        enc.forward(1, &x, &mut out[..31], &mut sc),
        Err(Error::Shape(ShapeError::Length { .. }))
    ));
    assert!(enc.forward(0, &[], &mut [], &mut sc).is_err());
    let (mut b2, mut w2) = (vec![0i8; s.bytes - 1], vec![0i32; s.words]);
    let mut short = ScratchS8 {
        bytes: &mut b2,
        words: &mut w2,
    };
    assert!(matches!(
        enc.forward(1, &x, &mut out, &mut short),
        Err(Error::Shape(ShapeError::Length { .. }))
    ));
    let mut p = built.params();
    p.weights = &built.weights[1..];
    assert!(built.config.init(p).is_err());
    // Random configurations: init and forward return errors or results, never panic.
    let mut rng = SplitMix64::new(11);
    for _ in 0..2000 {
        let mut c = built.config;
        let pick = |rng: &mut SplitMix64| {
            [0, 1, 2, 3, 4, 7, 8, 16, usize::MAX][rng.range_i64(0, 8) as usize]
        };
        match rng.range_i64(0, 6) {
            0 => c.seq = pick(&mut rng),
            1 => c.width = pick(&mut rng),
            2 => c.heads = pick(&mut rng),
            3 => c.ff = pick(&mut rng),
            4 => c.ln1_shift = rng.next_u64() as u32 % 70,
            5 => {
                c.quant.q = QuantParams {
                    scale: rng.uniform(-1.0, 1e6) as f32,
                    zero_point: rng.range_i64(-300, 300) as i32,
                }
            }
            _ => c.eps = rng.uniform(-1.0, 1e9) as f32,
        }
        if let Ok(e) = c.init(built.params()) {
            let n = e.len();
            let sl = e.scratch_len();
            if n <= 4096 && sl.bytes <= 1 << 16 {
                let (mut b, mut w) = (vec![0i8; sl.bytes], vec![0i32; sl.words]);
                let x = rng.i8_vec(n);
                let mut o = vec![0i8; n];
                let mut sc = ScratchS8 {
                    bytes: &mut b,
                    words: &mut w,
                };
                let mask = AttentionMask {
                    causal: rng.range_i64(0, 1) == 1,
                    valid: rng.range_i64(0, 10) as usize,
                };
                e.forward_masked(1, &x, &mut o, &mut sc, mask).unwrap();
            }
        }
    }
}
