//! The output stage of the fast kernels: [`Requantizer::apply`], the output offset and the
//! clamp, in 32-bit arithmetic.
//!
//! `Requantizer::apply` is written for clarity in 64-bit arithmetic (a saturating shift, the
//! doubling high multiply with its sign-dependent nudge, the rounding division); on a 32-bit
//! core that costs about 70 instructions per output, as much as 50 multiply-accumulates of the
//! dense loop. The same function in 32-bit steps, with the shifts and mask of a requantizer
//! computed once per call (per-tensor) or per output (per-channel), is bit-exact:
//!
//! - the doubling high multiply `(a·b + nudge) / 2^31` (division truncating, `nudge` is `2^30`
//!   for `a·b >= 0` and `1 - 2^30` otherwise) equals `(a·b + 2^30) >> 31` (an arithmetic shift,
//!   rounding down): for `a·b < 0`, truncation rounds `v = a·b + 1 - 2^30 < 0` up, and
//!   `ceil(v / 2^31) = floor((v + 2^31 - 1) / 2^31)`. Only `i32::MIN · i32::MIN` saturates;
//! - the rounding division by `2^e` keeps its mask and threshold, which fit in 32 bits for
//!   `e <= 31`, and its increment cannot overflow (for `e = 0` the remainder is 0);
//! - the saturating left shift checks that shifting back restores the value.

use crate::kernels::{ActivationS8, QuantArgsS8};
use crate::num::quant::Requantizer;

/// A requantizer with its shifts and rounding mask precomputed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requant {
    multiplier: i32,
    /// Left shift, `0..=32` (32 saturates every value but 0).
    left: u32,
    /// Rounding right shift, `0..=31`.
    right: u32,
    /// `2^right - 1`.
    mask: u32,
}

impl Requant {
    /// Prepares `r`.
    #[inline(always)]
    pub(crate) fn new(r: Requantizer) -> Self {
        // The clamps of `Requantizer::apply`: the left shift saturates from 32 on, the rounding
        // exponent is clamped to 0..=31; a positive shift has no rounding exponent and a
        // negative one no left shift.
        let left = r.shift.clamp(0, 32) as u32;
        let right = r.shift.saturating_neg().clamp(0, 31) as u32;
        Requant {
            multiplier: r.multiplier,
            left,
            right,
            mask: (1u32 << right) - 1,
        }
    }

    /// `Requantizer::apply(x)`, bit for bit.
    #[inline(always)]
    pub(crate) fn apply(self, x: i32) -> i32 {
        let x = if self.left == 0 {
            x
        } else {
            saturating_shl(x, self.left)
        };
        let high = doubling_high_mul(x, self.multiplier);
        let remainder = high as u32 & self.mask;
        let threshold = (self.mask >> 1) + u32::from(high < 0);
        (high >> self.right) + i32::from(remainder > threshold)
    }
}

/// `Requantizer::apply(x)` for a requantizer used once (per-channel): without a left shift,
/// the usual case, the rounding mask is derived on the way instead of prepared.
#[inline(always)]
pub(super) fn apply_unprepared(r: Requantizer, x: i32) -> i32 {
    if r.shift > 0 {
        return Requant::new(r).apply(x);
    }
    let high = doubling_high_mul(x, r.multiplier);
    // `shift <= 0`: the exponent is `-shift`, clamped to 31 as `Requantizer::apply` does.
    let right = r.shift.saturating_neg().min(31) as u32;
    let mask = !(u32::MAX << right);
    let remainder = high as u32 & mask;
    let threshold = (mask >> 1) + u32::from(high < 0);
    (high >> right) + i32::from(remainder > threshold)
}

/// `x · 2^s` saturated to the `i32` range, for `s` in `1..=32`.
#[inline(always)]
fn saturating_shl(x: i32, s: u32) -> i32 {
    let saturated = if x < 0 { i32::MIN } else { i32::MAX };
    if s >= 32 {
        return if x == 0 { 0 } else { saturated };
    }
    let y = x.wrapping_shl(s);
    if y >> s == x {
        y
    } else {
        saturated
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`, as a 64-bit product, one add and a shift.
#[inline(always)]
fn doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// The output stage of a call: requantization (one requantizer prepared once, or one per
/// channel prepared per output), the output offset and the clamp of
/// [`QuantArgsS8::output`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output<'a> {
    /// The requantizer of every channel, when there is one for the tensor.
    single: Option<Requant>,
    per_channel: &'a [Requantizer],
    output_offset: i32,
    act: ActivationS8,
}

impl<'a> Output<'a> {
    /// The output stage of `q` (whose requantizers were checked).
    #[inline(always)]
    pub(crate) fn new(q: &QuantArgsS8<'a>) -> Self {
        let single = match q.requant {
            [r] => Some(Requant::new(*r)),
            _ => None,
        };
        Output {
            single,
            per_channel: q.requant,
            output_offset: q.output_offset,
            act: q.act,
        }
    }

    /// `QuantArgsS8::output(acc, channel)`, bit for bit.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32, channel: usize) -> i8 {
        let y = match self.single {
            Some(r) => r.apply(acc),
            None => apply_unprepared(
                self.per_channel
                    .get(channel)
                    .copied()
                    .unwrap_or(Requantizer::ZERO),
                acc,
            ),
        };
        self.act.clamp(y.saturating_add(self.output_offset))
    }
}
