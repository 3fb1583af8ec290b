//! The ARMv7E-M micro-kernel: `SMLAD` multiplies two pairs of 16-bit lanes and adds both
//! products to an accumulator in one instruction.
//!
//! A word of four int8 values `[b3 b2 b1 b0]` widens into two words of 16-bit lanes:
//! `SXTB16 w` gives `[b2, b0]` and `SXTB16 w, ROR #8` gives `[b3, b1]`. The inputs are widened
//! the same way by `SXTAB16`, which also adds the input offset (held in both lanes of a
//! register), so `SMLAD` pairs input `i` with weight `i`. Per 4 inputs and 4 output rows: one
//! input load and two `SXTAB16`, then per row one load, two `SXTB16` and two `SMLAD`, 23
//! instructions for 16 MACs; the loop runs 8 inputs per iteration, so its 2 instructions of
//! overhead count once per 32 MACs. The last `len % 4` inputs go through the portable loop.
//!
//! The words are loaded with single `LDR`s, which ARMv7-M allows at any alignment, so rows of
//! any length work.

use core::arch::asm;

use super::portable::Portable;
use super::{Block4, Dot, Runs4};

/// The ARMv7E-M (DSP extension) micro-kernel.
pub(crate) struct Dsp;

/// The largest input offset magnitude for which `x + input_offset` fits in an `i16` lane for
/// every int8 `x`: `-32640 - 128 = -32768` and `32640 + 127 = 32767`.
const MAX_OFFSET: i32 = 32640;

/// The input offset in both 16-bit lanes (callers checked it fits, see [`MAX_OFFSET`]).
#[inline(always)]
fn offset_lanes(input_offset: i32) -> u32 {
    (input_offset as u32 & 0xFFFF).wrapping_mul(0x0001_0001)
}

/// One step of the four-row loop: 4 inputs × 4 rows. Registers: `r0` the input, `r1`/`r2` rows
/// 0 and 2 (rows 1 and 3 are read at `r3` = stride past them, before they advance), `r4` the
/// offset lanes, `r12`/`lr` the input's even/odd lanes, `r7`/`r6` the weight's, `r8`-`r11` the
/// accumulators of rows 0-3.
macro_rules! step4 {
    () => {
        concat!(
            "ldr lr, [r0], #4\n",
            "ldr r7, [r1, r3]\n",
            "sxtab16 r12, r4, lr\n",
            "sxtab16 lr, r4, lr, ror #8\n",
            "sxtb16 r6, r7, ror #8\n",
            "sxtb16 r7, r7\n",
            "smlad r9, r12, r7, r9\n",
            "smlad r9, lr, r6, r9\n",
            "ldr r7, [r1], #4\n",
            "sxtb16 r6, r7, ror #8\n",
            "sxtb16 r7, r7\n",
            "smlad r8, r12, r7, r8\n",
            "smlad r8, lr, r6, r8\n",
            "ldr r7, [r2, r3]\n",
            "sxtb16 r6, r7, ror #8\n",
            "sxtb16 r7, r7\n",
            "smlad r11, r12, r7, r11\n",
            "smlad r11, lr, r6, r11\n",
            "ldr r7, [r2], #4\n",
            "sxtb16 r6, r7, ror #8\n",
            "sxtb16 r7, r7\n",
            "smlad r10, r12, r7, r10\n",
            "smlad r10, lr, r6, r10\n",
        )
    };
}

/// `acc[r] + Σ_i (x[i] + input_offset) · row_r[i]` over the inputs from `from` on (the last
/// `len % 4`, at most three): a plain loop, cheaper than the portable kernel's set-up for so
/// few.
#[inline(always)]
fn tail4(acc: [i32; 4], block: Block4<'_>, from: usize, input_offset: i32) -> [i32; 4] {
    let mut acc = acc;
    for i in from..block.x.len() {
        let Some(&x) = block.x.get(i) else {
            break;
        };
        let x = (x as i32).wrapping_add(input_offset);
        let mut at = i;
        for a in acc.iter_mut() {
            if let Some(&w) = block.w.get(at) {
                *a = a.wrapping_add(x.wrapping_mul(w as i32));
            }
            at = at.wrapping_add(block.stride);
        }
    }
    acc
}

