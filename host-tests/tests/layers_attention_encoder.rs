//! The pre-LN transformer encoder block against the f64 reference
//! (`reference::attention::encoder`): inference outputs within `1e-5 · max(|ref|, 1)` on random
//! shapes with and without causal and padding masks; training with dropout against an f64
//! composition of the reference pieces with the dropout masks redrawn from the same seed in the
//! documented order; gradients of the input and of every parameter block against central
//! differences of the f64 reference (relative 1e-3), with dropout 0 and with dropout > 0 (masks
//! fixed); NaN propagation; the error paths.

mod layers_attention_common;

use layers_attention_common::{assert_fwd, len_err, lengths, pick, split};
use tinytune::layers::attention::{TransformerEncoder, TransformerEncoderConfig};
use tinytune::rng::{bernoulli, SeedableRng, SeededRng};
use tinytune::{Buffer, Error};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::reference::activation::gelu;
use tinytune_host_tests::reference::attention::{
    dense, encoder, encoder_param_len, layer_norm, mha, mha_param_len, Mask,
};
use tinytune_host_tests::rng::SplitMix64;

const EPS: f32 = 1e-5;

struct Case {
    batch: usize,
    cfg: TransformerEncoderConfig,
    lengths: Option<Vec<usize>>,
}

fn case(r: &mut SplitMix64, i: usize, max_heads: usize, max_d: usize, dropout: f32) -> Case {
    let batch = pick(r, 1, 3);
    let seq = pick(r, 1, 10);
    let heads = pick(r, 1, max_heads);
    let width = heads * pick(r, 1, max_d);
    let ff = pick(r, 1, 16);
    Case {
        batch,
        cfg: TransformerEncoderConfig {
            seq,
            width,
            heads,
            ff,
            dropout,
            causal: i % 4 >= 2,
            eps: EPS,
        },
        lengths: (i % 2 == 1).then(|| lengths(r, batch, seq, true)),
    }
}

fn mask(c: &Case, b: usize) -> Mask {
    Mask {
        causal: c.cfg.causal,
        valid: c.lengths.as_ref().map_or(c.cfg.seq, |l| l[b]),
    }
}

fn random_params(r: &mut SplitMix64, width: usize, ff: usize) -> Vec<f32> {
    let n = encoder_param_len(width, ff);
    let mut p = Vec::with_capacity(n);
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
    assert_eq!(p.len(), n);
    p
}

/// The reference with dropout multipliers `m1`, `m2` (`[batch, seq, width]` each), composed
/// from the reference pieces: `y = x + m1 ⊙ MHA(LN1(x))`, `out = y + m2 ⊙ FF(LN2(y))`.
fn reference(c: &Case, x: &[f64], params: &[f64], masks: Option<(&[f64], &[f64])>) -> Vec<f64> {
    let TransformerEncoderConfig {
        seq,
        width: w,
        heads,
        ff,
        ..
    } = c.cfg;
    let sw = seq * w;
    let eps = EPS as f64;
    let mut out = Vec::new();
    for b in 0..c.batch {
        let xb = &x[b * sw..(b + 1) * sw];
        let Some((m1, m2)) = masks else {
            out.extend(encoder(xb, seq, w, heads, ff, params, mask(c, b), eps));
            continue;
        };
        let p = split(
            params,
            &[w, w, mha_param_len(w), w, w, ff * w, ff, w * ff, w],
        );
        let h = layer_norm(xb, w, p[0], p[1], eps);
        let a = mha(&h, seq, w, heads, p[2], mask(c, b));
        let y: Vec<f64> = (0..sw).map(|i| xb[i] + m1[b * sw + i] * a[i]).collect();
        let h2 = layer_norm(&y, w, p[3], p[4], eps);
        let f1: Vec<f64> = dense(&h2, seq, w, ff, p[5], p[6])
            .into_iter()
            .map(gelu)
            .collect();
        let f2 = dense(&f1, seq, ff, w, p[7], p[8]);
        out.extend((0..sw).map(|i| y[i] + m2[b * sw + i] * f2[i]));
    }
    out
}

/// The dropout multipliers the layer draws, redrawn in the documented order: per sample, one
/// Bernoulli draw per attention output value, then one per feed-forward output value.
fn redraw_masks(c: &Case, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let sw = c.cfg.seq * c.cfg.width;
    let keep = 1.0 - c.cfg.dropout;
    let scale = (1.0 / keep) as f64;
    let (mut m1, mut m2) = (Vec::new(), Vec::new());
    for _ in 0..c.batch {
        for m in [&mut m1, &mut m2] {
            m.extend((0..sw).map(|_| {
                if bernoulli(&mut rng, keep) {
                    scale
                } else {
                    0.0
                }
            }));
        }
    }
    (m1, m2)
}

