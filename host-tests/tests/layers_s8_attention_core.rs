//! Integer square root, integer layer norm and the integer attention kernel.
//!
//! - `isqrt`: exhaustive on `0..2^20` and around every square up to 2^16, and random u64 values
//!   checked by the definition `r² <= n < (r + 1)²` in u128 and against f64.
//! - Layer norm: bit-exact against an i128 re-implementation of the documented arithmetic, and
//!   within **1 output step** of f64 layer norm on the dequantized input.
//! - Attention: Q0.15 probabilities within **2/32768** of f64 softmax of the dequantized scores;
//!   int8 outputs bit-exact against an i64 re-implementation of the documented steps (reusing
//!   only the test crate's own gemmlowp exponential and TFLite requantizer references); within
//!   **1 output step** of f64 attention on the dequantized Q, K, V; masks give exact zeros.

use tinytune::kernels::generic::attention_s8::{
    attention_probs_s16, attention_s8, AttentionMask, AttentionParamsS8, AttentionShape,
};
use tinytune::kernels::generic::layer_norm_s8::{fold_layer_norm, layer_norm_s8, LayerNormS8Args};
use tinytune::layers::s8::attention::{LayerNormS8Config, ScratchS8};
use tinytune::num::isqrt::{isqrt_u32, isqrt_u64};
use tinytune::num::quant::QuantParams;
use tinytune::{Error, ShapeError};
use tinytune_host_tests::reference::attention as f64ref;
use tinytune_host_tests::reference::num::{multiply_by_quantized_multiplier, quantize_multiplier};
use tinytune_host_tests::reference::softmax::exp_negative;
use tinytune_host_tests::rng::SplitMix64;

// ---------------------------------------------------------------- isqrt

#[test]
fn isqrt_is_exact_on_small_ranges() {
    for n in 0u32..(1 << 20) {
        let r = isqrt_u32(n) as u64;
        assert!(r * r <= n as u64 && (r + 1) * (r + 1) > n as u64, "n = {n}");
        assert_eq!(isqrt_u64(n as u64), r);
    }
    for r in 1u64..(1 << 16) {
        let sq = r * r;
        assert_eq!(isqrt_u64(sq), r);
        assert_eq!(isqrt_u64(sq - 1), r - 1);
        assert_eq!(isqrt_u64(sq + 2 * r), r); // (r+1)² − 1
    }
    assert_eq!(isqrt_u32(u32::MAX), 65535);
    assert_eq!(isqrt_u64(u64::MAX), u32::MAX as u64);
}

#[test]
fn isqrt_u64_matches_definition_and_f64_on_random_values() {
    let mut rng = SplitMix64::new(7);
    for i in 0..200_000 {
        let n = rng.next_u64() >> (i % 64);
        let r = isqrt_u64(n) as u128;
        let n128 = n as u128;
        assert!(r * r <= n128 && (r + 1) * (r + 1) > n128, "n = {n}");
        let f = (n as f64).sqrt();
        assert!((r as f64 - f).abs() <= 1.0, "n = {n}: {r} vs {f}");
    }
}

// ---------------------------------------------------------------- layer norm

