//! Integer layer normalisation: int8 in, int8 out, no floating point at run time.
//!
//! # Arithmetic (per row of `n = width` values `x_i`, raw int8 codes)
//!
//! The input zero point and scale cancel out of `(x - mean) / std`, so the row is normalised in
//! input steps; only `eps` needs the input scale (folded in once, as `eps_steps`).
//!
//! 1. `S = Σ x_i`, `S2 = Σ x_i²` (i32 and i64, exact); `c_i = n·x_i − S` is `n·(x_i − mean)`
//!    exactly, and `V = n·S2 − S²` is `n²·var` exactly (in steps²).
//! 2. `D = V + eps_steps`, where `eps_steps = round(n²·eps / input_scale²)` (capped at 2^61),
//!    so that `c_i / sqrt(D) = (x_i − mean) / sqrt(var + eps)`.
//!    If `D = 0` (a constant row and `eps_steps = 0`), every `x̂_i` is 0.
//! 3. Normalise: `k = (leading_zeros(D) − 2) / 2` (so `D·4^k` lies in `[2^60, 2^62)`),
//!    `root = isqrt(D·4^k)` (in `[2^30, 2^31)`: `sqrt(D)` with 31 significant bits, times `2^k`)
//!    and `R = floor(2^62 / root)`: one division per row.
//! 4. `x̂_i` in Q16: `q_i = (c_i·R + 2^(s−1)) >> s` with `s = 46 − k` (round half up), i.e.
//!    `c_i · 2^k / root · 2^16`.
//! 5. Affine part, per channel, with `gamma` and `beta` folded into an int32 multiplier `G_i =
//!    round(gamma_i / out_scale · 2^(T−16))` and an int64 offset `B_i = round(beta_i / out_scale ·
//!    2^T)` sharing one exponent `T` ([`fold_layer_norm`]):
//!    `out_i = clamp(((q_i·G_i + B_i + 2^(T−1)) >> T) + out_zp, −128, 127)` (the sum saturating
//!    in i64).
//!
//! Bounds: `width <= 2^16` keeps `|c_i| < 2^24`, `V < 2^61` and `c_i·R < 2^56`; `|q_i| <=
//! sqrt(n)·2^16 <= 2^24` and `|G_i| <= 2^30` keep `q_i·G_i < 2^54`. Every operation is exact
//! except the three documented roundings (isqrt's floor, `R`'s floor, the two shifts), each
//! below 2^-30 relative, plus the final rounding to the output step.

use crate::error::{check_len, Buffer, QuantError, ShapeError};
use crate::num::isqrt::isqrt_u64;
use crate::num::quant::QuantParams;

/// The largest row length of the integer layer norm (see the module's bounds).
pub const LAYER_NORM_S8_MAX_WIDTH: usize = 1 << 16;

/// Largest `eps_steps`: keeps `D = V + eps_steps` below 2^62.
const EPS_STEPS_MAX: u64 = 1 << 61;

/// Fractional bits of the normalised value `x̂` (step 4 of the module docs).
const XHAT_BITS: u32 = 16;

/// Largest magnitude of a folded gamma multiplier `G_i`.
const G_MAX: f64 = (1u64 << 30) as f64;
/// Largest magnitude of a folded beta offset `B_i` (headroom for the sum with `q_i·G_i`).
const B_MAX: f64 = (1u64 << 61) as f64;

/// The per-row constants of an integer layer norm ([`layer_norm_s8`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerNormS8Args<'a> {
    /// Row length `n`, in `1..=LAYER_NORM_S8_MAX_WIDTH`.
    pub width: usize,
    /// `eps` in squared input steps, times `n²` ([`layer_norm_eps_steps`]).
    pub eps_steps: u64,
    /// Folded gamma `G_i`, `[width]`.
    pub multiplier: &'a [i32],
    /// Folded beta `B_i`, `[width]`.
    pub offset: &'a [i64],
    /// The common exponent `T` of `multiplier` and `offset`, in `1..=62`.
    pub shift: u32,
    /// Zero point of the output.
    pub output_zero_point: i32,
}

/// `round(n²·eps / input_scale²)`, capped at 2^61: the `eps` of step 2 of the module docs.
///
/// # Errors
/// [`QuantError::InvalidScale`] if `input_scale` is not finite and positive,
/// [`QuantError::InvalidRange`] if `eps` is negative, NaN or infinite.
pub fn layer_norm_eps_steps(width: usize, eps: f32, input_scale: f32) -> Result<u64, QuantError> {
    if !(input_scale.is_finite() && input_scale > 0.0) {
        return Err(QuantError::InvalidScale);
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(QuantError::InvalidRange);
    }
    let n = width as f64;
    let s = f64::from(input_scale);
    let steps = libm::round(n * n * f64::from(eps) / (s * s));
    // `as` saturates; the cap keeps D below 2^62.
    Ok((steps as u64).min(EPS_STEPS_MAX))
}

