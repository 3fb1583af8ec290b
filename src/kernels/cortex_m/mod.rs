//! Fast int8 dense and convolution kernels for Cortex-M, and the portable loop RISC-V uses.
//!
//! Both kernels reduce to dot products of an input segment with four rows of weights at a time
//! (register blocking: every input value loaded is used four times). A micro-kernel ([`Dot`])
//! computes those; the drivers ([`dense`], [`conv`]) walk the shapes, start each output from its
//! bias and requantize it as `QuantArgsS8::output` does, in 32-bit steps ([`requant`]).
//!
//! | target | micro-kernel | per 4 inputs × 4 outputs |
//! |---|---|---|
//! | ARMv7E-M (`thumbv7em`: M4, M7), cfg `tinytune_dsp` | [`dsp`]: `SXTAB16`/`SXTB16` widen to 16-bit pairs, `SMLAD` does two MACs | 23 instructions, loop unrolled twice |
//! | ARMv6-M (`thumbv6m`: M0, M0+), cfg `tinytune_armv6m` | [`v6m`]: `LDRSB`/`MULS`, the four accumulators in high registers | 64 instructions |
//! | others (RISC-V) | [`portable`]: plain Rust | 80 instructions on RV32 |
//!
//! # Bit-exactness
//!
//! The generic kernels compute `bias + Σ (x + input_offset) · w` with wrapping `i32`
//! arithmetic, that is modulo 2^32. The micro-kernels add the same terms modulo 2^32, in another
//! order (addition modulo 2^32 is associative and commutative, so the order does not matter):
//!
//! - `dsp` adds the offset to the inputs while widening them (`SXTAB16`, 16-bit lanes), exact
//!   when `x + input_offset` fits in `i16` for every int8 `x`, that is for offsets in
//!   `-32640..=32640` (in-spec offsets are `-127..=128`); `SMLAD` multiplies 16 × 16 bits exactly
//!   and adds modulo 2^32. For other offsets the dense driver runs the micro-kernel with offset 0
//!   and adds `offset · Σ w` per output (equal modulo 2^32); the convolution takes `generic`.
//! - `v6m` and `portable` add the offset in `i32` (wrapping), like `generic`.
//! - The convolution skips taps in the padding, as `generic` does, or (small filters, gathered
//!   into a buffer) fills them with the input zero point, whose `x + input_offset` is 0, so
//!   their terms are 0.
//! - The output stage ([`requant`]) is `Requantizer::apply` rearranged, equal for every input.
//!
//! The on-target suite `fast_dense_conv` (boards/qemu-m4, qemu-m0, qemu-riscv) compares them
//! with `generic` on the device; the host unit tests compare `portable` and the output stage.

pub(crate) mod conv;
pub(crate) mod dense;
#[cfg(tinytune_dsp)]
pub(crate) mod dsp;
// ARMv6-M needs no portable fallback.
#[cfg(any(not(tinytune_armv6m), test))]
pub(crate) mod portable;
pub(crate) mod requant;
#[cfg(tinytune_armv6m)]
pub(crate) mod v6m;

/// The micro-kernel of the target.
#[cfg(tinytune_dsp)]
pub(crate) type Active = dsp::Dsp;
/// The micro-kernel of the target.
#[cfg(tinytune_armv6m)]
pub(crate) type Active = v6m::V6m;
/// The micro-kernel of the target.
#[cfg(not(any(tinytune_dsp, tinytune_armv6m)))]
pub(crate) type Active = portable::Portable;

/// An input segment and four rows of weights, `stride` elements apart, of the same length.
///
/// Invariant, checked by [`new`](Self::new): `w.len() >= 3 * stride + x.len()`, so row `r` is
/// `w[r * stride..r * stride + x.len()]` for `r < 4`. The assembly micro-kernels read through
/// raw pointers on the strength of it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block4<'a> {
    x: &'a [i8],
    w: &'a [i8],
    stride: usize,
}

impl<'a> Block4<'a> {
    /// `x` and the rows of `w` starting at `0`, `stride`, `2 * stride`, `3 * stride`, or `None`
    /// if `w` is too short for them.
    #[inline(always)]
    pub(crate) fn new(x: &'a [i8], w: &'a [i8], stride: usize) -> Option<Self> {
        let needed = stride.checked_mul(3)?.checked_add(x.len())?;
        (w.len() >= needed).then_some(Block4 { x, w, stride })
    }