/// The documented layer-norm arithmetic in i128.
fn ln_reference(
    x: &[i8],
    n: usize,
    eps_steps: u64,
    g: &[i32],
    b: &[i64],
    t: u32,
    zp: i32,
) -> Vec<i8> {
    let shr = |v: i128, s: u32| (v + (1i128 << (s - 1))).div_euclid(1i128 << s);
    let mut out = vec![];
    for row in x.chunks(n) {
        let s: i128 = row.iter().map(|&v| v as i128).sum();
        let s2: i128 = row.iter().map(|&v| (v as i128) * (v as i128)).sum();
        let d = (n as i128 * s2 - s * s) as u128 + eps_steps as u128;
        for (c, &v) in row.iter().enumerate() {
            let q = if d == 0 {
                0
            } else {
                let mut k = 0u32;
                while (d << (2 * (k + 1))) < (1u128 << 62) {
                    k += 1;
                }
                // floor(sqrt(d·4^k)) by bisection
                let target = d << (2 * k);
                let (mut lo, mut hi) = (0u128, 1u128 << 32);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if mid * mid <= target {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                let r = (1i128 << 62) / lo as i128;
                let cc = n as i128 * v as i128 - s;
                shr(cc * r, 46 - k)
            };
            let acc = q * g[c] as i128 + b[c] as i128;
            out.push((shr(acc, t) + zp as i128).clamp(-128, 127) as i8);
        }
    }
    out
}

fn ln_case(seed: u64, n: usize, rows: usize) -> (usize, f64) {
    let mut rng = SplitMix64::new(seed);
    let qin = QuantParams::new(
        rng.uniform(0.005, 0.1) as f32,
        rng.range_i64(-40, 40) as i32,
    )
    .unwrap();
    let qout = QuantParams::new(
        rng.uniform(0.01, 0.05) as f32,
        rng.range_i64(-20, 20) as i32,
    )
    .unwrap();
    let gamma = rng.f32_vec(n, 0.3, 1.5);
    let beta = rng.f32_vec(n, -0.5, 0.5);
    let eps = 1e-5f32;
    let mut x = rng.i8_vec(rows * n);
    // A constant row and a nearly constant one: the eps-dominated cases.
    x[..n].fill(17);
    x[n] = 18;
    let mut mult = vec![0i32; n];
    let mut off = vec![0i64; n];
    let shift = fold_layer_norm(&gamma, &beta, qout, &mut mult, &mut off).unwrap();
    let cfg = LayerNormS8Config {
        positions: rows,
        width: n,
        input: qin,
        output: qout,
        eps,
        shift,
    };
    let layer = cfg.init(&mult, &off).unwrap();
    let mut out = vec![0i8; rows * n];
    layer
        .forward(1, &x, &mut out, &mut ScratchS8::empty())
        .unwrap();
    // Exact integer reference with eps_steps computed here from its definition.
    let eps_steps = ((n * n) as f64 * eps as f64 / (qin.scale as f64).powi(2)).round() as u64;
    let want = ln_reference(&x, n, eps_steps, &mult, &off, shift, qout.zero_point);
    assert_eq!(out, want, "seed {seed}");
    // f64 layer norm of the dequantized input.
    let xr: Vec<f64> = x
        .iter()
        .map(|&v| qin.scale as f64 * (v as i32 - qin.zero_point) as f64)
        .collect();
    let g64: Vec<f64> = gamma.iter().map(|&v| v as f64).collect();
    let b64: Vec<f64> = beta.iter().map(|&v| v as f64).collect();
    let y = f64ref::layer_norm(&xr, n, &g64, &b64, eps as f64);
    let mut worst = 0usize;
    let mut worst_real = 0f64;
    for (&o, &r) in out.iter().zip(&y) {
        let ideal = (r / qout.scale as f64).round() + qout.zero_point as f64;
        if ideal.abs() > 127.0 {
            continue; // saturated anyway
        }
        worst = worst.max((o as f64 - ideal).abs() as usize);
        let real = qout.scale as f64 * (o as i32 - qout.zero_point) as f64;
        worst_real = worst_real.max((real - r).abs() / qout.scale as f64);
    }
    (worst, worst_real)
}

#[test]
fn layer_norm_is_bit_exact_and_within_one_step_of_f64() {
    let mut worst = 0;
    let mut worst_real = 0f64;
    for (seed, n) in [(1, 16), (2, 32), (3, 7), (4, 64), (5, 1), (6, 300)] {
        let (w, r) = ln_case(seed, n, 9);
        worst = worst.max(w);
        worst_real = worst_real.max(r);
    }
    println!("layer norm: max |int8 - quantize(f64)| = {worst} steps, max real error {worst_real:.3} steps");
    assert!(worst <= 1);
    assert!(worst_real <= 0.51 + 1.0);
}

#[test]
fn layer_norm_errors_do_not_panic() {
    let q = QuantParams::new(0.1, 0).unwrap();
    let cfg = LayerNormS8Config {
        positions: 2,
        width: 4,
        input: q,
        output: q,
        eps: 1e-5,
        shift: 20,
    };
    let (m, o) = ([1i32; 4], [0i64; 4]);
    assert!(matches!(
        cfg.init(&m[..3], &o),
        Err(Error::Shape(ShapeError::Length { .. }))
    ));
    for bad in [
        LayerNormS8Config { width: 0, ..cfg },
        LayerNormS8Config { shift: 0, ..cfg },
        LayerNormS8Config { shift: 63, ..cfg },
        LayerNormS8Config {
            width: 1 << 17,
            ..cfg
        },
    ] {
        assert!(bad.init(&m, &o).is_err());
    }
    assert!(LayerNormS8Config { eps: -1.0, ..cfg }.init(&m, &o).is_err());
    let layer = cfg.init(&m, &o).unwrap();
    let mut out = [0i8; 8];
    assert!(matches!(
        layer.forward(1, &[0; 7], &mut out, &mut ScratchS8::empty()),
        Err(Error::Shape(ShapeError::Length { .. }))
    ));
    assert!(layer
        .forward(0, &[], &mut [], &mut ScratchS8::empty())
        .is_err());
    // Hand-built kernel arguments with extreme values: defined results, no panic.
    let args = LayerNormS8Args {
        width: 4,
        eps_steps: u64::MAX,
        multiplier: &[i32::MAX, i32::MIN, 0, 1],
        offset: &[i64::MAX, i64::MIN, 0, -1],
        shift: 1,
        output_zero_point: i32::MIN,
    };
    layer_norm_s8(&args, &[-128, 127, 0, 5], &mut [0; 4]).unwrap();
}

// ---------------------------------------------------------------- attention

struct Head {
    seq: usize,
    d: usize,
    q: Vec<i8>,
    k: Vec<i8>,
    v: Vec<i8>,
    qq: QuantParams,
    qk: QuantParams,
    qv: QuantParams,
    qo: QuantParams,
}

fn random_head(seed: u64, seq: usize, d: usize) -> Head {
    let mut rng = SplitMix64::new(seed);
    let mut qp = |lo: f64, hi: f64| {
        QuantParams::new(rng.uniform(lo, hi) as f32, rng.range_i64(-30, 30) as i32).unwrap()
    };
    let (qq, qk, qv, qo) = (
        qp(0.01, 0.04),
        qp(0.01, 0.04),
        qp(0.01, 0.04),
        qp(0.004, 0.02),
    );
    Head {
        seq,
        d,
        q: rng.i8_vec(seq * d),
        k: rng.i8_vec(seq * d),
        v: rng.i8_vec(seq * d),
        qq,
        qk,
        qv,
        qo,
    }
}

fn deq(q: QuantParams, v: &[i8]) -> Vec<f64> {
    v.iter()
        .map(|&x| q.scale as f64 * (x as i32 - q.zero_point) as f64)
        .collect()
}

/// The documented integer attention in i64, from the test crate's own fixed-point references.
fn attention_reference(h: &Head, mask: AttentionMask) -> (Vec<i64>, Vec<i8>) {
    let (seq, d) = (h.seq, h.d);
    let score_real =
        h.qq.scale as f64 * h.qk.scale as f64 / (d as f64).sqrt() * (1u64 << 26) as f64;
    let (m, e) = quantize_multiplier(score_real).unwrap();
    let (om, oe) = quantize_multiplier(h.qv.scale as f64 / (32768.0 * h.qo.scale as f64)).unwrap();
    let mut probs = vec![0i64; seq * seq];
    let mut out = vec![0i8; seq * d];
    for i in 0..seq {
        let allowed: Vec<usize> = (0..seq).filter(|&j| mask.allows(i, j)).collect();
        if !allowed.is_empty() {
            let s: Vec<i64> = (0..seq)
                .map(|j| {
                    (0..d)
                        .map(|c| {
                            (h.q[i * d + c] as i64 - h.qq.zero_point as i64)
                                * (h.k[j * d + c] as i64 - h.qk.zero_point as i64)
                        })
                        .sum()
                })
                .collect();
            let max = allowed.iter().map(|&j| s[j]).max().unwrap();
            let r = 31 - e;
            let mut ex = vec![0i64; seq];
            for &j in &allowed {
                let t = ((s[j] - max) * m as i64 + (1i64 << (r - 1))).div_euclid(1i64 << r);
                ex[j] = exp_negative(t.max(i32::MIN as i64) as i32, 5) as i64;
            }
            let sum: i64 = ex.iter().sum();
            let recip = (1i128 << 62) / sum as i128;
            for &j in &allowed {
                let p = (ex[j] as i128 * recip + (1i128 << 46)).div_euclid(1i128 << 47);
                probs[i * seq + j] = p.min(32767) as i64;
            }
        }
        for c in 0..d {
            let o: i64 = (0..seq)
                .map(|j| probs[i * seq + j] * (h.v[j * d + c] as i64 - h.qv.zero_point as i64))
                .sum();
            let y =
                multiply_by_quantized_multiplier(o as i32, om, oe) as i64 + h.qo.zero_point as i64;
            out[i * d + c] = y.clamp(-128, 127) as i8;
        }
    }
    (probs, out)
}

fn run_head(h: &Head, mask: AttentionMask) -> (Vec<i16>, Vec<i8>) {
    let p = AttentionParamsS8::new(h.d, h.qq, h.qk, h.qv, h.qo).unwrap();
    let shape = AttentionShape {
        seq: h.seq,
        head_dim: h.d,
        stride: h.d,
    };
    let mut scratch = vec![0i32; h.seq];
    let mut probs = vec![0i16; h.seq * h.seq];
    attention_probs_s16(&p, shape, mask, &h.q, &h.k, &mut probs, &mut scratch).unwrap();
    let mut out = vec![0i8; h.seq * h.d];
    attention_s8(&p, shape, mask, &h.q, &h.k, &h.v, &mut out, &mut scratch).unwrap();
    (probs, out)
}

#[test]
fn attention_matches_integer_and_f64_references() {
    let masks = |seq: usize| {
        [
            AttentionMask::NONE,
            AttentionMask {
                causal: true,
                valid: seq,
            },
            AttentionMask {
                causal: false,
                valid: seq / 2,
            },
            AttentionMask {
                causal: true,
                valid: 3,
            },
        ]
    };
    let (mut worst_p, mut worst_out, mut worst_real) = (0i64, 0f64, 0f64);
    let mut seed = 100;
    for (seq, d) in [(8, 8), (8, 16), (16, 4), (5, 32), (1, 3), (33, 8)] {
        for mask in masks(seq) {
            seed += 1;
            let h = random_head(seed, seq, d);
            let (probs, out) = run_head(&h, mask);
            let (want_p, want_out) = attention_reference(&h, mask);
            let got_p: Vec<i64> = probs.iter().map(|&p| p as i64).collect();
            assert_eq!(got_p, want_p, "probs, seed {seed}");
            assert_eq!(out, want_out, "outputs, seed {seed}");
            // f64: softmax of the dequantized scores, and attention of the dequantized inputs.
            let (qr, kr, vr) = (deq(h.qq, &h.q), deq(h.qk, &h.k), deq(h.qv, &h.v));
            let rm = f64ref::Mask {
                causal: mask.causal,
                valid: mask.valid.min(seq),
            };
            for i in 0..seq {
                let allowed: Vec<usize> = (0..seq).filter(|&j| mask.allows(i, j)).collect();
                let sc: Vec<f64> = allowed
                    .iter()
                    .map(|&j| {
                        (0..d).map(|c| qr[i * d + c] * kr[j * d + c]).sum::<f64>()
                            / (d as f64).sqrt()
                    })
                    .collect();
                let mx = sc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = sc.iter().map(|s| (s - mx).exp()).sum();
                for j in 0..seq {
                    let p = probs[i * seq + j] as i64;
                    match allowed.iter().position(|&a| a == j) {
                        Some(ix) => {
                            let ideal = (sc[ix] - mx).exp() / z * 32768.0;
                            worst_p = worst_p.max((p as f64 - ideal).abs().ceil() as i64);
                        }
                        None => assert_eq!(p, 0, "masked key must get probability 0"),
                    }
                }
            }
            let y = f64ref::sdpa(&qr, &kr, &vr, seq, d, rm);
            for (&o, &r) in out.iter().zip(&y) {
                let ideal = r / h.qo.scale as f64 + h.qo.zero_point as f64;
                if ideal.abs() > 127.0 {
                    continue;
                }
                worst_out = worst_out.max((o as f64 - ideal.round()).abs());
                worst_real = worst_real.max((o as f64 - ideal).abs());
            }
        }
    }
    println!(
        "attention: probabilities within {worst_p}/32768, outputs within {worst_out} steps of \
         quantize(f64) ({worst_real:.3} steps of the exact real)"
    );
    assert!(worst_p <= 2);
    assert!(worst_out <= 1.0);
}

#[test]
fn fully_masked_rows_give_the_zero_point() {
    let h = random_head(9, 4, 4);
    let mask = AttentionMask {
        causal: false,
        valid: 0,
    };
    let (probs, out) = run_head(&h, mask);
    assert!(probs.iter().all(|&p| p == 0));
    assert!(out.iter().all(|&o| o as i32 == h.qo.zero_point));
}

#[test]
fn attention_errors_do_not_panic() {
    let h = random_head(3, 4, 4);
    let p = AttentionParamsS8::new(4, h.qq, h.qk, h.qv, h.qo).unwrap();
    let shape = AttentionShape {
        seq: 4,
        head_dim: 4,
        stride: 4,
    };
    let mut s = [0i32; 4];
    let mut out = [0i8; 16];
    let m = AttentionMask::NONE;
    let e = |r: Result<(), ShapeError>| r.unwrap_err();
    assert!(matches!(
        e(attention_s8(
            &p,
            shape,
            m,
            &h.q[..15],
            &h.k,
            &h.v,
            &mut out,
            &mut s
        )),
        ShapeError::Length { .. }
    ));
    assert!(matches!(
        e(attention_s8(
            &p,
            shape,
            m,
            &h.q,
            &h.k,
            &h.v,
            &mut out,
            &mut s[..3]
        )),
        ShapeError::Length { .. }
    ));
    assert!(matches!(
        e(attention_s8(
            &p,
            shape,
            m,
            &h.q,
            &h.k,
            &h.v,
            &mut out[..15],
            &mut s
        )),
        ShapeError::Length { .. }
    ));
    for bad in [
        AttentionShape { seq: 0, ..shape },
        AttentionShape {
            head_dim: 0,
            ..shape
        },
        AttentionShape { stride: 3, ..shape },
        AttentionShape {
            seq: usize::MAX,
            ..shape
        },
    ] {
        assert_eq!(
            e(attention_s8(&p, bad, m, &h.q, &h.k, &h.v, &mut out, &mut s)),
            ShapeError::Dimension
        );
    }
    assert!(AttentionParamsS8::new(0, h.qq, h.qk, h.qv, h.qo).is_err());
    // Hand-built parameters with extreme values: defined results, no panic.
    let mut rng = SplitMix64::new(5);
    for _ in 0..200 {
        let wild = AttentionParamsS8 {
            q_zero_point: rng.next_u64() as i32,
            k_zero_point: rng.next_u64() as i32,
            v_zero_point: rng.next_u64() as i32,
            output_zero_point: rng.next_u64() as i32,
            score: tinytune::num::quant::Requantizer {
                multiplier: rng.next_u64() as i32,
                shift: rng.next_u64() as i32,
            },
            output: tinytune::num::quant::Requantizer {
                multiplier: rng.next_u64() as i32,
                shift: rng.next_u64() as i32,
            },
        };
        let _ = attention_s8(&wild, shape, m, &h.q, &h.k, &h.v, &mut out, &mut s);
    }
}