#[test]
fn inference_matches_f64_reference() {
    let mut r = SplitMix64::new(31);
    for i in 0..60 {
        let c = case(&mut r, i, 4, 8, 0.25);
        let params = random_params(&mut r, c.cfg.width, c.cfg.ff);
        let n = c.batch * c.cfg.seq * c.cfg.width;
        let x = r.f32_vec(n, -2.0, 2.0);
        let layer = c.cfg.init(&params[..]).unwrap();
        let mut scratch = vec![0.0; layer.scratch_len(c.batch)];
        let mut y = vec![0.0; n];
        layer
            .forward(c.batch, c.lengths.as_deref(), &x, &mut y, &mut scratch)
            .unwrap();
        let want = reference(&c, &to_f64(&x), &to_f64(&params), None);
        assert_fwd(&format!("case {i}"), &y, &want);
    }
}

/// Runs forward_train and backward; returns (output, grad_input, grad_params).
fn train_step(c: &Case, params: &mut [f32], x: &[f32], g: &[f32], seed: u64) -> [Vec<f32>; 3] {
    let layer = c.cfg.init(&mut params[..]).unwrap();
    let lens = c.lengths.as_deref();
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut cache = vec![0.0; layer.cache_len(c.batch)];
    let mut scratch = vec![0.0; layer.scratch_len(c.batch)];
    let mut y = vec![0.0; x.len()];
    layer
        .forward_train(c.batch, lens, x, &mut y, &mut cache, &mut scratch, &mut rng)
        .unwrap();
    let mut gx = vec![f32::NAN; x.len()];
    let mut gp = vec![0.0; layer.param_len()];
    scratch.fill(f32::NAN); // backward must not rely on anything forward left in scratch
    layer
        .backward(
            c.batch,
            lens,
            x,
            &y,
            &cache,
            g,
            Some(&mut gx),
            Some(&mut gp),
            &mut scratch,
        )
        .unwrap();
    [y, gx, gp]
}

fn check_grads(i: usize, c: &Case, seed: u64, r: &mut SplitMix64) {
    let (w, ff) = (c.cfg.width, c.cfg.ff);
    let mut params = random_params(r, w, ff);
    let p64 = to_f64(&params);
    let n = c.batch * c.cfg.seq * w;
    let x = r.f32_vec(n, -2.0, 2.0);
    let g = r.f32_vec(n, -1.0, 1.0);
    let [y, gx, gp] = train_step(c, &mut params, &x, &g, seed);
    let (m1, m2) = redraw_masks(c, seed);
    let masks = Some((&m1[..], &m2[..]));
    let x64 = to_f64(&x);
    assert_fwd(
        &format!("case {i} train forward"),
        &y,
        &reference(c, &x64, &p64, masks),
    );

    let num_x = numeric_grad(&x64, |x| weighted_sum(&g, &reference(c, x, &p64, masks)));
    assert_close(&format!("case {i} dx"), &gx, &num_x);
    let num_p = numeric_grad(&p64, |p| weighted_sum(&g, &reference(c, &x64, p, masks)));
    let names = [
        "ln1.gamma",
        "ln1.beta",
        "mha",
        "ln2.gamma",
        "ln2.beta",
        "W1",
        "b1",
        "W2",
        "b2",
    ];
    let lens = [w, w, mha_param_len(w), w, w, ff * w, ff, w * ff, w];
    let mut at = 0;
    for (name, len) in names.iter().zip(lens) {
        let (a, num) = (&gp[at..at + len], &num_p[at..at + len]);
        if *name == "mha" {
            // bk's gradient is zero (softmax ignores a shift common to a query's scores), and
            // with one visible key per query so are those of Wq, bq, Wk.
            let blk = w * w + w;
            for (k, part) in ["Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo"]
                .iter()
                .enumerate()
            {
                let range = k / 2 * blk + (k % 2) * w * w
                    ..k / 2 * blk + if k % 2 == 0 { w * w } else { blk };
                check_block(
                    &format!("case {i} {part}"),
                    &a[range.clone()],
                    &num[range],
                    &gp,
                );
            }
        } else {
            check_block(&format!("case {i} {name}"), a, num, &gp);
        }
        at += len;
    }
}

/// [`assert_close`], except for a block whose exact gradient is zero (all numeric values below
/// 1e-7): there the f32 values must be zero up to rounding, `1e-5` of the largest gradient.
fn check_block(what: &str, analytic: &[f32], numeric: &[f64], all: &[f32]) {
    if numeric.iter().all(|v| v.abs() < 1e-7) {
        let scale = all.iter().fold(0f32, |m, v| m.max(v.abs())).max(1.0);
        assert!(
            analytic.iter().all(|v| v.abs() < 1e-5 * scale),
            "{what}: expected zero up to rounding, got {analytic:?}"
        );
    } else {
        assert_close(what, analytic, numeric);
    }
}

#[test]
fn backward_matches_central_differences_without_dropout() {
    let mut r = SplitMix64::new(32);
    for i in 0..12 {
        let c = case(&mut r, i, 3, 4, 0.0);
        check_grads(i, &c, i as u64, &mut r);
    }
}