    /// Row `r` from its start (it may run past `x.len()`; callers zip it with `x`).
    #[cfg(any(not(tinytune_armv6m), test))]
    #[inline(always)]
    fn row(&self, r: usize) -> &'a [i8] {
        r.checked_mul(self.stride)
            .and_then(|start| self.w.get(start..))
            .unwrap_or(&[])
    }
}

/// `count` runs of `len` input values, `x_pitch` apart, and the four rows of weights they
/// multiply: run `k` starts at `x[k * x_pitch]` and meets row `r` at `w[k * w_pitch + r * stride]`.
/// A convolution's window is such a set of runs (one per filter row), so one micro-kernel call
/// covers it.
///
/// Invariant, checked by [`new`](Self::new): `count >= 1`,
/// `(count - 1) * x_pitch + len <= x.len()` and
/// `(count - 1) * w_pitch + 3 * stride + len <= w.len()`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Runs4<'a> {
    x: &'a [i8],
    w: &'a [i8],
    stride: usize,
    len: usize,
    count: usize,
    x_pitch: usize,
    w_pitch: usize,
    /// `(count - 1) * w_pitch + 3 * stride + len`, the least `w.len()`.
    w_needed: usize,
}

impl<'a> Runs4<'a> {
    /// The runs, or `None` if `count` is 0 or `x` or `w` is too short for them.
    #[inline(always)]
    pub(crate) fn new(
        x: &'a [i8],
        w: &'a [i8],
        stride: usize,
        len: usize,
        count: usize,
        x_pitch: usize,
        w_pitch: usize,
    ) -> Option<Self> {
        let last = count.checked_sub(1)?;
        let x_end = last.checked_mul(x_pitch)?.checked_add(len)?;
        let w_end = last
            .checked_mul(w_pitch)?
            .checked_add(stride.checked_mul(3)?)?
            .checked_add(len)?;
        (x.len() >= x_end && w.len() >= w_end).then_some(Runs4 {
            x,
            w,
            stride,
            len,
            count,
            x_pitch,
            w_pitch,
            w_needed: w_end,
        })
    }

    /// The same runs against the weights `by` further on (the next block of filters), or
    /// `None` if `w` is too short for them.
    #[inline(always)]
    pub(crate) fn advance(self, by: usize) -> Option<Self> {
        let w = self.w.get(by..)?;
        (w.len() >= self.w_needed).then_some(Runs4 { w, ..self })
    }

    /// Run `k` (`k < count`) as a block.
    #[inline(always)]
    fn block(&self, k: usize) -> Option<Block4<'a>> {
        let x = self
            .x
            .get(k.checked_mul(self.x_pitch)?..)?
            .get(..self.len)?;
        let w = self.w.get(k.checked_mul(self.w_pitch)?..)?;
        Block4::new(x, w, self.stride)
    }
}

/// A dot-product micro-kernel. Every sum is `i32` with wrapping arithmetic, as in `generic`.
pub(crate) trait Dot {
    /// Whether the micro-kernel is exact for this input offset (otherwise the dense driver
    /// splits the offset off and the convolution driver uses `generic`).
    fn accepts(input_offset: i32) -> bool;

    /// `acc[r] + Σ_i (x[i] + input_offset) · row_r[i]` for the four rows of the block.
    fn dot4(acc: [i32; 4], block: Block4<'_>, input_offset: i32) -> [i32; 4];

    /// `acc + Σ_i (x[i] + input_offset) · w[i]` over the shorter of `x` and `w`.
    fn dot1(acc: i32, x: &[i8], w: &[i8], input_offset: i32) -> i32;

    /// [`dot4`](Self::dot4) over every run, in order.
    #[inline(always)]
    fn dot4_runs(acc: [i32; 4], runs: Runs4<'_>, input_offset: i32) -> [i32; 4] {
        let mut acc = acc;
        for k in 0..runs.count {
            if let Some(block) = runs.block(k) {
                acc = Self::dot4(acc, block, input_offset);
            }
        }
        acc
    }
}

/// The bias of outputs `o..o + 4`, zeros without a bias (the slices were checked, so the
/// indices are in range).
#[inline(always)]
fn bias4(bias: Option<&[i32]>, o: usize) -> [i32; 4] {
    bias.and_then(|b| b.get(o..))
        .and_then(|b| b.get(..4))
        .and_then(|b| <[i32; 4]>::try_from(b).ok())
        .unwrap_or([0; 4])
}

/// The bias of output `o`, 0 without a bias.
#[inline(always)]
fn bias1(bias: Option<&[i32]>, o: usize) -> i32 {
    bias.and_then(|b| b.get(o)).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests;
