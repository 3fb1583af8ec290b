//! Positional encodings, class token and poolings: sinusoidal against
//! `reference::attention::sinusoidal` (absolute 1e-5 up to position 64), masked mean pooling
//! against `reference::attention::mean_pool` (`1e-5 · max(|ref|, 1)`), every backward against
//! central differences of f64 definitions (relative 1e-3), padded rows' gradients exactly 0,
//! NaN propagation, and the error paths.

mod layers_attention_common;

use layers_attention_common::{assert_fwd, len_err, lengths, pick};
use tinytune::layers::attention::{PoolConfig, SequenceConfig, SinusoidalEncodingConfig};
use tinytune::layers::Layer;
use tinytune::{Buffer, Error};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::reference::attention::{mean_pool, sinusoidal};
use tinytune_host_tests::rng::SplitMix64;

#[test]
fn sinusoidal_matches_reference_and_passes_the_gradient() {
    let mut r = SplitMix64::new(41);
    for (seq, width) in [(1, 1), (3, 4), (10, 7), (64, 16), (9, 32)] {
        let pe = SinusoidalEncodingConfig { seq, width }.init().unwrap();
        let batch = 2;
        let x = r.f32_vec(batch * seq * width, -1.0, 1.0);
        let mut y = vec![0.0; x.len()];
        pe.forward(batch, &x, &mut y).unwrap();
        let want = sinusoidal(seq, width);
        for (i, (&y, &x)) in y.iter().zip(&x).enumerate() {
            let err = ((y - x) as f64 - want[i % (seq * width)]).abs();
            assert!(err < 1e-5, "seq {seq} width {width} [{i}]: error {err:.2e}");
        }
        let g = r.f32_vec(x.len(), -1.0, 1.0);
        let mut gi = vec![0.0; x.len()];
        pe.backward(batch, &x, &y, &[], &g, Some(&mut gi), None)
            .unwrap();
        assert_eq!(gi, g);
    }
}

#[test]
fn learned_positions_forward_and_gradients() {
    let mut r = SplitMix64::new(42);
    let (batch, seq, width) = (3, 4, 5);
    let mut table = r.f32_vec(seq * width, -1.0, 1.0);
    let t64 = to_f64(&table);
    let x = r.f32_vec(batch * seq * width, -1.0, 1.0);
    let g = r.f32_vec(x.len(), -1.0, 1.0);
    let layer = SequenceConfig { seq, width }
        .learned_positions(&mut table[..])
        .unwrap();
    let mut y = vec![0.0; x.len()];
    layer.forward(batch, &x, &mut y).unwrap();
    let f = |x: &[f64], t: &[f64]| -> Vec<f64> {
        x.iter()
            .enumerate()
            .map(|(i, &v)| v + t[i % t.len()])
            .collect()
    };
    let x64 = to_f64(&x);
    assert_fwd("learned", &y, &f(&x64, &t64));
    let mut gi = vec![0.0; x.len()];
    let mut gp = vec![0.5; seq * width];
    layer
        .backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp))
        .unwrap();
    assert_close(
        "learned dx",
        &gi,
        &numeric_grad(&x64, |x| weighted_sum(&g, &f(x, &t64))),
    );
    let num = numeric_grad(&t64, |t| weighted_sum(&g, &f(&x64, t)));
    let accumulated: Vec<f32> = gp.iter().map(|v| v - 0.5).collect();
    assert_close("learned dtable", &accumulated, &num);
}

