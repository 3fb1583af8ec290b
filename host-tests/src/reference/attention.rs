//! f64 references of attention and the transformer encoder block, written from the equations
//! (Vaswani et al. 2017; pre-LayerNorm as in Xiong et al. 2020), sharing no code with the crate.
//!
//! # Parameter layouts (the crate's layers use the same)
//!
//! Activations are row-major `[seq, width]` per sample. Dense weights are `[out, in]`.
//!
//! Multi-head self-attention, `width = heads · head_dim`, [`mha_param_len`] values:
//! `Wq [width, width], bq [width], Wk, bk, Wv, bv, Wo [width, width], bo [width]`. Head `h` uses
//! columns `h·head_dim .. (h+1)·head_dim` of the projected Q, K, V.
//!
//! Transformer encoder block (pre-LN, GELU with erf), [`encoder_param_len`] values:
//! `ln1.gamma [width], ln1.beta [width], <mha>, ln2.gamma [width], ln2.beta [width],
//! W1 [ff, width], b1 [ff], W2 [width, ff], b2 [width]`;
//! `y = x + MHA(LN1(x)); out = y + W2·GELU(W1·LN2(y) + b1) + b2`.

use super::activation::gelu;

/// Which keys a query may attend to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mask {
    /// Query `i` sees only keys `j ≤ i`.
    pub causal: bool,
    /// Only the first `valid` positions are real (the rest is padding): keys at `j ≥ valid`
    /// are masked for every query.
    pub valid: usize,
}

impl Mask {
    /// No masking for a sequence of `seq` positions.
    pub fn none(seq: usize) -> Self {
        Mask {
            causal: false,
            valid: seq,
        }
    }

    fn allows(&self, i: usize, j: usize) -> bool {
        j < self.valid && (!self.causal || j <= i)
    }
}

/// `y = x · Wᵀ + b` for rows of `x` (`[rows, inp]`), `w` `[out, inp]`.
pub fn dense(x: &[f64], rows: usize, inp: usize, out: usize, w: &[f64], b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; rows * out];
    for r in 0..rows {
        for o in 0..out {
            let mut acc = b[o];
            for i in 0..inp {
                acc += x[r * inp + i] * w[o * inp + i];
            }
            y[r * out + o] = acc;
        }
    }
    y
}

/// Layer norm over each row of `width` values (biased variance, as PyTorch).
pub fn layer_norm(x: &[f64], width: usize, gamma: &[f64], beta: &[f64], eps: f64) -> Vec<f64> {
    let mut y = vec![0.0; x.len()];
    for (row, out) in x.chunks(width).zip(y.chunks_mut(width)) {
        let mean = row.iter().sum::<f64>() / width as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / width as f64;
        let inv = 1.0 / (var + eps).sqrt();
        for c in 0..width {
            out[c] = (row[c] - mean) * inv * gamma[c] + beta[c];
        }
    }
    y
}

/// Scaled dot-product attention of one head: `softmax(Q·Kᵀ/√d + mask)·V`, with `q` `[seq, d]`,
/// `k`, `v` `[seq, d]`. A query that sees no key (all masked) gives zeros.
pub fn sdpa(q: &[f64], k: &[f64], v: &[f64], seq: usize, d: usize, mask: Mask) -> Vec<f64> {
    let scale = 1.0 / (d as f64).sqrt();
    let mut out = vec![0.0; seq * d];
    for i in 0..seq {
        let scores: Vec<Option<f64>> = (0..seq)
            .map(|j| {
                mask.allows(i, j)
                    .then(|| (0..d).map(|c| q[i * d + c] * k[j * d + c]).sum::<f64>() * scale)
            })
            .collect();
        let Some(max) = scores.iter().flatten().copied().reduce(f64::max) else {
            continue;
        };
        let weights: Vec<f64> = scores
            .iter()
            .map(|s| s.map_or(0.0, |s| (s - max).exp()))
            .collect();
        let sum: f64 = weights.iter().sum();
        for j in 0..seq {
            let p = weights[j] / sum;
            for c in 0..d {
                out[i * d + c] += p * v[j * d + c];
            }
        }
    }
    out
}

/// Parameters of multi-head self-attention of `width`.
pub fn mha_param_len(width: usize) -> usize {
    4 * (width * width + width)
}

