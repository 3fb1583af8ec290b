//! What one output channel of the plane-based depthwise convolution needs: its filter taps, the
//! accumulator's starting value with the input offset folded in, and how its accumulator is
//! requantized.

use crate::kernels::QuantArgsS8;
use crate::num::quant::Requantizer;

/// Largest filter (`kernel_h * kernel_w` taps) the fast path takes; larger ones use the
/// reference kernel.
pub(super) const MAX_TAPS: usize = 64;

/// The short requantization: valid when the exact accumulator `acc` satisfies
/// `|acc| < 2^30`, the requantizer's shift is negative (a right shift `e` in `1..=31`) and its
/// multiplier `m` is not negative.
///
/// The accumulator arrives doubled (`a = 2 acc`, exact under the bound), so TFLite's
/// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc, m), e) + output_offset` is
/// `(y + fold + (a >> 31)) >> e` with `y = floor((a m + 2^31) / 2^32)` (the rounded high word,
/// Armv7E-M's `SMMULR`, or `SMMLAR` with `fold` added) and `fold = 2^(e-1) +
/// output_offset * 2^e`:
///
/// - the doubling high multiply cannot saturate (`acc` is not `i32::MIN`);
/// - the rounding division of `y` rounds half away from zero: it adds `2^(e-1)`, less one when
///   `y < 0`. With `m >= 0`, `y` has the sign of `a` or is 0, and for `y = 0` subtracting one
///   changes nothing (`2^(e-1) - 1 < 2^e`), so the sign of `a` serves;
/// - an integer added before a floor division by `2^e` comes out exactly `2^e` times smaller.
///
/// `fold` is bounded so that the sums cannot overflow (`|y| <= 2^30`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FastRequant {
    /// The requantizer's Q31 multiplier, `>= 0`.
    pub multiplier: i32,
    /// `2^(e-1) + output_offset * 2^e`, with `|fold| < 2^30 - 1`.
    pub fold: i32,
    /// The right shift `e`, in `1..=31`.
    pub shift: u32,
}

impl FastRequant {
    /// The requantized output (before the activation clamp) of a doubled accumulator.
    #[inline(always)]
    pub(crate) fn apply(self, doubled: i32) -> i32 {
        let y = ((doubled as i64 * self.multiplier as i64 + (1 << 31)) >> 32) as i32;
        (y + self.fold + (doubled >> 31)) >> self.shift
    }
}

/// How a channel's accumulators become outputs.
#[derive(Clone, Copy, Debug)]
pub(super) enum Requant {
    /// [`FastRequant`]; the channel's weights and starting value are doubled.
    Fast(FastRequant),
    /// The general requantizer and a saturating add of the output offset, as the reference.
    Exact(Requantizer),
}

/// One output channel: the accumulator's starting value and the requantization (its taps are
/// written to a buffer of the caller's).
#[derive(Clone, Copy, Debug)]
pub(super) struct Channel {
    /// `bias + input_offset * sum(weights)` (wrapping; doubled for [`Requant::Fast`]): the
    /// padding of the plane holds `-input_offset`, so every tap contributes `x * w` and this
    /// start turns the sum into `bias + sum((x + input_offset) * w)`.
    pub init: i32,
    /// The requantization.
    pub requant: Requant,
}

impl Channel {
    /// The parameters of output channel `oc` of `out_c`, with `taps.len()` filter taps stored
    /// `[taps, out_c]` in `weights` (lengths checked by the caller); writes the taps, in `ky`,
    /// `kx` order and doubled for [`Requant::Fast`], to `taps`.
    pub(super) fn new(
        q: &QuantArgsS8,
        weights: &[i8],
        bias: Option<&[i32]>,
        oc: usize,
        out_c: usize,
        taps: &mut [i32],
    ) -> Channel {
        let mut sum = 0i32;
        let mut sum_abs = 0i64;
        let column = weights.iter().skip(oc).step_by(out_c.max(1));
        for (slot, &x) in taps.iter_mut().zip(column) {
            *slot = x as i32;
            sum = sum.wrapping_add(x as i32);
            sum_abs += (x as i64).abs();
        }
        let bias = bias.and_then(|b| b.get(oc)).copied().unwrap_or(0);
        let init = bias.wrapping_add(q.input_offset.wrapping_mul(sum));
        let requant = if q.requant.len() == 1 {
            q.requant.first()
        } else {
            q.requant.get(oc)
        }
        .copied()
        .unwrap_or(Requantizer::ZERO);

        // The largest |acc| any input can give: every term (x + input_offset) * w with x an
        // int8 value (padding contributes 0).
        let offset = q.input_offset as i64;
        let max_abs_input = (offset - 128).abs().max((offset + 127).abs());
        let bound = (bias as i64).abs() + max_abs_input * sum_abs;
        match fast_requant(requant, q.output_offset).filter(|_| bound < 1 << 30) {
            Some(fast) => {
                for t in taps.iter_mut() {
                    *t *= 2;
                }
                Channel {
                    init: init.wrapping_mul(2),
                    requant: Requant::Fast(fast),
                }
            }
            None => Channel {
                init,
                requant: Requant::Exact(requant),
            },
        }
    }

    /// The exact requantized and clamped output of an accumulator.
    #[inline(always)]
    pub(super) fn output(&self, acc: i32, q: &QuantArgsS8) -> i8 {
        let out = match self.requant {
            Requant::Fast(f) => f.apply(acc),
            Requant::Exact(r) => r.apply(acc).saturating_add(q.output_offset),
        };
        q.act.clamp(out)
    }
}

/// The [`FastRequant`] of `r` and `output_offset` if the shift is a right shift and the folded
/// offset is small enough, else `None`.
fn fast_requant(r: Requantizer, output_offset: i32) -> Option<FastRequant> {
    if r.shift >= 0 || r.multiplier < 0 {
        return None;
    }
    // The reference's right shift: -shift, clamped to 31 by its rounding division.
    let shift = r.shift.saturating_neg().min(31) as u32;
    let fold = (1i64 << (shift - 1)) + ((output_offset as i64) << shift);
    // |y| <= 2^30 + 1 for |2 acc| < 2^31, so y + fold + (y >> 31) stays inside i32.
    if fold.abs() >= (1 << 30) - 1 {
        return None;
    }
    Some(FastRequant {
        multiplier: r.multiplier,
        fold: fold as i32,
        shift,
    })
}