#[test]
fn class_token_and_first_token() {
    let mut r = SplitMix64::new(43);
    let (batch, seq, width) = (2, 3, 4);
    let mut token = r.f32_vec(width, -1.0, 1.0);
    let tok64 = to_f64(&token);
    let x = r.f32_vec(batch * seq * width, -1.0, 1.0);
    let layer = SequenceConfig { seq, width }
        .class_token(&mut token[..])
        .unwrap();
    assert_eq!(layer.output_len(), (seq + 1) * width);
    let mut y = vec![0.0; batch * (seq + 1) * width];
    layer.forward(batch, &x, &mut y).unwrap();
    let f = |x: &[f64], t: &[f64]| -> Vec<f64> {
        (0..batch)
            .flat_map(|b| {
                t.iter()
                    .chain(&x[b * seq * width..(b + 1) * seq * width])
                    .copied()
            })
            .collect()
    };
    let x64 = to_f64(&x);
    assert_fwd("class token", &y, &f(&x64, &tok64));
    let g = r.f32_vec(y.len(), -1.0, 1.0);
    let mut gi = vec![0.0; x.len()];
    let mut gp = vec![0.0; width];
    layer
        .backward(batch, &x, &y, &[], &g, Some(&mut gi), Some(&mut gp))
        .unwrap();
    assert_close(
        "class dx",
        &gi,
        &numeric_grad(&x64, |x| weighted_sum(&g, &f(x, &tok64))),
    );
    assert_close(
        "class dtoken",
        &gp,
        &numeric_grad(&tok64, |t| weighted_sum(&g, &f(&x64, t))),
    );

    // Taking row 0 back gives the token.
    let first = PoolConfig {
        seq: seq + 1,
        width,
    }
    .first_token()
    .unwrap();
    let mut pooled = vec![0.0; batch * width];
    first.forward(batch, &y, &mut pooled).unwrap();
    assert_eq!(&pooled[..width], &token[..]);
    assert_eq!(&pooled[width..], &token[..]);
    let gp2 = r.f32_vec(batch * width, -1.0, 1.0);
    let mut gy = vec![9.0; y.len()];
    first
        .backward(batch, &y, &pooled, &[], &gp2, Some(&mut gy), None)
        .unwrap();
    let take = |y: &[f64]| -> Vec<f64> {
        (0..batch)
            .flat_map(|b| y[b * (seq + 1) * width..b * (seq + 1) * width + width].to_vec())
            .collect()
    };
    assert_close(
        "first dy",
        &gy,
        &numeric_grad(&to_f64(&y), |y| weighted_sum(&gp2, &take(y))),
    );
}

#[test]
fn mean_pool_over_valid_positions() {
    let mut r = SplitMix64::new(44);
    for i in 0..30 {
        let (batch, seq, width) = (pick(&mut r, 1, 3), pick(&mut r, 1, 10), pick(&mut r, 1, 8));
        let lens = (i % 2 == 1).then(|| lengths(&mut r, batch, seq, true));
        let pool = PoolConfig { seq, width }.mean().unwrap();
        let x = r.f32_vec(batch * seq * width, -2.0, 2.0);
        let mut y = vec![0.0; batch * width];
        pool.forward(batch, lens.as_deref(), &x, &mut y).unwrap();
        let valid = |b: usize| lens.as_ref().map_or(seq, |l| l[b]);
        let f = |x: &[f64]| -> Vec<f64> {
            (0..batch)
                .flat_map(|b| {
                    mean_pool(&x[b * seq * width..(b + 1) * seq * width], width, valid(b))
                })
                .collect()
        };
        let x64 = to_f64(&x);
        assert_fwd(&format!("mean pool {i}"), &y, &f(&x64));
        let g = r.f32_vec(y.len(), -1.0, 1.0);
        let mut gi = vec![f32::NAN; x.len()];
        pool.backward(batch, lens.as_deref(), &g, &mut gi).unwrap();
        assert_close(
            &format!("mean pool {i} dx"),
            &gi,
            &numeric_grad(&x64, |x| weighted_sum(&g, &f(x))),
        );
        for b in 0..batch {
            let s = b * seq * width;
            assert!(gi[s + valid(b) * width..s + seq * width]
                .iter()
                .all(|&v| v == 0.0));
        }
    }
}

