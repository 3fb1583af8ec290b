//! Data augmentation from an injected [`RngCore`]: additive Gaussian noise, random gain, random
//! shifts of 1-D windows and random crops of padded 2-D images (random translation).
//!
//! Noise and gain work in place; shifts and crops read one buffer and write another. Each random
//! function has a deterministic twin taking the drawn offset ([`shift_1d`], [`crop_padded_2d`]),
//! and returns what it drew. NaN in the data stays NaN (it is moved or scaled like any value).

use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::rng::{normal_f32, uniform_range_f32, RngCore};

use super::sample::uniform_below;

/// Adds independent Gaussian noise to every value in place: `x ← x + σ · z`, `z ~ N(0, 1)`
/// (from [`normal_f32`], so `|z| ≤ 5.8`).
///
/// # Errors
/// [`Error::Config`] if `sigma` is negative or not finite; nothing changes then.
pub fn gaussian_noise<R: RngCore + ?Sized>(
    rng: &mut R,
    data: &mut [f32],
    sigma: f32,
) -> Result<(), Error> {
    if !sigma.is_finite() || sigma < 0.0 {
        return Err(Error::Config);
    }
    for x in data.iter_mut() {
        *x += sigma * normal_f32(rng);
    }
    Ok(())
}

/// Multiplies every value of `data` (one sample, or any block that should share a factor) by one
/// random factor drawn uniformly from `[lo, hi]` (`lo + (hi − lo) · u` with `u` uniform in `[0, 1)`,
/// kept `≤ hi` under rounding; exactly `lo` if `lo == hi`), and returns it.
///
/// # Errors
/// [`Error::Config`] if `lo` or `hi` is not finite or `lo > hi`; nothing changes then.
pub fn random_gain<R: RngCore + ?Sized>(
    rng: &mut R,
    data: &mut [f32],
    lo: f32,
    hi: f32,
) -> Result<f32, Error> {
    if !lo.is_finite() || !hi.is_finite() || lo > hi {
        return Err(Error::Config);
    }
    let gain = uniform_range_f32(rng, lo, hi).min(hi);
    for x in data.iter_mut() {
        *x *= gain;
    }
    Ok(gain)
}

/// What fills the positions a shift uncovers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// Zeros.
    Zero,
    /// The nearest edge value of the window (repeat the first or last time step).
    Edge,
}

/// Shifts a `[len, channels]` window in time by `shift` steps: `output[t] = input[t − shift]`
/// (positive shifts move the signal later), the uncovered steps filled per `padding`. A shift of
/// `len` or more leaves only padding.
///
/// # Shapes
/// `input`, `output`: `[len, channels]`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `len` or `channels` is 0 or their product overflows;
/// [`ShapeError::Length`] (`Input`/`Output`) for wrong buffer lengths.
pub fn shift_1d(
    input: &[f32],
    len: usize,
    channels: usize,
    shift: isize,
    padding: Padding,
    output: &mut [f32],
) -> Result<(), Error> {
    let size = nonzero_product(&[len, channels])?;
    check_len(Buffer::Input, size, input.len())?;
    check_len(Buffer::Output, size, output.len())?;
    let last = len - 1;
    for (t, out_step) in output.chunks_exact_mut(channels).enumerate() {
        // Source step as a signed offset; saturating so huge shifts only mean "all padding".
        let src = (t as isize).saturating_sub(shift);
        let src = match (padding, usize::try_from(src)) {
            (_, Ok(s)) if s <= last => Some(s),
            (Padding::Edge, Ok(_)) => Some(last),
            (Padding::Edge, Err(_)) => Some(0),
            (Padding::Zero, _) => None,
        };
        match src.and_then(|s| input.get(s * channels..(s + 1) * channels)) {
            Some(src_step) => out_step.copy_from_slice(src_step),
            None => out_step.fill(0.0),
        }
    }
    Ok(())
}

