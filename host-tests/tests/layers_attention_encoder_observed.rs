//! `TransformerEncoder::forward_observed`: its output is bit for bit `forward`'s, it reports the
//! 13 stages of every sample in order with the documented lengths, and each stage equals the
//! f64 block recomputed from the reference pieces (`transformer_s8::encoder_f64`, built on
//! `reference::attention`) within `1e-5 · max(|ref|, 1)`, on random shapes with and without
//! causal and padding masks; nothing is observed when a buffer is rejected.

mod layers_attention_common;

use layers_attention_common::{assert_fwd, len_err, lengths, pick};
use tinytune::layers::attention::{EncoderStage, TransformerEncoderConfig};
use tinytune::Buffer;
use tinytune_host_tests::reference::attention::{encoder_param_len, mha_param_len, Mask};
use tinytune_host_tests::rng::SplitMix64;
use tinytune_host_tests::transformer_s8::{encoder_f64, EncoderDims, EPS};

fn random_params(r: &mut SplitMix64, width: usize, ff: usize) -> Vec<f32> {
    let mut p = Vec::new();
    let ln = |r: &mut SplitMix64, p: &mut Vec<f32>| {
        p.extend(r.f32_vec(width, 0.5, 1.5));
        p.extend(r.f32_vec(width, -0.5, 0.5));
    };
    ln(r, &mut p);
    let a = 1.5 / (width as f64).sqrt();
    p.extend(r.f32_vec(mha_param_len(width), -a, a));
    ln(r, &mut p);
    p.extend(r.f32_vec(ff * width + ff, -a, a));
    let a2 = 1.5 / (ff as f64).sqrt();
    p.extend(r.f32_vec(width * ff + width, -a2, a2));
    assert_eq!(p.len(), encoder_param_len(width, ff));
    p
}

/// Everything `forward_observed` reported: `(stage, values)` in call order.
fn observed(
    cfg: TransformerEncoderConfig,
    params: &[f32],
    batch: usize,
    lens: Option<&[usize]>,
    x: &[f32],
) -> (Vec<f32>, Vec<(EncoderStage, Vec<f32>)>) {
    let enc = cfg.init(params).unwrap();
    let mut scratch = vec![0.0; enc.scratch_len(batch)];
    let mut out = vec![0.0; x.len()];
    let mut seen = Vec::new();
    enc.forward_observed(batch, lens, x, &mut out, &mut scratch, &mut |s, v| {
        seen.push((s, v.to_vec()))
    })
    .unwrap();
    (out, seen)
}

#[test]
fn observed_forward_matches_forward_and_every_stage_matches_the_f64_block() {
    let mut r = SplitMix64::new(0x0b5e);
    for i in 0..24 {
        let batch = pick(&mut r, 1, 3);
        let seq = pick(&mut r, 1, 9);
        let heads = pick(&mut r, 1, 3);
        let width = heads * pick(&mut r, 1, 6);
        let ff = pick(&mut r, 1, 20);
        let cfg = TransformerEncoderConfig {
            causal: i % 4 >= 2,
            ..TransformerEncoderConfig::new(seq, width, heads, ff)
        };
        assert_eq!(cfg.eps, EPS);
        let lens = (i % 2 == 1).then(|| lengths(&mut r, batch, seq, true));
        let params = random_params(&mut r, width, ff);
        let sw = seq * width;
        let x = r.f32_vec(batch * sw, -2.0, 2.0);

        let enc = cfg.init(&params[..]).unwrap();
        // A scratch full of garbage: forward must not depend on it.
        let mut scratch = vec![f32::NAN; enc.scratch_len(batch)];
        let mut plain = vec![0.0; batch * sw];
        enc.forward(batch, lens.as_deref(), &x, &mut plain, &mut scratch)
            .unwrap();
        let (out, seen) = observed(cfg, &params, batch, lens.as_deref(), &x);
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&out),
            bits(&plain),
            "case {i}: output differs from forward"
        );

        assert_eq!(
            seen.len(),
            13 * batch,
            "case {i}: one call per stage per sample"
        );
        let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
        let d = EncoderDims {
            seq,
            width,
            heads,
            ff,
        };
        for b in 0..batch {
            let xb: Vec<f64> = x[b * sw..(b + 1) * sw]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let mask = Mask {
                causal: cfg.causal,
                valid: lens.as_ref().map_or(seq, |l| l[b]),
            };
            let want = encoder_f64(d, &p64, &xb, mask);
            let calls = &seen[13 * b..13 * (b + 1)];
            for (k, ((stage, got), want)) in calls.iter().zip(&want).enumerate() {
                assert_eq!(*stage, EncoderStage::ALL[k], "case {i}: stage order");
                let n = match stage {
                    EncoderStage::Ff1 | EncoderStage::Gelu => seq * ff,
                    _ => sw,
                };
                assert_eq!(got.len(), n, "case {i}: {stage:?} length");
                assert_fwd(&format!("case {i} sample {b} {stage:?}"), got, want);
            }
            // The last stage is the sample's output itself.
            assert_eq!(bits(&calls[12].1), bits(&out[b * sw..(b + 1) * sw]));
        }
    }
}

#[test]
fn rejected_buffers_are_errors_and_nothing_is_observed() {
    let mut r = SplitMix64::new(3);
    let cfg = TransformerEncoderConfig::new(4, 8, 2, 16);
    let params = random_params(&mut r, 8, 16);
    let enc = cfg.init(&params[..]).unwrap();
    let need = enc.scratch_len(2);
    let x = r.f32_vec(2 * 32, -1.0, 1.0);
    let mut calls = 0usize;
    let mut count = |_: EncoderStage, _: &[f32]| calls += 1;
    let mut out = vec![0.0; 64];
    let mut short = vec![0.0; need - 1];
    let e = enc
        .forward_observed(2, None, &x, &mut out, &mut short, &mut count)
        .unwrap_err();
    assert_eq!(e, len_err(Buffer::Scratch, need, need - 1));
    let mut scratch = vec![0.0; need];
    let e = enc
        .forward_observed(2, None, &x[..63], &mut out, &mut scratch, &mut count)
        .unwrap_err();
    assert_eq!(e, len_err(Buffer::Input, 64, 63));
    let e = enc
        .forward_observed(2, Some(&[4]), &x, &mut out, &mut scratch, &mut count)
        .unwrap_err();
    assert_eq!(e, len_err(Buffer::Input2, 2, 1));
    assert_eq!(calls, 0);
    assert!(out.iter().all(|&v| v == 0.0), "nothing written on error");
}