/// Multi-head self-attention of one sample `x` `[seq, width]` with `params` in the layout of
/// the module docs.
pub fn mha(
    x: &[f64],
    seq: usize,
    width: usize,
    heads: usize,
    params: &[f64],
    mask: Mask,
) -> Vec<f64> {
    assert_eq!(width % heads, 0);
    assert_eq!(params.len(), mha_param_len(width));
    let block = width * width + width;
    let proj = |i: usize, input: &[f64]| {
        let p = &params[i * block..(i + 1) * block];
        dense(
            input,
            seq,
            width,
            width,
            &p[..width * width],
            &p[width * width..],
        )
    };
    let (q, k, v) = (proj(0, x), proj(1, x), proj(2, x));
    let d = width / heads;
    let mut concat = vec![0.0; seq * width];
    for h in 0..heads {
        let cols = |m: &[f64]| -> Vec<f64> {
            (0..seq)
                .flat_map(|r| m[r * width + h * d..r * width + (h + 1) * d].to_vec())
                .collect()
        };
        let o = sdpa(&cols(&q), &cols(&k), &cols(&v), seq, d, mask);
        for r in 0..seq {
            concat[r * width + h * d..r * width + (h + 1) * d]
                .copy_from_slice(&o[r * d..(r + 1) * d]);
        }
    }
    proj(3, &concat)
}

/// Parameters of an encoder block of `width` and feed-forward width `ff`.
pub fn encoder_param_len(width: usize, ff: usize) -> usize {
    4 * width + mha_param_len(width) + ff * width + ff + width * ff + width
}

/// The pre-LN transformer encoder block on one sample `x` `[seq, width]` (inference: no
/// dropout), `params` in the layout of the module docs, layer-norm `eps`.
#[allow(clippy::too_many_arguments)]
pub fn encoder(
    x: &[f64],
    seq: usize,
    width: usize,
    heads: usize,
    ff: usize,
    params: &[f64],
    mask: Mask,
    eps: f64,
) -> Vec<f64> {
    assert_eq!(params.len(), encoder_param_len(width, ff));
    let mut at = 0;
    let mut take = |n: usize| {
        let s = &params[at..at + n];
        at += n;
        s
    };
    let (g1, b1n) = (take(width), take(width));
    let attn = take(mha_param_len(width));
    let (g2, b2n) = (take(width), take(width));
    let (w1, b1, w2, b2) = (take(ff * width), take(ff), take(width * ff), take(width));

    let h = layer_norm(x, width, g1, b1n, eps);
    let a = mha(&h, seq, width, heads, attn, mask);
    let y: Vec<f64> = x.iter().zip(&a).map(|(x, a)| x + a).collect();
    let h2 = layer_norm(&y, width, g2, b2n, eps);
    let f1: Vec<f64> = dense(&h2, seq, width, ff, w1, b1)
        .into_iter()
        .map(gelu)
        .collect();
    let f2 = dense(&f1, seq, ff, width, w2, b2);
    y.iter().zip(&f2).map(|(y, f)| y + f).collect()
}

/// Sinusoidal positional encoding (Vaswani et al.): `PE[p, 2i] = sin(p / 10000^(2i/width))`,
/// `PE[p, 2i+1] = cos(…)`, `[seq, width]`.
pub fn sinusoidal(seq: usize, width: usize) -> Vec<f64> {
    let mut pe = vec![0.0; seq * width];
    for p in 0..seq {
        for c in 0..width {
            let i = (c / 2) as f64;
            let angle = p as f64 / 10000f64.powf(2.0 * i / width as f64);
            pe[p * width + c] = if c % 2 == 0 { angle.sin() } else { angle.cos() };
        }
    }
    pe
}

/// Mean over the first `valid` positions of `x` `[seq, width]`: `[width]`.
pub fn mean_pool(x: &[f64], width: usize, valid: usize) -> Vec<f64> {
    let mut m = vec![0.0; width];
    for row in x.chunks(width).take(valid) {
        for c in 0..width {
            m[c] += row[c] / valid as f64;
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_head_over_identical_keys_averages_the_values() {
        // Every score equal: the output is the plain mean of the visible values.
        let q = [1.0, 2.0, 1.0, 2.0, 1.0, 2.0];
        let k = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
        let v = [1.0, 0.0, 2.0, 1.0, 6.0, 5.0];
        let out = sdpa(&q, &k, &v, 3, 2, Mask::none(3));
        assert!((out[0] - 3.0).abs() < 1e-12 && (out[1] - 2.0).abs() < 1e-12);
        let causal = sdpa(
            &q,
            &k,
            &v,
            3,
            2,
            Mask {
                causal: true,
                valid: 3,
            },
        );
        assert_eq!(&causal[..2], &[1.0, 0.0]);
        assert!((causal[2] - 1.5).abs() < 1e-12 && (causal[3] - 0.5).abs() < 1e-12);
        let padded = sdpa(
            &q,
            &k,
            &v,
            3,
            2,
            Mask {
                causal: false,
                valid: 2,
            },
        );
        assert!((padded[4] - 1.5).abs() < 1e-12);
    }

    #[test]
    fn sinusoidal_starts_with_sin_0_cos_0() {
        let pe = sinusoidal(3, 4);
        assert_eq!(&pe[..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!((pe[4] - 1f64.sin()).abs() < 1e-15);
    }
}
