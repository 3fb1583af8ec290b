//! Armv7E-M (Cortex-M4/M7, DSP extension) kernels of the int8 depthwise convolution, used by
//! [`depthwise_fast`](crate::kernels::generic::depthwise_fast) on its channel planes.
//!
//! Each kernel is a safe function that checks every address its assembly will touch against
//! the slices it is given, then runs one `asm!` block; a call whose sizes do not fit returns
//! `false` (or does nothing) and the caller's portable loop does the work.
//!
//! The 3x3 filter multiplies two taps per instruction: the plane holds `i16` values, so the
//! word at an even column is the pair (`x[c]`, `x[c+1]`), and `SMLAD` adds `x[c] w0 + x[c+1] w1`
//! to an accumulator in one step. Two neighbouring outputs share the words of each plane row:
//! with `P0 = (x0, x1)` and `P1 = (x2, x3)`,
//! `out0 += SMLAD(P0, (w0, w1)) + SMLABT(P1, (w1, w2))` and
//! `out1 += SMLATB(P0, (w0, w1)) + SMLAD(P1, (w1, w2))`: 2 loads and 4 multiply-accumulates
//! per filter row and output pair, 9 MACs per output in 6 instructions.
#![cfg(tinytune_dsp)]

use crate::kernels::generic::depthwise_fast::{FastRequant, PLANE_STRIDE};
use crate::kernels::ActivationS8;
use core::arch::asm;

/// Bytes from one plane row to the next.
const ROW_BYTES: usize = PLANE_STRIDE * 2;

/// `dst[i] = src[i * stride]` for the first `dst.len() / 4 * 4` elements, if `src` holds them
/// and `dst` starts on a word boundary (else nothing is written). Four loads, two packs and one
/// double store per four elements.
// The assembly block is the only unsafe code; its SAFETY comment bounds every access.
#[allow(unsafe_code)]
pub(crate) fn gather4(dst: &mut [i16], src: &[i8], stride: usize) {
    let quads = dst.len() / 4;
    if quads == 0 || !(dst.as_ptr() as usize).is_multiple_of(4) {
        return;
    }
    // The last element read is src[(4 quads - 1) * stride].
    let last = (4 * quads - 1).checked_mul(stride);
    if last.is_none_or(|l| l >= src.len()) || stride.checked_mul(4).is_none() {
        return;
    }
    // SAFETY: the loop writes 4 * quads i16 at dst (checked above: dst.len() >= 4 * quads),
    // 8 bytes per iteration from a word-aligned start (STRD needs word alignment), and reads
    // the bytes src[i * stride] for i < 4 * quads, all inside src (checked above). The end
    // pointer is one past the written range. r-registers are named for nothing; the compiler
    // allocates them.
    unsafe {
        asm!(
            "1:",
            "ldrsb {t0}, [{src}]",
            "ldrsb {t1}, [{src}, {s1}]",
            "ldrsb {t2}, [{src}, {s2}]",
            "ldrsb {t3}, [{src}, {s3}]",
            "add {src}, {src}, {s4}",
            "pkhbt {t0}, {t0}, {t1}, lsl #16",
            "pkhbt {t2}, {t2}, {t3}, lsl #16",
            "strd {t0}, {t2}, [{dst}], #8",
            "cmp {dst}, {end}",
            "bne 1b",
            src = inout(reg) src.as_ptr() => _,
            dst = inout(reg) dst.as_mut_ptr() => _,
            end = in(reg) dst.as_mut_ptr().wrapping_add(4 * quads),
            s1 = in(reg) stride,
            s2 = in(reg) 2 * stride,
            s3 = in(reg) 3 * stride,
            s4 = in(reg) 4 * stride,
            t0 = out(reg) _,
            t1 = out(reg) _,
            t2 = out(reg) _,
            t3 = out(reg) _,
            options(nostack),
        );
    }
}

