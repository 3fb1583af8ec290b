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
//!
//! The copy into the plane packs two strided input bytes into a word per store (`PKHBT`); the
//! requantization loads two accumulators at once (`LDRD`) and takes each to its output in five
//! instructions (`SMMLAR`, which rounds the high word and adds the folded output offset, the
//! rounding's sign correction, the shift, `SSAT` and the store).
#![cfg(tinytune_dsp)]

use crate::kernels::generic::depthwise_fast::{FastRequant, PLANE_STRIDE};
use crate::kernels::ActivationS8;
use core::arch::asm;

/// Bytes from one plane row to the next.
const ROW_BYTES: usize = PLANE_STRIDE * 2;

/// Copies one channel of an NHWC input into `rows` rows of a plane: for `r < rows`, `i < n`,
/// `plane[r * PLANE_STRIDE + col + i] = src[r * src_row + i * stride]`, two elements per word
/// store. When `col` is odd the element before it, and when `col + n` is odd the element at
/// `col + n`, are written with `pad` (they complete the words; the caller's plane holds padding
/// there). Returns `false`, writing nothing, if the slices are too short, `col + n` passes the
/// row, or the plane is not word-aligned.
// The assembly block is the only unsafe code; its SAFETY comment bounds every access.
#[allow(unsafe_code)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gather(
    plane: &mut [i16],
    (col, n): (usize, usize),
    rows: usize,
    src: &[i8],
    (stride, src_row): (usize, usize),
    pad: i16,
) -> bool {
    if rows == 0 || n == 0 {
        return true;
    }
    let head = col & 1;
    let (pairs, tail) = ((n - head) / 2, (n - head) & 1);
    // The words of a row cover columns [col - head, col + n + tail).
    let row_end = col + n + tail;
    let last_write = (rows - 1)
        .checked_mul(PLANE_STRIDE)
        .and_then(|v| v.checked_add(row_end));
    let last_read = (rows - 1)
        .checked_mul(src_row)
        .and_then(|v| v.checked_add((n - 1).checked_mul(stride)?));
    let (Some(last_write), Some(last_read)) = (last_write, last_read) else {
        return false;
    };
    if row_end > PLANE_STRIDE
        || last_write > plane.len()
        || last_read >= src.len()
        || !(plane.as_ptr() as usize).is_multiple_of(4)
        || stride.checked_mul(2).is_none()
    {
        return false;
    }
    // SAFETY: on row r (< rows) the block reads src[r * src_row + i * stride] for i < n
    // (head, pairs, tail elements in order), the largest being last_read < src.len(), and
    // writes the words of plane row r from column col - head to col + n + tail - 1 (<
    // PLANE_STRIDE), word-aligned since the plane is and PLANE_STRIDE is even; the last
    // element written is last_write - 1 < plane.len(). Two words of loop state are pushed and
    // popped.
    unsafe {
        asm!(
            "push {{r4, r5}}",
            "2:",
            "mov r0, r11",
            "mov r1, r12",
            "tst lr, #1",
            "beq 3f",
            "ldrsb r8, [r0]",
            "add r0, r0, r2",
            "pkhbt r5, r9, r8, lsl #16",
            "str r5, [r1], #4",
            "3:",
            "ldr r4, [sp]",
            "add r4, r4, r1",
            "cmp r1, r4",
            "beq 5f",
            "1:",
            "ldrsb r5, [r0]",
            "ldrsb r8, [r0, r2]",
            "add r0, r0, r3",
            "pkhbt r5, r5, r8, lsl #16",
            "str r5, [r1], #4",
            "cmp r1, r4",
            "bne 1b",
            "5:",
            "tst lr, #2",
            "beq 6f",
            "ldrsb r5, [r0]",
            "pkhbt r5, r5, r9, lsl #16",
            "str r5, [r1]",
            "6:",
            "ldr r5, [sp, #4]",
            "add r11, r11, r5",
            "add r12, r12, #{row}",
            "subs r10, r10, #1",
            "bne 2b",
            "add sp, sp, #8",
            row = const ROW_BYTES,
            out("r0") _,
            out("r1") _,
            in("r2") stride,
            in("r3") 2 * stride,
            inout("r4") 4 * pairs => _,
            inout("r5") src_row => _,
            out("r8") _,
            in("r9") pad as i32,
            inout("r10") rows => _,
            inout("r11") src.as_ptr() => _,
            inout("r12") plane.as_mut_ptr().wrapping_add(col - head) => _,
            inout("lr") head | (tail << 1) => _,
        );
    }
    true
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
            let pairs = cols / 2;
            // SAFETY: reads acc[r * acc_stride + c] and writes
            // output[start + r * row_step + c * col_step] for r < rows, c < cols, all in
            // bounds (checked: the largest indices are acc_len - 1 and last_out); the
            // pointers are moved by exactly those strides (modulo 2^32 between rows) and only
            // dereferenced at those indices. LDRD needs the word alignment acc has. Four words
            // of loop state are pushed and popped.
            unsafe {
                asm!(
                    "push {{r8, r9, r10, r11}}",
                    "2:",
                    "ldr r9, [sp]",
                    "add r8, r0, r9",
                    "cmp r0, r8",
                    "beq 3f",
                    "1:",
                    "ldrd r10, r11, [r0], #8",
                    "smmlar r9, r10, r2, r3",
                    "add r9, r9, r10, asr #31",
                    "asr r9, r9, r4",
                    "ssat r9, #8, r9",
                    "strb r9, [r1]",
                    "smmlar r12, r11, r2, r3",
                    "add r12, r12, r11, asr #31",
                    "asr r12, r12, r4",
                    "ssat r12, #8, r12",
                    "strb r12, [r1, r5]",
                    "add r1, r1, r5, lsl #1",
                    "cmp r0, r8",
                    "bne 1b",
                    "3:",
                    "ldr r9, [sp, #12]",
                    "cmp r9, #0",
                    "beq 4f",
                    "ldr r10, [r0], #4",
                    "smmlar r9, r10, r2, r3",
                    "add r9, r9, r10, asr #31",
                    "asr r9, r9, r4",
                    "ssat r9, #8, r9",
                    "strb r9, [r1]",
                    "add r1, r1, r5",
                    "4:",
                    "ldr r9, [sp, #4]",
                    "add r0, r0, r9",
                    "ldr r9, [sp, #8]",
                    "add r1, r1, r9",
                    "subs lr, lr, #1",
                    "bne 2b",
                    "add sp, sp, #16",
                    inout("r0") acc.as_ptr() => _,
                    inout("r1") output.as_mut_ptr().wrapping_add(start) => _,
                    in("r2") f.multiplier,
                    in("r3") f.fold,
                    in("r4") f.shift,
                    in("r5") col_step,
                    inout("r8") 8 * pairs => _,
                    inout("r9") 4 * (acc_stride - cols) => _,
                    inout("r10") row_step.wrapping_sub(cols * col_step) => _,
                    inout("r11") cols & 1 => _,
                    out("r12") _,
                    inout("lr") rows => _,
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
                        "ldr {y}, [{a}], #4",
                        "smmlar {t}, {y}, {m}, {fold}",
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
