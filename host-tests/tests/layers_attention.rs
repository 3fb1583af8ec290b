//! Scaled dot-product attention (one head) against the f64 reference: outputs within
//! `1e-5 · max(|ref|, 1)`, gradients of Q, K, V against central differences of the f64
//! reference (`gradcheck::assert_close`, relative 1e-3), masks (a masked key has exactly zero
//! influence and zero gradient), strided heads, NaN propagation and the error paths.

mod layers_attention_common;

use layers_attention_common::{assert_fwd, len_err, pick, split};
use tinytune::kernels::generic::attention::{attention_f32, AttentionMask, AttentionShape};
use tinytune::kernels::generic::grad::attention::attention_backward_f32;
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::reference::attention::{sdpa, Mask};
use tinytune_host_tests::rng::SplitMix64;

/// Reference mask of a kernel mask.
fn ref_mask(m: AttentionMask, seq: usize) -> Mask {
    Mask {
        causal: m.causal,
        valid: m.valid.min(seq),
    }
}

/// Copies a dense `[seq, d]` matrix into column `col` of a `[seq, stride]` buffer, returning the
/// slice the kernel takes (from the first value of row 0 to the last of row `seq - 1`).
fn embed(x: &[f32], seq: usize, d: usize, stride: usize, col: usize, fill: f32) -> Vec<f32> {
    let mut buf = vec![fill; seq * stride];
    for r in 0..seq {
        buf[r * stride + col..r * stride + col + d].copy_from_slice(&x[r * d..(r + 1) * d]);
    }
    buf[col..(seq - 1) * stride + col + d].to_vec()
}

fn extract(buf: &[f32], seq: usize, d: usize, stride: usize) -> Vec<f32> {
    (0..seq)
        .flat_map(|r| buf[r * stride..r * stride + d].to_vec())
        .collect()
}

struct Case {
    seq: usize,
    d: usize,
    mask: AttentionMask,
}

fn cases() -> Vec<Case> {
    let mut r = SplitMix64::new(5);
    let mut out = Vec::new();
    for i in 0..40 {
        let seq = pick(&mut r, 1, 10);
        let d = pick(&mut r, 1, 8);
        let valid = if i % 2 == 0 {
            seq
        } else {
            pick(&mut r, 0, seq)
        };
        out.push(Case {
            seq,
            d,
            mask: AttentionMask {
                causal: i % 4 >= 2,
                valid,
            },
        });
    }
    out
}

#[test]
fn forward_matches_f64_reference_dense_and_strided() {
    let mut r = SplitMix64::new(7);
    for (n, c) in cases().iter().enumerate() {
        let (seq, d) = (c.seq, c.d);
        let q = r.f32_vec(seq * d, -2.0, 2.0);
        let k = r.f32_vec(seq * d, -2.0, 2.0);
        let v = r.f32_vec(seq * d, -2.0, 2.0);
        let want = sdpa(
            &to_f64(&q),
            &to_f64(&k),
            &to_f64(&v),
            seq,
            d,
            ref_mask(c.mask, seq),
        );
        // Dense, then as head 1 of a wider projection (stride 3d + 1, column offset d).
        for (stride, col) in [(d, 0), (3 * d + 1, d)] {
            let shape = AttentionShape {
                seq,
                head_dim: d,
                stride,
            };
            let (qs, ks, vs) = (
                embed(&q, seq, d, stride, col, 0.0),
                embed(&k, seq, d, stride, col, 0.0),
                embed(&v, seq, d, stride, col, 0.0),
            );
            let mut probs = vec![f32::NAN; seq * seq];
            let mut out = vec![7.0f32; qs.len()];
            attention_f32(shape, c.mask, &qs, &ks, &vs, &mut probs, &mut out).unwrap();
            assert_fwd(
                &format!("case {n} stride {stride}"),
                &extract(&out, seq, d, stride),
                &want,
            );
            // The other heads' columns are untouched.
            for (i, &o) in out.iter().enumerate() {
                if i % stride >= d {
                    assert_eq!(o, 7.0, "case {n}: value {i} outside the head was written");
                }
            }
            // Probability rows: masked entries exactly 0, visible ones sum to 1.
            for i in 0..seq {
                let row = &probs[i * seq..(i + 1) * seq];
                let visible = (0..seq).filter(|&j| c.mask.allows(i, j)).count();
                for (j, &p) in row.iter().enumerate() {
                    if !c.mask.allows(i, j) {
                        assert_eq!(p, 0.0);
                    }
                }
                let sum: f32 = row.iter().sum();
                let want = if visible == 0 { 0.0 } else { 1.0 };
                assert!((sum - want).abs() < 1e-5, "case {n} row {i}: sum {sum}");
            }
        }
    }
}