/// The 3x3, stride 1, undilated filter over a plane: for `r < rows` and `c < 2 * pairs`,
/// `acc[r * 2 pairs + c] = init + sum_{ky, kx} plane[(r + ky) * PLANE_STRIDE + c + kx] *
/// w[ky][kx]` (wrapping), with `w` the tap pairs `[(w00, w01), (w01, w02), (w10, w11), ...]`
/// (low halfword first). Returns `false`, writing nothing, if the plane or `acc` is too short.
// The assembly block is the only unsafe code; its SAFETY comment bounds every access.
#[allow(unsafe_code)]
pub(crate) fn mac_3x3(
    plane: &[i16],
    rows: usize,
    pairs: usize,
    w: &[u32; 6],
    init: i32,
    acc: &mut [i32],
) -> bool {
    if rows == 0 || pairs == 0 {
        return true;
    }
    // Highest plane element read: row rows + 1, column 2 pairs + 1; accumulators written:
    // rows * 2 pairs.
    let last_read = (rows + 1)
        .checked_mul(PLANE_STRIDE)
        .and_then(|v| v.checked_add(2 * pairs + 1));
    let written = rows.checked_mul(2 * pairs);
    let (Some(last_read), Some(written)) = (last_read, written) else {
        return false;
    };
    if last_read >= plane.len() || written > acc.len() || 4 * pairs > ROW_BYTES {
        return false;
    }
    let acc_ptr = acc.as_mut_ptr();
    // SAFETY: per output pair the block reads the words at byte offsets 4i, 4i + 4 of plane
    // rows r, r + 1, r + 2 (i < pairs, r < rows): the halfwords up to
    // (rows + 1) * PLANE_STRIDE + 2 pairs + 1 < plane.len() (checked). It stores 2 pairs i32
    // per row, rows * 2 pairs in all (checked <= acc.len()), 8 bytes at a time to the
    // word-aligned acc (STRD). r6 and r7, which cannot be operands, are saved and restored
    // around their use; three words of loop state live on the stack below them and are popped
    // before the end.
    unsafe {
        asm!(
            "push {{r6, r7}}",
            "sub r6, r2, r1",
            "push {{r6, r12, lr}}",
            "2:",
            "1:",
            "ldr r12, [r0, #{row2}]",
            "ldr lr, [r0, #{row2_4}]",
            "smlad r6, r12, r10, r3",
            "smlatb r7, r12, r10, r3",
            "smlabt r6, lr, r11, r6",
            "smlad r7, lr, r11, r7",
            "ldr r12, [r0, #{row1}]",
            "ldr lr, [r0, #{row1_4}]",
            "smlad r6, r12, r8, r6",
            "smlatb r7, r12, r8, r7",
            "smlabt r6, lr, r9, r6",
            "smlad r7, lr, r9, r7",
            "ldr lr, [r0, #4]",
            "ldr r12, [r0], #4",
            "smlad r6, r12, r4, r6",
            "smlatb r7, r12, r4, r7",
            "smlabt r6, lr, r5, r6",
            "smlad r7, lr, r5, r7",
            "strd r6, r7, [r1], #8",
            "cmp r1, r2",
            "bne 1b",
            // Next row: skip the plane to its start, move the row end, count down.
            "ldr r6, [sp, #8]",
            "add r0, r0, r6",
            "ldr r6, [sp]",
            "add r2, r2, r6",
            "ldr r6, [sp, #4]",
            "subs r6, r6, #1",
            "str r6, [sp, #4]",
            "bne 2b",
            "add sp, sp, #12",
            "pop {{r6, r7}}",
            row1 = const ROW_BYTES,
            row1_4 = const ROW_BYTES + 4,
            row2 = const 2 * ROW_BYTES,
            row2_4 = const 2 * ROW_BYTES + 4,
            inout("r0") plane.as_ptr() => _,
            inout("r1") acc_ptr => _,
            inout("r2") acc_ptr.wrapping_add(2 * pairs) => _,
            in("r3") init,
            in("r4") w[0],
            in("r5") w[1],
            in("r8") w[2],
            in("r9") w[3],
            in("r10") w[4],
            in("r11") w[5],
            inout("r12") rows => _,
            inout("lr") ROW_BYTES - 4 * pairs => _,
        );
    }
    true
}

/// The output clamp of [`requant_block`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Clamp {
    /// The int8 range only (no fused activation).
    Int8,
    /// A fused activation's range (`min > max` gives `max`, as [`ActivationS8::clamp`]).
    Range(ActivationS8),
}

