//! Scaled dot-product attention of one head in integer arithmetic: int8 Q, K, V in, int8 out,
//! with int16 (Q0.15) softmax probabilities in between.
//!
//! # Arithmetic
//!
//! With `q`, `k`, `v` int8 codes of zero points `zq`, `zk`, `zv` and scales `sq`, `sk`, `sv`,
//! `d = head_dim`, for query `i` and each key `j` it may attend to (the mask below):
//!
//! 1. **Scores**, exact in i32: `s_ij = Σ_c (q_ic − zq)·(k_jc − zk)`; the real score is
//!    `sq·sk·s_ij / √d`.
//! 2. **Scaled differences** to the row maximum `m_i` (over the allowed keys), in gemmlowp's
//!    Q5.26: `t_ij = max(⌊(s_ij − m_i)·M / 2^(31−e) + 1/2⌋, −2^31)`, where `(M, e)` is the
//!    TFLite `QuantizeMultiplier` form ([`Requantizer::from_real`]) of the real multiplier
//!    `sq·sk/√d · 2^26` (so `1/√d` is folded into it). The product is taken in i64: one
//!    rounding, half up. `−2^31` is −32.0, whose exponential is 0 at this precision.
//! 3. **Exponentials** in Q0.31: `e_ij = exp_on_negative_values(t_ij, 5)`
//!    ([`crate::num::fixedpoint`], the gemmlowp exponential TFLite's int8 softmax uses), and
//!    their exact sum `Σ_i = Σ_j e_ij` in i64 (at least `2^31 − 1`: the maximum gives exp(0)).
//! 4. **Probabilities** in Q0.15 (`p / 32768`; the ideal 1.0 saturates to 32767): with one
//!    reciprocal per row, `R_i = ⌊2^62 / Σ_i⌋`, `p_ij = min(⌊(e_ij·R_i + 2^46) / 2^47⌋, 32767)`.
//!    Masked keys get `p_ij = 0` exactly; a query that may see no key gets all zeros.
//! 5. **Output**, exact in i32: `o_ic = Σ_j p_ij·(v_jc − zv)`, then
//!    `out_ic = clamp(requant(o_ic) + z_out, −128, 127)` with the TFLite requantizer
//!    ([`Requantizer::apply`]) of `sv / (32768·s_out)`.
//!
//! # Mask
//!
//! Key `j` is visible to query `i` when `j < valid` and, if `causal`, `j <= i`.
//!
//! # Bounds
//! `head_dim <= 2^14` keeps `|s_ij| < 2^30` and `|(s − m)·M| < 2^62`; `Σ_j p_ij <= 2^15 + seq/2`
//! keeps `|o_ic| < 2^31` for `seq <= 2^16`.

use crate::error::{Buffer, QuantError, ShapeError};
use crate::num::fixedpoint::exp_on_negative_values;
use crate::num::quant::{QuantParams, Requantizer};

/// Largest head dimension (see the module's bounds).
pub const ATTENTION_MAX_HEAD_DIM: usize = 1 << 14;
/// Largest sequence length (see the module's bounds).
pub const ATTENTION_MAX_SEQ: usize = 1 << 16;
/// The Q0.15 probability step: a probability `p` stands for `p / PROB_ONE`.
pub const PROB_ONE: i32 = 1 << 15;

/// Integer bits of the scaled score differences (Q5.26), as TFLite's int8 softmax.
const DIFF_INTEGER_BITS: i32 = 5;

/// Which keys each query may attend to (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttentionMask {
    /// Query `i` sees only keys `j <= i`.
    pub causal: bool,
    /// Only the first `valid` positions are keys (the rest is padding); `valid >= seq` masks
    /// nothing.
    pub valid: usize,
}

impl AttentionMask {
    /// No mask: every query sees every key.
    pub const NONE: AttentionMask = AttentionMask {
        causal: false,
        valid: usize::MAX,
    };

    /// Whether query `i` may attend to key `j`.
    #[inline]
    pub fn allows(&self, i: usize, j: usize) -> bool {
        j < self.valid && (!self.causal || j <= i)
    }
}

/// The dimensions of one head's attention over strided row-major buffers.
///
/// Row `r` of Q, K, V and the output is `buf[r·stride .. r·stride + head_dim]`, so a head of a
/// `[seq, width]` projection is passed as the slice starting at its first column with
/// `stride = width`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttentionShape {
    /// Number of positions (queries and keys), in `1..=ATTENTION_MAX_SEQ`.
    pub seq: usize,
    /// Values per head and position, in `1..=ATTENTION_MAX_HEAD_DIM`.
    pub head_dim: usize,
    /// Distance between two rows, at least `head_dim`.
    pub stride: usize,
}

impl AttentionShape {
    fn check(&self) -> Result<usize, ShapeError> {
        if self.seq == 0
            || self.seq > ATTENTION_MAX_SEQ
            || self.head_dim == 0
            || self.head_dim > ATTENTION_MAX_HEAD_DIM
            || self.stride < self.head_dim
        {
            return Err(ShapeError::Dimension);
        }
        // (seq − 1)·stride + head_dim: the shortest buffer holding every row.
        (self.seq - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(self.head_dim))
            .ok_or(ShapeError::Dimension)
    }
}

