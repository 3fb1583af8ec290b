//! Multi-head self-attention against the f64 reference (`reference::attention::mha`): outputs
//! within `1e-5 · max(|ref|, 1)` on random shapes (seq 1..10, heads 1..4, head_dim 1..8,
//! batch 1..3, with and without causal and padding masks); gradients of the input and of every
//! parameter against central differences of the f64 reference (relative 1e-3); padding has
//! exactly zero influence; NaN propagation; the error paths.

mod layers_attention_common;

use layers_attention_common::{assert_fwd, len_err, lengths, pick};
use tinytune::layers::attention::{MultiHeadAttention, MultiHeadAttentionConfig};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::reference::attention::{mha, mha_param_len, Mask};
use tinytune_host_tests::rng::SplitMix64;

struct Case {
    batch: usize,
    seq: usize,
    heads: usize,
    width: usize,
    causal: bool,
    lengths: Option<Vec<usize>>,
}

fn case(r: &mut SplitMix64, i: usize, max_heads: usize, max_d: usize) -> Case {
    let batch = pick(r, 1, 3);
    let seq = pick(r, 1, 10);
    let heads = pick(r, 1, max_heads);
    let width = heads * pick(r, 1, max_d);
    let padded = i % 2 == 1;
    Case {
        batch,
        seq,
        heads,
        width,
        causal: i % 4 >= 2,
        lengths: padded.then(|| lengths(r, batch, seq, true)),
    }
}

fn config(c: &Case) -> MultiHeadAttentionConfig {
    MultiHeadAttentionConfig {
        seq: c.seq,
        width: c.width,
        heads: c.heads,
        causal: c.causal,
    }
}

fn ref_mask(c: &Case, b: usize) -> Mask {
    Mask {
        causal: c.causal,
        valid: c.lengths.as_ref().map_or(c.seq, |l| l[b]),
    }
}

/// The f64 reference over the whole batch.
fn reference(c: &Case, x: &[f64], params: &[f64]) -> Vec<f64> {
    let sw = c.seq * c.width;
    (0..c.batch)
        .flat_map(|b| {
            mha(
                &x[b * sw..(b + 1) * sw],
                c.seq,
                c.width,
                c.heads,
                params,
                ref_mask(c, b),
            )
        })
        .collect()
}

fn random_params(r: &mut SplitMix64, width: usize) -> Vec<f32> {
    let a = 1.5 / (width as f64).sqrt();
    r.f32_vec(mha_param_len(width), -a, a)
}

#[test]
fn forward_matches_f64_reference() {
    let mut r = SplitMix64::new(21);
    for i in 0..60 {
        let c = case(&mut r, i, 4, 8);
        let params = random_params(&mut r, c.width);
        let n = c.batch * c.seq * c.width;
        let x = r.f32_vec(n, -2.0, 2.0);
        let layer = config(&c).init(&params[..]).unwrap();
        let lens = c.lengths.as_deref();
        let mut scratch = vec![0.0; layer.scratch_len(c.batch)];
        let mut y = vec![0.0; n];
        layer
            .forward(c.batch, lens, &x, &mut y, &mut scratch)
            .unwrap();
        let want = reference(&c, &to_f64(&x), &to_f64(&params));
        assert_fwd(&format!("case {i}"), &y, &want);
        // Training forward computes the same thing, bit for bit.
        let mut cache = vec![0.0; layer.cache_len(c.batch)];
        let mut y2 = vec![0.0; n];
        layer
            .forward_train(c.batch, lens, &x, &mut y2, &mut cache)
            .unwrap();
        assert_eq!(y, y2);
    }
}