/// The short requantization ([`FastRequant`]) of the `rows x cols` block of doubled
/// accumulators in `acc` (rows `acc_stride` apart) into
/// `output[start + r * row_step + c * col_step]`, clamped. Returns `false`, writing nothing, if
/// a slice is too short.
// The assembly block is the only unsafe code; its SAFETY comment bounds every access.
#[allow(unsafe_code)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn requant_block(
    acc: &[i32],
    acc_stride: usize,
    (rows, cols): (usize, usize),
    f: FastRequant,
    clamp: Clamp,
    output: &mut [i8],
    start: usize,
    (row_step, col_step): (usize, usize),
) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    let acc_len = (rows - 1)
        .checked_mul(acc_stride)
        .and_then(|v| v.checked_add(cols));
    let last_out = (rows - 1)
        .checked_mul(row_step)
        .and_then(|v| v.checked_add((cols - 1).checked_mul(col_step)?))
        .and_then(|v| v.checked_add(start));
    let (Some(acc_len), Some(last_out)) = (acc_len, last_out) else {
        return false;
    };
    if acc_len > acc.len() || last_out >= output.len() || cols > acc_stride || f.shift > 31 {
        return false;
    }
    match clamp {
        Clamp::Int8 => {
            // SAFETY: reads acc[r * acc_stride + c] and writes
            // output[start + r * row_step + c * col_step] for r < rows, c < cols, all in
            // bounds (checked: the largest indices are acc_len - 1 and last_out); the
            // pointers are moved by exactly those strides (modulo 2^32 between rows) and only
            // dereferenced at those indices. Two words of loop state are pushed and popped.
            unsafe {
                asm!(
                    "push {{r9, lr}}",
                    "2:",
                    "add r9, r0, r8",
                    "1:",
                    "ldr r12, [r0], #4",
                    "smmulr r11, r12, r2",
                    "add r12, r11, r3",
                    "add r12, r12, r11, asr #31",
                    "asr r12, r12, r4",
                    "ssat r12, #8, r12",
                    "strb r12, [r1]",
                    "add r1, r1, r5",
                    "cmp r0, r9",
                    "bne 1b",
                    "ldr lr, [sp, #4]",
                    "add r0, r0, lr",
                    "ldr lr, [sp]",
                    "add r1, r1, lr",
                    "subs r10, r10, #1",
                    "bne 2b",
                    "add sp, sp, #8",
                    inout("r0") acc.as_ptr() => _,
                    inout("r1") output.as_mut_ptr().wrapping_add(start) => _,
                    in("r2") f.multiplier,
                    in("r3") f.fold,
                    in("r4") f.shift,
                    in("r5") col_step,
                    in("r8") 4 * cols,
                    inout("r9") row_step.wrapping_sub(cols * col_step) => _,
                    inout("r10") rows => _,
                    out("r11") _,
                    out("r12") _,
                    inout("lr") 4 * (acc_stride - cols) => _,
                );
            }
        }
        Clamp::Range(act) => {
            for r in 0..rows {
                let a = acc.as_ptr().wrapping_add(r * acc_stride);
                // SAFETY: reads acc[r * acc_stride + c] and writes
                // output[start + r * row_step + c * col_step] for c < cols, in bounds as
                // checked above for every r < rows.
                unsafe {
                    asm!(
                        "1:",
                        "ldr {t}, [{a}], #4",
                        "smmulr {y}, {t}, {m}",
                        "add {t}, {y}, {fold}",
                        "add {t}, {t}, {y}, asr #31",
                        "asr {t}, {t}, {e}",
                        "cmp {t}, {min}",
                        "it lt",
                        "movlt {t}, {min}",
                        "cmp {t}, {max}",
                        "it gt",
                        "movgt {t}, {max}",
                        "strb {t}, [{o}]",
                        "add {o}, {o}, {step}",
                        "cmp {a}, {end}",
                        "bne 1b",
                        a = inout(reg) a => _,
                        end = in(reg) a.wrapping_add(cols),
                        o = inout(reg) output.as_mut_ptr().wrapping_add(start + r * row_step) => _,
                        m = in(reg) f.multiplier,
                        fold = in(reg) f.fold,
                        e = in(reg) f.shift,
                        min = in(reg) act.min as i32,
                        max = in(reg) act.max as i32,
                        step = in(reg) col_step,
                        t = out(reg) _,
                        y = out(reg) _,
                        options(nostack),
                    );
                }
            }
        }
    }
    true
}