#[test]
fn backward_with_dropout_matches_central_differences_with_the_masks_fixed() {
    let mut r = SplitMix64::new(33);
    for i in 0..8 {
        let c = case(&mut r, i, 3, 4, 0.3);
        check_grads(i, &c, 100 + i as u64, &mut r);
    }
}

#[test]
fn dropout_draws_fresh_masks_and_inference_is_deterministic() {
    let mut r = SplitMix64::new(34);
    let cfg = TransformerEncoderConfig {
        dropout: 0.5,
        ..TransformerEncoderConfig::new(4, 8, 2, 16)
    };
    let mut params = random_params(&mut r, 8, 16);
    let x = r.f32_vec(32, -1.0, 1.0);
    let g = vec![0.0; 32];
    let c = Case {
        batch: 1,
        cfg,
        lengths: None,
    };
    let [a, ..] = train_step(&c, &mut params, &x, &g, 1);
    let [b, ..] = train_step(&c, &mut params, &x, &g, 2);
    let [a2, ..] = train_step(&c, &mut params, &x, &g, 1);
    assert_ne!(a, b);
    assert_eq!(a, a2);
    // Inference equals the dropout-free training forward.
    let no_drop = Case {
        cfg: TransformerEncoderConfig {
            dropout: 0.0,
            ..cfg
        },
        ..c
    };
    let [t, ..] = train_step(&no_drop, &mut params, &x, &g, 3);
    let layer = cfg.init(&params[..]).unwrap();
    let mut y = vec![0.0; 32];
    let mut scratch = vec![0.0; layer.scratch_len(1)];
    layer.forward(1, None, &x, &mut y, &mut scratch).unwrap();
    assert_eq!(y, t);
}

#[test]
fn nan_in_gives_nan_out() {
    let mut r = SplitMix64::new(35);
    let cfg = TransformerEncoderConfig::new(3, 4, 2, 8);
    let params = random_params(&mut r, 4, 8);
    let layer = cfg.init(&params[..]).unwrap();
    let mut x = r.f32_vec(24, -1.0, 1.0);
    x[1] = f32::NAN; // sample 0, position 0: every query of sample 0 sees it
    let mut y = vec![0.0; 24];
    let mut scratch = vec![0.0; layer.scratch_len(2)];
    layer.forward(2, None, &x, &mut y, &mut scratch).unwrap();
    assert!(y[..12].iter().all(|v| v.is_nan()));
    assert!(y[12..].iter().all(|v| v.is_finite()));
}

#[test]
fn errors() {
    let cfg = TransformerEncoderConfig::new(3, 4, 2, 8);
    let n = cfg.param_len().unwrap();
    assert_eq!(n, encoder_param_len(4, 8));
    let p = vec![0.0f32; n];
    assert_eq!(
        cfg.init(&p[1..]).unwrap_err(),
        len_err(Buffer::Params, n, n - 1)
    );
    for bad in [
        TransformerEncoderConfig {
            dropout: 1.0,
            ..cfg
        },
        TransformerEncoderConfig {
            dropout: f32::NAN,
            ..cfg
        },
        TransformerEncoderConfig { eps: 0.0, ..cfg },
    ] {
        assert_eq!(bad.init(&p[..]).unwrap_err(), Error::Config);
    }
    let layer: TransformerEncoder = cfg.init(&p[..]).unwrap();
    let (x, mut y) = (vec![0.0; 12], vec![0.0; 12]);
    let s = layer.scratch_len(1);
    let mut scratch = vec![0.0; s];
    let mut cache = vec![0.0; layer.cache_len(1)];
    let mut rng = SeededRng::seed_from_u64(0);
    assert_eq!(
        layer
            .forward(1, None, &x, &mut y, &mut scratch[1..])
            .unwrap_err(),
        len_err(Buffer::Scratch, s, s - 1)
    );
    assert_eq!(
        layer
            .forward(1, Some(&[]), &x, &mut y, &mut scratch)
            .unwrap_err(),
        len_err(Buffer::Input2, 1, 0)
    );
    let cl = cache.len();
    assert_eq!(
        layer
            .forward_train(1, None, &x, &mut y, &mut cache[1..], &mut scratch, &mut rng)
            .unwrap_err(),
        len_err(Buffer::Cache, cl, cl - 1)
    );
    assert_eq!(
        layer
            .forward_train(1, None, &x[1..], &mut y, &mut cache, &mut scratch, &mut rng)
            .unwrap_err(),
        len_err(Buffer::Input, 12, 11)
    );
    let mut gp = vec![0.0; n];
    assert_eq!(
        layer
            .backward(
                1,
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
    assert_eq!(
        layer
            .backward(1, None, &x, &y, &cache, &y[1..], None, None, &mut scratch)
            .unwrap_err(),
        len_err(Buffer::GradOutput, 12, 11)
    );
}