#[test]
fn backward_matches_central_differences() {
    let mut r = SplitMix64::new(8);
    for (n, c) in cases().iter().enumerate() {
        let (seq, d) = (c.seq, c.d);
        let len = seq * d;
        let q = r.f32_vec(len, -1.5, 1.5);
        let k = r.f32_vec(len, -1.5, 1.5);
        let v = r.f32_vec(len, -1.5, 1.5);
        let g = r.f32_vec(len, -1.0, 1.0);
        let shape = AttentionShape {
            seq,
            head_dim: d,
            stride: d,
        };
        let mut probs = vec![0.0; seq * seq];
        let mut out = vec![0.0; len];
        attention_f32(shape, c.mask, &q, &k, &v, &mut probs, &mut out).unwrap();
        let (mut gq, mut gk, mut gv) = (vec![9.0; len], vec![9.0; len], vec![9.0; len]);
        attention_backward_f32(
            shape, c.mask, &q, &k, &v, &probs, &out, &g, &mut gq, &mut gk, &mut gv,
        )
        .unwrap();
        let all: Vec<f64> = [to_f64(&q), to_f64(&k), to_f64(&v)].concat();
        let mask = ref_mask(c.mask, seq);
        let num = numeric_grad(&all, |x| {
            let p = split(x, &[len, len, len]);
            weighted_sum(&g, &sdpa(p[0], p[1], p[2], seq, d, mask))
        });
        assert_close(&format!("case {n} dQ"), &gq, &num[..len]);
        assert_close(&format!("case {n} dK"), &gk, &num[len..2 * len]);
        assert_close(&format!("case {n} dV"), &gv, &num[2 * len..]);
    }
}

#[test]
fn strided_backward_writes_only_the_head_columns() {
    let (seq, d, stride) = (4, 2, 5);
    let mut r = SplitMix64::new(9);
    let (q, k, v, g) = (
        r.f32_vec(seq * d, -1.0, 1.0),
        r.f32_vec(seq * d, -1.0, 1.0),
        r.f32_vec(seq * d, -1.0, 1.0),
        r.f32_vec(seq * d, -1.0, 1.0),
    );
    let mask = AttentionMask {
        causal: true,
        valid: 3,
    };
    let dense = AttentionShape {
        seq,
        head_dim: d,
        stride: d,
    };
    let mut probs = vec![0.0; seq * seq];
    let mut out = vec![0.0; seq * d];
    attention_f32(dense, mask, &q, &k, &v, &mut probs, &mut out).unwrap();
    let mut want = [vec![0.0; seq * d], vec![0.0; seq * d], vec![0.0; seq * d]];
    let [wq, wk, wv] = &mut want;
    attention_backward_f32(dense, mask, &q, &k, &v, &probs, &out, &g, wq, wk, wv).unwrap();

    let wide = AttentionShape {
        seq,
        head_dim: d,
        stride,
    };
    let e = |x: &[f32]| embed(x, seq, d, stride, 0, 0.0);
    let (qs, ks, vs, gs, os) = (e(&q), e(&k), e(&v), e(&g), e(&out));
    let n = qs.len();
    let (mut gq, mut gk, mut gv) = (vec![-3.0; n], vec![-3.0; n], vec![-3.0; n]);
    attention_backward_f32(
        wide, mask, &qs, &ks, &vs, &probs, &os, &gs, &mut gq, &mut gk, &mut gv,
    )
    .unwrap();
    for (got, want) in [(&gq, &want[0]), (&gk, &want[1]), (&gv, &want[2])] {
        assert_eq!(&extract(got, seq, d, stride), want);
        for (i, &x) in got.iter().enumerate() {
            if i % stride >= d {
                assert_eq!(x, -3.0);
            }
        }
    }
}

