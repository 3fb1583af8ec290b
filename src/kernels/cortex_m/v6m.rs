//! The ARMv6-M micro-kernel (Cortex-M0/M0+): no DSP instructions, no unaligned word loads,
//! eight low registers.
//!
//! `LDRSB` loads and sign-extends a byte in one instruction but only with a register offset,
//! so the loop keeps one index, counting from `-len` up to 0 (the `ADDS` that steps it also
//! ends the loop), and points every base register at the end of its row. Per input: one load
//! and the offset add, then per row a load, `MULS` and an add into an accumulator: 16
//! instructions for 4 MACs. The eight low registers hold the five bases, the index and two
//! temporaries; the accumulators and the offset live in high registers, which `ADD` reaches.
//! Compiled from Rust, the same loop spills (LLVM keeps accumulators in low registers) and
//! costs about twice as much.

use core::arch::asm;

use super::{Block4, Dot};

/// The ARMv6-M micro-kernel.
pub(crate) struct V6m;

impl Dot for V6m {
    #[inline(always)]
    fn accepts(_input_offset: i32) -> bool {
        true
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn dot4(acc: [i32; 4], block: Block4<'_>, input_offset: i32) -> [i32; 4] {
        let len = block.x.len();
        if len == 0 {
            return acc;
        }
        // The accumulators and the offset go through memory: Thumb-1 operands are low registers,
        // and the loop needs all of those for its pointers.
        let [a0, a1, a2, a3] = acc;
        let mut state = [a0, a1, a2, a3, input_offset];
        // SAFETY: with `i` from `-len` to `-1`, the loop reads `x_end + i` (inside `x`) and
        // `row_end + i` for the four rows ending at `w + len + r * stride`, inside `w` by the
        // `Block4` invariant `w.len() >= 3 * stride + x.len()`. It reads and writes `state`
        // through `r3`. `r6` and `r7`, which cannot be operands (LLVM's base pointer and the
        // frame pointer), are saved on the stack and restored; nothing else is written but the
        // declared registers and the flags.
        unsafe {
            asm!(
                "push {{r3, r6, r7}}",
                // r8-r11: the accumulators, r12: the offset.
                "ldr r4, [r3, #0]",
                "mov r8, r4",
                "ldr r4, [r3, #4]",
                "mov r9, r4",
                "ldr r4, [r3, #8]",
                "mov r10, r4",
                "ldr r4, [r3, #12]",
                "mov r11, r4",
                "ldr r4, [r3, #16]",
                "mov r12, r4",
                // The rows' ends: r1, r4, r3, r2.
                "adds r4, r1, r2",
                "adds r3, r4, r2",
                "adds r2, r3, r2",
                "2:",
                "ldrsb r6, [r0, r5]",
                "add r6, r12",
                "ldrsb r7, [r1, r5]",
                "muls r7, r6, r7",
                "add r8, r7",
                "ldrsb r7, [r4, r5]",
                "muls r7, r6, r7",
                "add r9, r7",
                "ldrsb r7, [r3, r5]",
                "muls r7, r6, r7",
                "add r10, r7",
                "ldrsb r7, [r2, r5]",
                "muls r7, r6, r7",
                "add r11, r7",
                "adds r5, #1",
                "bne 2b",
                "pop {{r3, r6, r7}}",
                "mov r4, r8",
                "str r4, [r3, #0]",
                "mov r4, r9",
                "str r4, [r3, #4]",
                "mov r4, r10",
                "str r4, [r3, #8]",
                "mov r4, r11",
                "str r4, [r3, #12]",
                in("r0") block.x.as_ptr().wrapping_add(len),
                inout("r1") block.w.as_ptr().wrapping_add(len) => _,
                inout("r2") block.stride => _,
                inout("r3") state.as_mut_ptr() => _,
                out("r4") _,
                inout("r5") len.wrapping_neg() => _,
                out("r8") _,
                out("r9") _,
                out("r10") _,
                out("r11") _,
                out("r12") _,
            );
        }
        let [a0, a1, a2, a3, _] = state;
        [a0, a1, a2, a3]
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn dot1(acc: i32, x: &[i8], w: &[i8], input_offset: i32) -> i32 {
        let len = x.len().min(w.len());
        if len == 0 {
            return acc;
        }
        let mut a = acc;
        // SAFETY: with `i` from `-len` to `-1`, the loop reads `x_end + i` and `w_end + i`,
        // inside `x` and `w` (`len` is the shorter length); it writes only the declared
        // registers and the flags.
        unsafe {
            asm!(
                // r0/r1 the ends of x and w, r2 the index, r3/r4 temporaries (r3 brings the
                // offset to r12), r8 the accumulator (brought in and out through r5).
                "mov r12, r3",
                "mov r8, r5",
                "2:",
                "ldrsb r3, [r0, r2]",
                "add r3, r12",
                "ldrsb r4, [r1, r2]",
                "muls r4, r3, r4",
                "add r8, r4",
                "adds r2, #1",
                "bne 2b",
                "mov r5, r8",
                in("r0") x.as_ptr().wrapping_add(len),
                in("r1") w.as_ptr().wrapping_add(len),
                inout("r2") len.wrapping_neg() => _,
                inout("r3") input_offset => _,
                out("r4") _,
                inout("r5") a,
                out("r8") _,
                out("r12") _,
                options(pure, readonly, nostack),
            );
        }
        a
    }
}