/// Checks a strided buffer holds at least `needed` values.
fn check_min(buffer: Buffer, needed: usize, actual: usize) -> Result<(), ShapeError> {
    if actual < needed {
        Err(ShapeError::Length {
            buffer,
            expected: needed,
            actual,
        })
    } else {
        Ok(())
    }
}

/// The quantization constants of one head's integer attention (module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AttentionParamsS8 {
    /// Zero point of Q.
    pub q_zero_point: i32,
    /// Zero point of K.
    pub k_zero_point: i32,
    /// Zero point of V.
    pub v_zero_point: i32,
    /// Zero point of the output.
    pub output_zero_point: i32,
    /// `(M, e)` of `sq·sk/√d · 2^26` (step 2).
    pub score: Requantizer,
    /// The requantizer of `sv / (32768·s_out)` (step 5).
    pub output: Requantizer,
}

impl AttentionParamsS8 {
    /// The constants for a head of `head_dim` values with Q, K, V and output quantized as given.
    ///
    /// # Errors
    /// [`QuantError::InvalidScale`] / [`QuantError::InvalidZeroPoint`] for invalid parameters;
    /// [`QuantError::InvalidMultiplier`] if `head_dim` is 0 or a multiplier is `>= 2^30` (a real
    /// score step above 16, or an output scale below `2^-45` of V's).
    pub fn new(
        head_dim: usize,
        q: QuantParams,
        k: QuantParams,
        v: QuantParams,
        output: QuantParams,
    ) -> Result<Self, QuantError> {
        for p in [q, k, v, output] {
            QuantParams::new(p.scale, p.zero_point)?;
        }
        if head_dim == 0 {
            return Err(QuantError::InvalidMultiplier);
        }
        let score_real = f64::from(q.scale) * f64::from(k.scale) / libm::sqrt(head_dim as f64)
            * (1u64 << (31 - DIFF_INTEGER_BITS)) as f64;
        let out_real = f64::from(v.scale) / (f64::from(PROB_ONE) * f64::from(output.scale));
        Ok(AttentionParamsS8 {
            q_zero_point: q.zero_point,
            k_zero_point: k.zero_point,
            v_zero_point: v.zero_point,
            output_zero_point: output.zero_point,
            score: Requantizer::from_real(score_real)?,
            output: Requantizer::from_real(out_real)?,
        })
    }
}

/// Scratch `i32` values [`attention_s8`] and [`attention_probs_s16`] need: one row of scores,
/// `seq`.
pub fn attention_scratch_len(shape: &AttentionShape) -> usize {
    shape.seq
}

/// Row `r` of a strided buffer (callers have checked the length).
#[inline]
fn row<'a>(buf: &'a [i8], shape: &AttentionShape, r: usize) -> &'a [i8] {
    let start = r * shape.stride;
    buf.get(start..start + shape.head_dim).unwrap_or(&[])
}

/// Steps 1-4 for query `i`: writes `p_ij` (Q0.15) into `probs[j]` for every `j < seq`.
fn probs_row(
    p: &AttentionParamsS8,
    shape: &AttentionShape,
    mask: AttentionMask,
    q: &[i8],
    k: &[i8],
    i: usize,
    probs: &mut [i32],
) {
    let q_row = row(q, shape, i);
    let mut max: Option<i32> = None;
    for (j, s) in probs.iter_mut().enumerate().take(shape.seq) {
        if !mask.allows(i, j) {
            *s = 0;
            continue;
        }
        // Each term is below 2^16 in magnitude and head_dim <= 2^14: no overflow for valid zero
        // points. Wrapping keeps hand-built parameters (the fields are public) panic-free.
        let score = q_row
            .iter()
            .zip(row(k, shape, j))
            .fold(0i32, |acc, (&a, &b)| {
                let a = i32::from(a).wrapping_sub(p.q_zero_point);
                let b = i32::from(b).wrapping_sub(p.k_zero_point);
                acc.wrapping_add(a.wrapping_mul(b))
            });
        *s = score;
        max = Some(max.map_or(score, |m| m.max(score)));
    }
    let Some(max) = max else {
        return; // every key masked: all probabilities are 0 already
    };
    let right = (31 - p.score.shift.clamp(-31, 30)) as u32;
    let mut sum = 0i64;
    for (j, s) in probs.iter_mut().enumerate().take(shape.seq) {
        if mask.allows(i, j) {
            let diff = i64::from(*s) - i64::from(max);
            // Exact for valid parameters (|prod| < 2^62); saturating, and clamped to the
            // exponential's domain, for hand-built ones (the fields are public).
            let prod = diff.saturating_mul(i64::from(p.score.multiplier));
            let scaled =
                (prod.saturating_add(1i64 << (right - 1)) >> right).clamp(i64::from(i32::MIN), 0);
            let e = exp_on_negative_values(scaled as i32, DIFF_INTEGER_BITS);
            *s = e;
            sum = sum.saturating_add(i64::from(e));
        }
    }
    // sum >= 2^31 - 1 (the maximum contributes exp(0)), so R <= 2^31 + 1 and e·R < 2^63.
    let recip = (1i64 << 62) / sum.max(1);
    for (j, s) in probs.iter_mut().enumerate().take(shape.seq) {
        if mask.allows(i, j) {
            let scaled = i64::from(*s)
                .saturating_mul(recip)
                .saturating_add(1i64 << 46)
                >> 47;
            *s = scaled.clamp(0, i64::from(PROB_ONE - 1)) as i32;
        }
    }
}