#[test]
fn masked_keys_have_exactly_zero_influence_and_gradient() {
    let (seq, d) = (6, 3);
    let mut r = SplitMix64::new(10);
    let q = r.f32_vec(seq * d, -1.0, 1.0);
    let k = r.f32_vec(seq * d, -1.0, 1.0);
    let v = r.f32_vec(seq * d, -1.0, 1.0);
    let g = r.f32_vec(seq * d, -1.0, 1.0);
    let shape = AttentionShape {
        seq,
        head_dim: d,
        stride: d,
    };
    for causal in [false, true] {
        let mask = AttentionMask { causal, valid: 4 };
        let run = |k: &[f32], v: &[f32]| {
            let mut probs = vec![0.0; seq * seq];
            let mut out = vec![0.0; seq * d];
            attention_f32(shape, mask, &q, k, v, &mut probs, &mut out).unwrap();
            let mut grads = [vec![1.0; seq * d], vec![1.0; seq * d], vec![1.0; seq * d]];
            let [gq, gk, gv] = &mut grads;
            attention_backward_f32(shape, mask, &q, k, v, &probs, &out, &g, gq, gk, gv).unwrap();
            (out, grads)
        };
        let (out, grads) = run(&k, &v);
        // Keys 4 and 5 are padding: their K and V gradients are exactly zero.
        assert!(grads[1][4 * d..].iter().all(|&x| x == 0.0));
        assert!(grads[2][4 * d..].iter().all(|&x| x == 0.0));
        // Changing the padded keys and values (even to NaN) changes nothing, bit for bit.
        let (mut k2, mut v2) = (k.clone(), v.clone());
        k2[4 * d..].fill(f32::NAN);
        v2[5 * d..].fill(1e30);
        let (out2, grads2) = run(&k2, &v2);
        assert_eq!(out, out2);
        assert_eq!(grads[0], grads2[0]);
        if causal {
            // Query 0 sees key 0 only: its output is exactly V_0.
            assert_eq!(&out[..d], &v[..d]);
        }
    }
    // No visible key: zero output, zero gradients.
    let mask = AttentionMask {
        causal: false,
        valid: 0,
    };
    let mut probs = vec![1.0; seq * seq];
    let mut out = vec![1.0; seq * d];
    attention_f32(shape, mask, &q, &k, &v, &mut probs, &mut out).unwrap();
    assert!(out.iter().chain(&probs).all(|&x| x == 0.0));
}

#[test]
fn nan_in_gives_nan_out() {
    let (seq, d) = (3, 2);
    let shape = AttentionShape {
        seq,
        head_dim: d,
        stride: d,
    };
    let mut r = SplitMix64::new(12);
    let mut q = r.f32_vec(seq * d, -1.0, 1.0);
    let k = r.f32_vec(seq * d, -1.0, 1.0);
    let mut v = r.f32_vec(seq * d, -1.0, 1.0);
    q[2] = f32::NAN; // query 1
    v[0] = f32::NAN; // value 0, seen by every query
    let mut probs = vec![0.0; seq * seq];
    let mut out = vec![0.0; seq * d];
    let mask = AttentionMask::none();
    attention_f32(shape, mask, &q, &k, &v, &mut probs, &mut out).unwrap();
    assert!(out[2..4].iter().all(|x| x.is_nan()));
    assert!(out[0].is_nan() && out[4].is_nan());
    assert!(!out[1].is_nan() && !out[5].is_nan());
    let g = vec![1.0; seq * d];
    let mut grads = [vec![0.0; seq * d], vec![0.0; seq * d], vec![0.0; seq * d]];
    let [gq, gk, gv] = &mut grads;
    attention_backward_f32(shape, mask, &q, &k, &v, &probs, &out, &g, gq, gk, gv).unwrap();
    assert!(gq[2].is_nan() && gk.iter().any(|x| x.is_nan()));
}

#[test]
fn wrong_lengths_and_shapes_are_errors() {
    let shape = AttentionShape {
        seq: 3,
        head_dim: 2,
        stride: 4,
    };
    let n = 2 * 4 + 2;
    assert_eq!(shape.operand_len(), Ok(n));
    let (q, k, v) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut probs = vec![0.0; 9];
    let mut out = vec![0.0; n];
    let m = AttentionMask::none();
    let e = |x: Result<(), ShapeError>| tinytune::Error::Shape(x.unwrap_err());
    assert_eq!(
        e(attention_f32(
            shape,
            m,
            &q[1..],
            &k,
            &v,
            &mut probs,
            &mut out
        )),
        len_err(Buffer::Input, n, n - 1)
    );
    assert_eq!(
        e(attention_f32(
            shape,
            m,
            &q,
            &k,
            &v,
            &mut probs[1..],
            &mut out
        )),
        len_err(Buffer::Scratch, 9, 8)
    );
    assert_eq!(
        e(attention_f32(
            shape,
            m,
            &q,
            &k,
            &v,
            &mut probs,
            &mut out[..3]
        )),
        len_err(Buffer::Output, n, 3)
    );
    let bad = AttentionShape { stride: 1, ..shape };
    assert_eq!(bad.operand_len(), Err(ShapeError::Parameter));
    let zero = AttentionShape { seq: 0, ..shape };
    assert_eq!(zero.operand_len(), Err(ShapeError::Dimension));
    let (mut a, mut b, mut c) = (vec![0.0; n], vec![0.0; n], vec![0.0; n - 1]);
    assert_eq!(
        e(attention_backward_f32(
            shape, m, &q, &k, &v, &probs, &out, &out, &mut a, &mut b, &mut c
        )),
        len_err(Buffer::GradInput, n, n - 1)
    );
    assert_eq!(
        e(attention_backward_f32(
            shape,
            m,
            &q,
            &k,
            &v,
            &probs[1..],
            &out,
            &out,
            &mut a,
            &mut b,
            &mut c
        )),
        len_err(Buffer::Cache, 9, 8)
    );
}
