//! The plain-Rust micro-kernel: RISC-V's, and the reference the host tests check the drivers
//! with.
//!
//! One input value, offset once, feeds four multiply-adds; the five slices are walked together
//! (zipped), so the loop has no bounds checks. On RV32 this compiles to 20 instructions per 4
//! MACs (5 loads, the offset add, 4 multiplies, 4 adds, 5 pointer steps, the branch).

use super::{Block4, Dot};

/// The plain-Rust micro-kernel.
pub(crate) struct Portable;

/// `acc + (x + input_offset) · w`, wrapping.
#[inline(always)]
fn mac(acc: i32, x: i32, w: i8) -> i32 {
    acc.wrapping_add(x.wrapping_mul(w as i32))
}

impl Dot for Portable {
    #[inline(always)]
    fn accepts(_input_offset: i32) -> bool {
        true
    }

    // Out of line: inlined into a convolution's loops, the accumulators get spilled.
    #[inline(never)]
    fn dot4(acc: [i32; 4], block: Block4<'_>, input_offset: i32) -> [i32; 4] {
        let [mut a0, mut a1, mut a2, mut a3] = acc;
        let rows = block
            .x
            .iter()
            .zip(block.row(0))
            .zip(block.row(1))
            .zip(block.row(2))
            .zip(block.row(3));
        for ((((&x, &w0), &w1), &w2), &w3) in rows {
            let x = (x as i32).wrapping_add(input_offset);
            a0 = mac(a0, x, w0);
            a1 = mac(a1, x, w1);
            a2 = mac(a2, x, w2);
            a3 = mac(a3, x, w3);
        }
        [a0, a1, a2, a3]
    }

    #[inline(always)]
    fn dot1(acc: i32, x: &[i8], w: &[i8], input_offset: i32) -> i32 {
        x.iter().zip(w).fold(acc, |acc, (&x, &w)| {
            mac(acc, (x as i32).wrapping_add(input_offset), w)
        })
    }
}