/// The loop counts of [`runs_asm`], read by the assembly through a pointer: it has no
/// register left for them.
#[repr(C)]
struct RunsArgs {
    /// Groups of 4 inputs per run, at least 1.
    groups: usize,
    /// From the end of a run to the start of the next, in the input.
    x_step: usize,
    /// From the end of a run to the start of the next, in the rows of weights.
    w_step: usize,
    /// Runs, at least 1.
    count: usize,
}

/// The first `4 * (x.len() / 4)` inputs of a block through the four-row loop: one run, with
/// no run loop around it (a dense layer's rows).
#[inline(always)]
#[allow(unsafe_code)]
fn block_asm(acc: [i32; 4], block: &Block4<'_>, off: u32) -> [i32; 4] {
    let groups = block.x.len() / 4;
    if groups == 0 {
        return acc;
    }
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    let w = block.w.as_ptr();
    // SAFETY: the loop reads `4 * groups <= x.len()` bytes from `x` and from each of the four
    // rows starting at `w`, `w + stride`, `w + 2 * stride`, `w + 3 * stride`; the `Block4`
    // invariant `w.len() >= 3 * stride + x.len()` puts them all inside `w`. Single `LDR`s may
    // be unaligned on ARMv7-M. Registers as in `runs_asm`; `r6` and `r7` are saved on the
    // stack and restored. Nothing else is written but the declared registers and the flags.
    unsafe {
        asm!(
            "push {{r6, r7}}",
            // An odd group first, then pairs.
            "lsrs r5, r5, #1",
            "bcc 2f",
            step4!(),
            "2:",
            "cmp r5, #0",
            "beq 4f",
            "3:",
            step4!(),
            step4!(),
            "subs r5, r5, #1",
            "bne 3b",
            "4:",
            "pop {{r6, r7}}",
            inout("r0") block.x.as_ptr() => _,
            inout("r1") w => _,
            inout("r2") w.wrapping_add(2 * block.stride) => _,
            in("r3") block.stride,
            in("r4") off,
            inout("r5") groups => _,
            inout("r8") a0,
            inout("r9") a1,
            inout("r10") a2,
            inout("r11") a3,
            out("r12") _,
            out("lr") _,
            options(pure, readonly),
        );
    }
    [a0, a1, a2, a3]
}

/// The first `4 * (len / 4)` inputs of every run through the four-row loop (none if
/// `len < 4`). The `Runs4` invariant puts everything the loop reads inside `x` and `w`.
#[inline(always)]
#[allow(unsafe_code)]
fn runs_asm(acc: [i32; 4], runs: &Runs4<'_>, off: u32) -> [i32; 4] {
    let groups = runs.len / 4;
    if groups == 0 {
        return acc;
    }
    let done = 4 * groups;
    let args = RunsArgs {
        groups,
        // The pointers stand at the end of a run's groups: the steps to the next run.
        x_step: runs.x_pitch.wrapping_sub(done),
        w_step: runs.w_pitch.wrapping_sub(done),
        count: runs.count,
    };
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    let (x, w, stride) = (runs.x.as_ptr(), runs.w.as_ptr(), runs.stride);
    // SAFETY: run `k < count` reads `4 * groups <= len` bytes from the input at
    // `x + k * x_pitch` and from the rows of weights at `w + k * w_pitch + r * stride`,
    // `r < 4`; the `Runs4` invariant (`(count - 1) * x_pitch + len <= x.len()`,
    // `(count - 1) * w_pitch + 3 * stride + len <= w.len()`) puts them inside `x` and `w`.
    // Pointers are advanced past a run only when another follows. Single `LDR`s may be unaligned on
    // ARMv7-M. Every operand is pinned to a register, so `r6` and `r7` (which cannot be named
    // as operands: LLVM's base pointer and the frame pointer, but which the allocator could
    // otherwise give to an operand) are free; they are saved on the stack with the pointer to
    // `args` and the count of runs left, and restored. Nothing else is written but the
    // declared registers and the flags.
    unsafe {
        asm!(
            "ldr r12, [r5, #12]",
            "push {{r5, r6, r7, r12}}",
            "1:",
            "ldr r5, [sp]",
            "ldr r5, [r5]",
            // An odd group first, then pairs.
            "lsrs r5, r5, #1",
            "bcc 2f",
            step4!(),
            "2:",
            "cmp r5, #0",
            "beq 4f",
            "3:",
            step4!(),
            step4!(),
            "subs r5, r5, #1",
            "bne 3b",
            "4:",
            // Next run, if any: count down, step the three pointers.
            "ldr r12, [sp, #12]",
            "subs r12, r12, #1",
            "beq 5f",
            "str r12, [sp, #12]",
            "ldr r5, [sp]",
            "ldr r12, [r5, #4]",
            "add r0, r0, r12",
            "ldr r12, [r5, #8]",
            "add r1, r1, r12",
            "add r2, r2, r12",
            "b 1b",
            "5:",
            "pop {{r5, r6, r7, r12}}",
            inout("r0") x => _,
            inout("r1") w => _,
            inout("r2") w.wrapping_add(2 * stride) => _,
            in("r3") stride,
            in("r4") off,
            inout("r5") core::ptr::from_ref(&args) => _,
            inout("r8") a0,
            inout("r9") a1,
            inout("r10") a2,
            inout("r11") a3,
            out("r12") _,
            out("lr") _,
        );
    }
    [a0, a1, a2, a3]
}