#[test]
fn backward_matches_central_differences() {
    let mut r = SplitMix64::new(22);
    for i in 0..16 {
        let c = case(&mut r, i, 3, 4);
        let mut params = random_params(&mut r, c.width);
        let p64 = to_f64(&params);
        let n = c.batch * c.seq * c.width;
        let x = r.f32_vec(n, -2.0, 2.0);
        let g = r.f32_vec(n, -1.0, 1.0);
        let layer = config(&c).init(&mut params[..]).unwrap();
        let lens = c.lengths.as_deref();
        let mut cache = vec![0.0; layer.cache_len(c.batch)];
        let mut scratch = vec![0.0; layer.scratch_len(c.batch)];
        let mut y = vec![0.0; n];
        layer
            .forward_train(c.batch, lens, &x, &mut y, &mut cache)
            .unwrap();
        let mut gx = vec![f32::NAN; n];
        let mut gp = vec![0.0; layer.param_len()];
        layer
            .backward(
                c.batch,
                lens,
                &x,
                &y,
                &cache,
                &g,
                Some(&mut gx),
                Some(&mut gp),
                &mut scratch,
            )
            .unwrap();

        let x64 = to_f64(&x);
        let num_x = numeric_grad(&x64, |x| weighted_sum(&g, &reference(&c, x, &p64)));
        assert_close(&format!("case {i} dx"), &gx, &num_x);
        let num_p = numeric_grad(&p64, |p| weighted_sum(&g, &reference(&c, &x64, p)));
        let (w, blk) = (c.width, c.width * c.width + c.width);
        for (k, name) in ["q", "k", "v", "o"].iter().enumerate() {
            let s = k * blk;
            assert_close(
                &format!("case {i} dW{name}"),
                &gp[s..s + w * w],
                &num_p[s..s + w * w],
            );
            let (gb, nb) = (&gp[s + w * w..s + blk], &num_p[s + w * w..s + blk]);
            if *name == "k" {
                // Adding bk shifts every score of a query by the same q·bk, which softmax
                // ignores: the gradient is exactly zero, the f32 result zero up to rounding.
                assert!(
                    nb.iter().all(|v| v.abs() < 1e-7),
                    "case {i}: numeric dbk {nb:?}"
                );
                let scale = gp.iter().fold(0f32, |m, v| m.max(v.abs())).max(1.0);
                assert!(
                    gb.iter().all(|v| v.abs() < 1e-5 * scale),
                    "case {i}: dbk {gb:?}"
                );
            } else {
                assert_close(&format!("case {i} db{name}"), gb, nb);
            }
        }

        // Parameter gradients accumulate; without grad_input the parameter part is the same.
        let mut gp2 = gp.clone();
        layer
            .backward(
                c.batch,
                lens,
                &x,
                &y,
                &cache,
                &g,
                None,
                Some(&mut gp2),
                &mut scratch,
            )
            .unwrap();
        for (a, b) in gp2.iter().zip(&gp) {
            assert!((a - 2.0 * b).abs() <= 1e-6 * b.abs().max(1.0));
        }
    }
}

#[test]
fn padding_has_exactly_zero_influence() {
    let (seq, width, heads, valid) = (7, 6, 2, 4);
    let mut r = SplitMix64::new(23);
    let params = random_params(&mut r, width);
    for causal in [false, true] {
        let layer = MultiHeadAttentionConfig {
            seq,
            width,
            heads,
            causal,
        }
        .init(&params[..])
        .unwrap();
        let x = r.f32_vec(seq * width, -1.0, 1.0);
        let lens = [valid];
        let run = |x: &[f32]| {
            let mut scratch = vec![0.0; layer.scratch_len(1)];
            let mut cache = vec![0.0; layer.cache_len(1)];
            let mut y = vec![0.0; seq * width];
            layer
                .forward_train(1, Some(&lens), x, &mut y, &mut cache)
                .unwrap();
            // Upstream gradient only on the valid rows (as a masked pooling gives).
            let mut g = vec![0.0; seq * width];
            g[..valid * width].fill(0.5);
            let mut gx = vec![1.0; seq * width];
            layer
                .backward(
                    1,
                    Some(&lens),
                    x,
                    &y,
                    &cache,
                    &g,
                    Some(&mut gx),
                    None,
                    &mut scratch,
                )
                .unwrap();
            (y, gx)
        };
        let (y, gx) = run(&x);
        assert!(gx[valid * width..].iter().all(|&v| v == 0.0));
        // Other values at the padded positions change nothing on the valid rows, bit for bit
        // (a NaN there still leaves the forward's valid rows alone; in backward NaN · 0 would
        // be NaN, so the gradient is compared with large finite values).
        let mut x2 = x.clone();
        x2[valid * width..].fill(f32::NAN);
        let (y2, _) = run(&x2);
        assert_eq!(&y[..valid * width], &y2[..valid * width]);
        x2[valid * width..].fill(1e3);
        let (y3, gx3) = run(&x2);
        assert_eq!(&y[..valid * width], &y3[..valid * width]);
        assert_eq!(&gx[..valid * width], &gx3[..valid * width]);
    }
}