/// Checks the shape, Q, K and the scratch; returns the shortest buffer length.
fn check_qk(
    shape: &AttentionShape,
    q: usize,
    k: usize,
    scratch: usize,
) -> Result<usize, ShapeError> {
    let needed = shape.check()?;
    check_min(Buffer::Input, needed, q)?;
    check_min(Buffer::Input2, needed, k)?;
    check_min(Buffer::Scratch, attention_scratch_len(shape), scratch)?;
    Ok(needed)
}

/// The softmax probabilities of one head (steps 1-4 of the module docs), Q0.15.
///
/// # Shapes
/// - `q`, `k`: strided `[seq, head_dim]` (at least `(seq − 1)·stride + head_dim` values)
/// - `probs`: `[seq, seq]` (row `i`: query `i`), `scratch`: at least
///   [`attention_scratch_len`] values
///
/// # Errors
/// [`ShapeError::Dimension`] for a dimension that is 0, above its limit, or a `stride` below
/// `head_dim`; [`ShapeError::Length`] naming `Input` (`q`), `Input2` (`k`), `Scratch` (too
/// short) or `Output` (`probs` not `seq²`). Nothing is written on error.
pub fn attention_probs_s16(
    p: &AttentionParamsS8,
    shape: AttentionShape,
    mask: AttentionMask,
    q: &[i8],
    k: &[i8],
    probs: &mut [i16],
    scratch: &mut [i32],
) -> Result<(), ShapeError> {
    check_qk(&shape, q.len(), k.len(), scratch.len())?;
    let n = shape
        .seq
        .checked_mul(shape.seq)
        .ok_or(ShapeError::Dimension)?;
    crate::error::check_len(Buffer::Output, n, probs.len())?;
    let row_buf = scratch.get_mut(..shape.seq).unwrap_or(&mut []);
    for (i, out) in probs.chunks_exact_mut(shape.seq).enumerate() {
        probs_row(p, &shape, mask, q, k, i, row_buf);
        for (o, &v) in out.iter_mut().zip(row_buf.iter()) {
            // Probabilities lie in 0..=32767.
            *o = v as i16;
        }
    }
    Ok(())
}

/// One head of integer scaled dot-product attention (module docs): `out = softmax(Q·Kᵀ/√d)·V`.
///
/// # Shapes
/// - `q`, `k`, `v`, `out`: strided `[seq, head_dim]` (at least `(seq − 1)·stride + head_dim`
///   values; only the head's columns of `out` are written)
/// - `scratch`: at least [`attention_scratch_len`] values
///
/// # Errors
/// [`ShapeError::Dimension`] for a dimension that is 0, above its limit, or a `stride` below
/// `head_dim`; [`ShapeError::Length`] naming `Input` (`q`), `Input2` (`k`), `Weights` (`v`),
/// `Scratch` or `Output` for a buffer too short. Nothing is written on error.
#[allow(clippy::too_many_arguments)]
pub fn attention_s8(
    p: &AttentionParamsS8,
    shape: AttentionShape,
    mask: AttentionMask,
    q: &[i8],
    k: &[i8],
    v: &[i8],
    out: &mut [i8],
    scratch: &mut [i32],
) -> Result<(), ShapeError> {
    let needed = check_qk(&shape, q.len(), k.len(), scratch.len())?;
    check_min(Buffer::Weights, needed, v.len())?;
    check_min(Buffer::Output, needed, out.len())?;
    let row_buf = scratch.get_mut(..shape.seq).unwrap_or(&mut []);
    for i in 0..shape.seq {
        probs_row(p, &shape, mask, q, k, i, row_buf);
        let start = i * shape.stride;
        let out_row = out
            .get_mut(start..start + shape.head_dim)
            .unwrap_or(&mut []);
        for (c, o) in out_row.iter_mut().enumerate() {
            let mut acc = 0i32;
            for (j, &prob) in row_buf.iter().enumerate() {
                if prob != 0 {
                    let x = v.get(j * shape.stride + c).copied().unwrap_or(0);
                    // Bounded by 255·(2^15 + seq/2) (module docs); wrapping as for the scores.
                    let x = i32::from(x).wrapping_sub(p.v_zero_point);
                    acc = acc.wrapping_add(prob.wrapping_mul(x));
                }
            }
            let y = p.output.apply(acc).saturating_add(p.output_zero_point);
            *o = y.clamp(i32::from(i8::MIN), i32::from(i8::MAX)) as i8;
        }
    }
    Ok(())
}