impl Dot for Dsp {
    #[inline(always)]
    fn accepts(input_offset: i32) -> bool {
        (-MAX_OFFSET..=MAX_OFFSET).contains(&input_offset)
    }

    #[inline(always)]
    fn dot4(acc: [i32; 4], block: Block4<'_>, input_offset: i32) -> [i32; 4] {
        let len = block.x.len();
        let acc = block_asm(acc, &block, offset_lanes(input_offset));
        if len.is_multiple_of(4) {
            acc
        } else {
            tail4(acc, block, len - len % 4, input_offset)
        }
    }

    #[inline(always)]
    fn dot4_runs(acc: [i32; 4], runs: Runs4<'_>, input_offset: i32) -> [i32; 4] {
        // Runs of a multiple of 4 values go through the assembly in one call; others, one
        // run at a time with their tails.
        if runs.len >= 4 && runs.len.is_multiple_of(4) {
            return runs_asm(acc, &runs, offset_lanes(input_offset));
        }
        let mut acc = acc;
        for k in 0..runs.count {
            if let Some(block) = runs.block(k) {
                acc = Self::dot4(acc, block, input_offset);
            }
        }
        acc
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn dot1(acc: i32, x: &[i8], w: &[i8], input_offset: i32) -> i32 {
        let len = x.len().min(w.len());
        let groups = len / 4;
        if groups == 0 {
            return Portable::dot1(acc, x, w, input_offset);
        }
        let mut a = acc;
        // SAFETY: the loop reads `4 * groups <= min(x.len(), w.len())` bytes from each of `x`
        // and `w`, with single (possibly unaligned) `LDR`s; it writes only the declared
        // registers and the flags.
        unsafe {
            asm!(
                "2:",
                "ldr {xh}, [{x}], #4",
                "ldr {wl}, [{w}], #4",
                "sxtab16 {xl}, {off}, {xh}",
                "sxtab16 {xh}, {off}, {xh}, ror #8",
                "sxtb16 {wh}, {wl}, ror #8",
                "sxtb16 {wl}, {wl}",
                "smlad {a}, {xl}, {wl}, {a}",
                "smlad {a}, {xh}, {wh}, {a}",
                "subs {n}, {n}, #1",
                "bne 2b",
                x = inout(reg) x.as_ptr() => _,
                w = inout(reg) w.as_ptr() => _,
                off = in(reg) offset_lanes(input_offset),
                n = inout(reg) groups => _,
                a = inout(reg) a,
                xl = out(reg) _,
                xh = out(reg) _,
                wl = out(reg) _,
                wh = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
        if len.is_multiple_of(4) {
            return a;
        }
        let done = 4 * groups;
        Portable::dot1(
            a,
            x.get(done..len).unwrap_or(&[]),
            w.get(done..len).unwrap_or(&[]),
            input_offset,
        )
    }
}
