//! The inner loop of [`dot_rows_f32`](super::dot_rows_f32) for hard-float Arm (VFPv2 and later:
//! Cortex-M4F, M7, M33 with FPU, Cortex-A/R).
//!
//! Compiled Rust cannot reach the instruction count this loop needs: single-precision loads
//! with an immediate offset have no post-increment form, and the register allocator rarely
//! gives consecutive registers that would merge into one multi-register load. The assembly
//! block loads four inputs and four weights of each of the four rows with five `vldmia` (base
//! written back) and does the sixteen products with `vmla.f32`, a multiply rounded to f32 then
//! an add rounded to f32 (not fused): each accumulator receives exactly the operations of the
//! portable loop, in the same order, so the results are the same bits.

use super::ROWS;

/// Inputs per pass of the loop: four per row, in four consecutive registers.
const STEP: usize = 4;

/// Adds `sum_{i < n} x[i] * w[r][i]` to `acc[r]` for each row `r`, in increasing `i`, with `n`
/// the largest multiple of [`STEP`] not above the length of `x`; returns `n` (the caller adds
/// the terms from `n` on). Does nothing and returns 0 if a row is shorter than `n`.
pub(super) fn dot_rows_prefix(x: &[f32], w: [&[f32]; ROWS], acc: &mut [f32; ROWS]) -> usize {
    let [w0, w1, w2, w3] = w;
    let passes = x.len() / STEP;
    let n = passes * STEP;
    let (Some(x), Some(w0), Some(w1), Some(w2), Some(w3)) = (
        x.get(..n),
        w0.get(..n),
        w1.get(..n),
        w2.get(..n),
        w3.get(..n),
    ) else {
        return 0;
    };
    if passes == 0 {
        return 0;
    }
    run(passes, x, [w0, w1, w2, w3], acc);
    n
}

/// The assembly loop: `passes` passes over `STEP` inputs, every slice holding exactly
/// `passes * STEP` values and `passes >= 1` (checked by [`dot_rows_prefix`], the only caller).
#[inline(always)]
#[allow(unsafe_code)]
fn run(passes: usize, x: &[f32], w: [&[f32]; ROWS], acc: &mut [f32; ROWS]) {
    let [w0, w1, w2, w3] = w;
    // SAFETY: the block reads `passes * STEP` f32 from each of `x`, `w0`..`w3`, which hold
    // exactly that many (`dot_rows_prefix` cut them to that length), and reads then writes the
    // four f32 of `acc`, a unique reference; the loop runs `passes >= 1` times, so the
    // decrement never wraps. The pointer registers are marked as clobbered (`=> _`), as is the
    // counter; `subs` changes the flags, which `asm!` assumes clobbered without
    // `preserves_flags`. The block uses s0..s23, which the register classes of this target
    // cannot name as clobbers: it saves them on the stack (96 bytes, pushed and popped inside
    // the block, so the stack pointer is restored) and restores them before it ends.
    unsafe {
        core::arch::asm!(
            "vpush {{s0-s23}}",
            "vldmia {acc}, {{s20-s23}}",
            "2:",
            "vldmia {x}!, {{s0-s3}}",
            "vldmia {w0}!, {{s4-s7}}",
            "vldmia {w1}!, {{s8-s11}}",
            "vmla.f32 s20, s0, s4",
            "vldmia {w2}!, {{s12-s15}}",
            "vmla.f32 s21, s0, s8",
            "vldmia {w3}!, {{s16-s19}}",
            "vmla.f32 s22, s0, s12",
            "vmla.f32 s23, s0, s16",
            "vmla.f32 s20, s1, s5",
            "vmla.f32 s21, s1, s9",
            "vmla.f32 s22, s1, s13",
            "vmla.f32 s23, s1, s17",
            "vmla.f32 s20, s2, s6",
            "vmla.f32 s21, s2, s10",
            "vmla.f32 s22, s2, s14",
            "vmla.f32 s23, s2, s18",
            "vmla.f32 s20, s3, s7",
            "vmla.f32 s21, s3, s11",
            "vmla.f32 s22, s3, s15",
            "vmla.f32 s23, s3, s19",
            "subs {passes}, #1",
            "bne 2b",
            "vstmia {acc}, {{s20-s23}}",
            "vpop {{s0-s23}}",
            acc = in(reg) acc.as_mut_ptr(),
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w0.as_ptr() => _,
            w1 = inout(reg) w1.as_ptr() => _,
            w2 = inout(reg) w2.as_ptr() => _,
            w3 = inout(reg) w3.as_ptr() => _,
            passes = inout(reg) passes => _,
        );
    }
}