/// [`shift_1d`] by a shift drawn uniformly from `−max_shift..=max_shift`; returns the shift.
///
/// # Shapes
/// `input`, `output`: `[len, channels]`.
///
/// # Errors
/// As [`shift_1d`]; [`Error::Config`] if `max_shift > isize::MAX / 2`. No draw is made and
/// nothing is written on error.
pub fn random_shift_1d<R: RngCore + ?Sized>(
    rng: &mut R,
    input: &[f32],
    len: usize,
    channels: usize,
    max_shift: usize,
    padding: Padding,
    output: &mut [f32],
) -> Result<isize, Error> {
    let size = nonzero_product(&[len, channels])?;
    check_len(Buffer::Input, size, input.len())?;
    check_len(Buffer::Output, size, output.len())?;
    if max_shift > isize::MAX as usize / 2 {
        return Err(Error::Config);
    }
    let shift = uniform_below(rng, 2 * max_shift + 1) as isize - max_shift as isize;
    shift_1d(input, len, channels, shift, padding, output)?;
    Ok(shift)
}

/// Pads a `[h, w, c]` image with `pad` zeros on each side and crops an `h × w` window at
/// `(top, left)` of the padded image: `output[y][x] = input[y + top − pad][x + left − pad]`, or 0
/// outside the image. `(pad, pad)` is the identity; other offsets translate the image by up to
/// `pad` pixels each way.
///
/// # Shapes
/// `input`, `output`: `[h, w, c]`; `top`, `left` in `0..=2·pad`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `h`, `w` or `c` is 0 or the size overflows;
/// [`ShapeError::Length`] (`Input`/`Output`) for wrong buffer lengths; [`Error::Config`] if
/// `top` or `left` exceeds `2 · pad` (or that overflows).
#[allow(clippy::too_many_arguments)] // the image shape, the padding and the offset
pub fn crop_padded_2d(
    input: &[f32],
    h: usize,
    w: usize,
    c: usize,
    pad: usize,
    top: usize,
    left: usize,
    output: &mut [f32],
) -> Result<(), Error> {
    let size = nonzero_product(&[h, w, c])?;
    check_len(Buffer::Input, size, input.len())?;
    check_len(Buffer::Output, size, output.len())?;
    let span = pad.checked_mul(2).ok_or(Error::Config)?;
    if top > span || left > span {
        return Err(Error::Config);
    }
    let row_len = w * c;
    for (y, out_row) in output.chunks_exact_mut(row_len).enumerate() {
        // Source row index; None above or below the image.
        let src_row = (y + top)
            .checked_sub(pad)
            .filter(|&sy| sy < h)
            .and_then(|sy| input.get(sy * row_len..(sy + 1) * row_len));
        for (x, out_px) in out_row.chunks_exact_mut(c).enumerate() {
            let src_px = (x + left)
                .checked_sub(pad)
                .filter(|&sx| sx < w)
                .and_then(|sx| src_row.and_then(|row| row.get(sx * c..(sx + 1) * c)));
            match src_px {
                Some(px) => out_px.copy_from_slice(px),
                None => out_px.fill(0.0),
            }
        }
    }
    Ok(())
}

/// Random crop with padding (random translation): [`crop_padded_2d`] at `(top, left)` drawn
/// uniformly and independently from `0..=2·pad`; returns `(top, left)`.
///
/// # Shapes
/// `input`, `output`: `[h, w, c]`.
///
/// # Errors
/// As [`crop_padded_2d`]; [`Error::Config`] if `2 · pad + 1` overflows. No draw is made and
/// nothing is written on error.
pub fn random_crop_2d<R: RngCore + ?Sized>(
    rng: &mut R,
    input: &[f32],
    h: usize,
    w: usize,
    c: usize,
    pad: usize,
    output: &mut [f32],
) -> Result<(usize, usize), Error> {
    let size = nonzero_product(&[h, w, c])?;
    check_len(Buffer::Input, size, input.len())?;
    check_len(Buffer::Output, size, output.len())?;
    let choices = pad
        .checked_mul(2)
        .and_then(|s| s.checked_add(1))
        .ok_or(Error::Config)?;
    let top = uniform_below(rng, choices);
    let left = uniform_below(rng, choices);
    crop_padded_2d(input, h, w, c, pad, top, left, output)?;
    Ok((top, left))
}

/// Product of dimensions that must all be non-zero.
fn nonzero_product(dims: &[usize]) -> Result<usize, ShapeError> {
    if dims.contains(&0) {
        return Err(ShapeError::Dimension);
    }
    product(dims)
}