#[test]
fn nan_and_errors() {
    let pool = PoolConfig { seq: 3, width: 2 }.mean().unwrap();
    let mut x = vec![1.0; 6];
    x[4] = f32::NAN; // row 2, column 0
    let mut y = vec![0.0; 2];
    pool.forward(1, None, &x, &mut y).unwrap();
    assert!(y[0].is_nan() && y[1] == 1.0);
    pool.forward(1, Some(&[2]), &x, &mut y).unwrap();
    assert_eq!(y, [1.0, 1.0]); // the NaN is padding
    assert_eq!(
        pool.forward(1, Some(&[2, 2]), &x, &mut y).unwrap_err(),
        len_err(Buffer::Input2, 1, 2)
    );
    assert_eq!(
        pool.forward(1, None, &x[1..], &mut y).unwrap_err(),
        len_err(Buffer::Input, 6, 5)
    );
    let mut gi = vec![0.0; 5];
    assert_eq!(
        pool.backward(1, None, &y, &mut gi).unwrap_err(),
        len_err(Buffer::GradInput, 6, 5)
    );
    assert_eq!(
        SequenceConfig { seq: 2, width: 3 }
            .class_token(&[0.0; 2][..])
            .unwrap_err(),
        len_err(Buffer::Params, 3, 2)
    );
    assert_eq!(
        SequenceConfig { seq: 2, width: 3 }
            .learned_positions(&[0.0; 5][..])
            .unwrap_err(),
        len_err(Buffer::Params, 6, 5)
    );
    let frozen = SequenceConfig { seq: 2, width: 3 }
        .learned_positions(&[0.0; 6][..])
        .unwrap();
    let v = vec![0.0; 6];
    let mut gp = vec![0.0; 6];
    assert_eq!(
        frozen
            .backward(1, &v, &v, &[], &v, None, Some(&mut gp))
            .unwrap_err(),
        Error::Frozen
    );
    let pe = SinusoidalEncodingConfig { seq: 2, width: 3 }
        .init()
        .unwrap();
    let mut out = vec![0.0; 6];
    let mut xn = vec![0.0; 6];
    xn[3] = f32::NAN;
    pe.forward(1, &xn, &mut out).unwrap();
    assert!(out[3].is_nan() && out.iter().filter(|v| v.is_nan()).count() == 1);
    assert_eq!(
        pe.forward(1, &xn, &mut out[1..]).unwrap_err(),
        len_err(Buffer::Output, 6, 5)
    );
}

/// The memory table of the attention module docs, read from the source, against the layers'
/// own `param_len`, `scratch_len` and `cache_len` (bytes = 4 · values, batch 1), and the
/// formulas of the docs against the functions on more shapes and batches.
#[test]
fn memory_table_in_the_docs_matches_the_functions() {
    use tinytune::layers::attention::{MultiHeadAttentionConfig, TransformerEncoderConfig};
    let src = include_str!("../../src/layers/attention/mod.rs");
    let rows: Vec<Vec<usize>> = src
        .lines()
        .filter_map(|l| l.strip_prefix("//! | "))
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            l.split(['|', ','])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| s.parse().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3, "three rows in the table");
    for row in &rows {
        let [s, w, h, f, mp, ms, mc, ep, es, ec] = row[..] else {
            panic!("row {row:?}")
        };
        let mcfg = MultiHeadAttentionConfig {
            seq: s,
            width: w,
            heads: h,
            causal: false,
        };
        let mparams = vec![0.0f32; mcfg.param_len().unwrap()];
        let m = mcfg.init(&mparams[..]).unwrap();
        assert_eq!(
            [4 * m.param_len(), 4 * m.scratch_len(1), 4 * m.cache_len(1)],
            [mp, ms, mc]
        );
        let ecfg = TransformerEncoderConfig::new(s, w, h, f);
        let eparams = vec![0.0f32; ecfg.param_len().unwrap()];
        let e = ecfg.init(&eparams[..]).unwrap();
        assert_eq!(
            [4 * e.param_len(), 4 * e.scratch_len(1), 4 * e.cache_len(1)],
            [ep, es, ec]
        );
    }
    // The formulas of the docs, in values.
    for (s, w, h, f, b) in [
        (1, 1, 1, 1, 1),
        (5, 6, 3, 7, 2),
        (10, 8, 4, 40, 3),
        (3, 12, 2, 2, 1),
    ] {
        let mcfg = MultiHeadAttentionConfig {
            seq: s,
            width: w,
            heads: h,
            causal: true,
        };
        let p = vec![0.0f32; mcfg.param_len().unwrap()];
        let m = mcfg.init(&p[..]).unwrap();
        assert_eq!(m.param_len(), 4 * (w * w + w));
        assert_eq!(m.scratch_len(b), 4 * s * w + h * s * s);
        assert_eq!(m.cache_len(b), b * (4 * s * w + h * s * s));
        let ecfg = TransformerEncoderConfig::new(s, w, h, f);
        let p = vec![0.0f32; ecfg.param_len().unwrap()];
        let e = ecfg.init(&p[..]).unwrap();
        assert_eq!(e.param_len(), 4 * w + 4 * (w * w + w) + 2 * f * w + f + w);
        let (sw, sf) = (s * w, s * f);
        let scratch = (sw + (4 * sw + h * s * s).max(sf)).max(2 * sw + (2 * sf).max(6 * sw));
        assert_eq!(e.scratch_len(b), scratch);
        assert_eq!(e.cache_len(b), b * (4 * s + 7 * sw + h * s * s + sf));
    }
}