#[test]
fn nan_in_gives_nan_out() {
    let (seq, width, heads) = (3, 4, 2);
    let mut r = SplitMix64::new(24);
    let params = random_params(&mut r, width);
    let layer = MultiHeadAttentionConfig {
        seq,
        width,
        heads,
        causal: true,
    }
    .init(&params[..])
    .unwrap();
    let mut x = r.f32_vec(seq * width, -1.0, 1.0);
    x[width] = f32::NAN; // position 1: seen by queries 1 and 2
    let mut y = vec![0.0; seq * width];
    let mut scratch = vec![0.0; layer.scratch_len(1)];
    layer.forward(1, None, &x, &mut y, &mut scratch).unwrap();
    assert!(y[..width].iter().all(|v| !v.is_nan()));
    assert!(y[width..].iter().all(|v| v.is_nan()));
}

#[test]
fn errors() {
    let cfg = MultiHeadAttentionConfig {
        seq: 3,
        width: 4,
        heads: 2,
        causal: false,
    };
    let p = vec![0.0f32; cfg.param_len().unwrap()];
    assert_eq!(p.len(), 80);
    assert_eq!(
        MultiHeadAttentionConfig { heads: 3, ..cfg }.param_len(),
        Err(Error::Shape(ShapeError::Parameter))
    );
    assert_eq!(
        MultiHeadAttentionConfig { seq: 0, ..cfg }.param_len(),
        Err(Error::Shape(ShapeError::Dimension))
    );
    assert_eq!(
        cfg.init(&p[1..]).unwrap_err(),
        len_err(Buffer::Params, 80, 79)
    );
    let layer: MultiHeadAttention = cfg.init(&p[..]).unwrap();
    let (batch, n) = (2, 24);
    let x = vec![0.0; n];
    let mut y = vec![0.0; n];
    let s = layer.scratch_len(batch);
    let mut scratch = vec![0.0; s];
    let mut cache = vec![0.0; layer.cache_len(batch)];
    assert_eq!(
        layer
            .forward(batch, None, &x[1..], &mut y, &mut scratch)
            .unwrap_err(),
        len_err(Buffer::Input, n, n - 1)
    );
    assert_eq!(
        layer
            .forward(batch, None, &x, &mut y[1..], &mut scratch)
            .unwrap_err(),
        len_err(Buffer::Output, n, n - 1)
    );
    assert_eq!(
        layer
            .forward(batch, Some(&[1]), &x, &mut y, &mut scratch)
            .unwrap_err(),
        len_err(Buffer::Input2, 2, 1)
    );
    assert_eq!(
        layer
            .forward(batch, None, &x, &mut y, &mut scratch[1..])
            .unwrap_err(),
        len_err(Buffer::Scratch, s, s - 1)
    );
    assert_eq!(
        layer
            .forward(0, None, &[], &mut [], &mut scratch)
            .unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    let c = cache.len();
    assert_eq!(
        layer
            .forward_train(batch, None, &x, &mut y, &mut cache[1..])
            .unwrap_err(),
        len_err(Buffer::Cache, c, c - 1)
    );
    layer
        .forward_train(batch, None, &x, &mut y, &mut cache)
        .unwrap();
    let mut gx = vec![0.0; n];
    let mut gp = vec![0.0; 80];
    assert_eq!(
        layer
            .backward(
                batch,
                None,
                &x,
                &y,
                &cache,
                &y[1..],
                Some(&mut gx),
                None,
                &mut scratch
            )
            .unwrap_err(),
        len_err(Buffer::GradOutput, n, n - 1)
    );
    assert_eq!(
        layer
            .backward(
                batch,
                None,
                &x,
                &y,
                &cache,
                &y,
                Some(&mut gx[1..]),
                None,
                &mut scratch
            )
            .unwrap_err(),
        len_err(Buffer::GradInput, n, n - 1)
    );
    assert_eq!(
        layer
            .backward(
                batch,
                None,
                &x,
                &y,
                &cache,
                &y,
                None,
                Some(&mut gp),
                &mut scratch
            )
            .unwrap_err(),
        Error::Frozen
    );
    let mut pm = p.clone();
    let trainable = cfg.init(&mut pm[..]).unwrap();
    assert_eq!(
        trainable
            .backward(
                batch,
                None,
                &x,
                &y,
                &cache,
                &y,
                None,
                Some(&mut gp[1..]),
                &mut scratch
            )
            .unwrap_err(),
        len_err(Buffer::GradParams, 80, 79)
    );
    assert_eq!(
        trainable
            .backward(
                batch,
                None,
                &x,
                &y,
                &cache,
                &y,
                None,
                None,
                &mut scratch[..10]
            )
            .unwrap_err(),
        len_err(Buffer::Scratch, 4 * 12, 10)
    );
}