/// Folds `gamma` and `beta` (f32, `[width]`) for an output quantized with `output` into the
/// multipliers `G_i` and offsets `B_i` of step 5 of the module docs; returns their exponent `T`.
///
/// `T = 16 + g` with `g` the largest integer in `-15..=46` such that `max |gamma| / out_scale ·
/// 2^g <= 2^30` and `max |beta| / out_scale · 2^T <= 2^61`: `G` keeps about 30 significant bits
/// of the largest gamma. Values beyond those limits at `g = -15` (gains of 2^45 output steps)
/// saturate.
///
/// # Shapes
/// `gamma`, `beta`, `multiplier`, `offset`: `[width]`, all the same length.
///
/// # Errors
/// [`ShapeError::Length`] (`Bias` for `beta`, `Requant` for `multiplier` and `offset`) for a
/// length differing from `gamma`'s, [`ShapeError::Dimension`] for an empty `gamma`;
/// [`QuantError::InvalidRange`] for a NaN or infinite gamma or beta, and the errors of
/// [`QuantParams::new`] for `output`. Nothing is written on error.
pub fn fold_layer_norm(
    gamma: &[f32],
    beta: &[f32],
    output: QuantParams,
    multiplier: &mut [i32],
    offset: &mut [i64],
) -> Result<u32, crate::error::Error> {
    if gamma.is_empty() {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Bias, gamma.len(), beta.len())?;
    check_len(Buffer::Requant, gamma.len(), multiplier.len())?;
    check_len(Buffer::Requant, gamma.len(), offset.len())?;
    QuantParams::new(output.scale, output.zero_point)?;
    if gamma.iter().chain(beta).any(|v| !v.is_finite()) {
        return Err(QuantError::InvalidRange.into());
    }
    let inv = 1.0 / f64::from(output.scale);
    let max_gamma = gamma
        .iter()
        .fold(0.0f64, |m, &g| m.max(libm::fabs(f64::from(g)) * inv));
    let max_beta = beta
        .iter()
        .fold(0.0f64, |m, &b| m.max(libm::fabs(f64::from(b)) * inv));
    let mut g: i32 = 46;
    // Both folded tensors must keep their headroom: |G| <= 2^30 and |B| <= 2^61.
    while g > -15
        && (max_gamma * libm::exp2(f64::from(g)) > G_MAX
            || max_beta * libm::exp2(f64::from(g + XHAT_BITS as i32)) > B_MAX)
    {
        g -= 1;
    }
    let t = (XHAT_BITS as i32 + g) as u32;
    let gain = libm::exp2(f64::from(g));
    let offset_gain = libm::exp2(f64::from(t as i32));
    for ((m, o), (&ga, &be)) in multiplier
        .iter_mut()
        .zip(offset.iter_mut())
        .zip(gamma.iter().zip(beta))
    {
        // `as` saturates: only a gamma beyond 2^30 output steps per unit (g = -15) can clip.
        *m = libm::round(f64::from(ga) * inv * gain) as i32;
        *o = libm::round(f64::from(be) * inv * offset_gain) as i64;
    }
    Ok(t)
}

/// `(x + 2^(s-1)) >> s` for `s` in `1..=62`: division by `2^s`, rounding half up.
#[inline]
fn round_shift(x: i64, s: u32) -> i64 {
    x.saturating_add(1i64 << (s - 1)) >> s
}

/// Integer layer norm over rows of `args.width` int8 values (module docs).
///
/// # Shapes
/// `input`, `output`: `[rows, width]`, row-major; `rows` may be 0.
///
/// # Errors
/// [`ShapeError::Dimension`] if `width` is 0 or above [`LAYER_NORM_S8_MAX_WIDTH`] or `shift` is
/// outside `1..=62`; [`ShapeError::Length`] naming `Requant` (multiplier or offset not `[width]`),
/// `Input` (not a multiple of `width`) or `Output` (not the input's length). Nothing is written
/// on error.
pub fn layer_norm_s8(
    args: &LayerNormS8Args,
    input: &[i8],
    output: &mut [i8],
) -> Result<(), ShapeError> {
    let n = args.width;
    if n == 0 || n > LAYER_NORM_S8_MAX_WIDTH || !(1..=62).contains(&args.shift) {
        return Err(ShapeError::Dimension);
    }
    check_len(Buffer::Requant, n, args.multiplier.len())?;
    check_len(Buffer::Requant, n, args.offset.len())?;
    check_len(Buffer::Input, input.len() - input.len() % n, input.len())?;
    check_len(Buffer::Output, input.len(), output.len())?;
    let eps = args.eps_steps.min(EPS_STEPS_MAX);
    let t = args.shift;
    for (row, out) in input.chunks_exact(n).zip(output.chunks_exact_mut(n)) {
        let (sum, sum_sq) = row.iter().fold((0i64, 0i64), |(s, s2), &x| {
            let x = i64::from(x);
            (s + x, s2 + x * x)
        });
        let n64 = n as i64;
        // n·S2 − S² = Σ_i Σ_j (x_i − x_j)² / 2 >= 0, below 2^61 for n <= 2^16.
        let v = (n64 * sum_sq - sum * sum) as u64;
        let d = v + eps;
        // (R, s) of steps 3-4; for D = 0 every x̂ is 0 (R = 0).
        let (r, s) = if d == 0 {
            (0i64, XHAT_BITS)
        } else {
            let k = (d.leading_zeros() - 2) / 2;
            let root = isqrt_u64(d << (2 * k));
            // root >= 2^30, so the quotient is at most 2^32.
            (((1u64 << 62) / root.max(1)) as i64, 46 - k)
        };
        for (((o, &x), &g), &b) in out
            .iter_mut()
            .zip(row)
            .zip(args.multiplier)
            .zip(args.offset)
        {
            let c = n64 * i64::from(x) - sum;
            let q = round_shift(c * r, s);
            let acc = (q * i64::from(g)).saturating_add(b);
            let y = round_shift(acc, t).saturating_add(i64::from(args.output_zero_point));
            *o = y.clamp(i64::from(i8::MIN), i64::from(i8::MAX)) as i8;
        }
    }
    Ok(())
}
