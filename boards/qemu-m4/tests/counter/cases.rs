//! Checks of a board's instruction counter against loops of known length, shared by the boards'
//! `counter` test suites.

use core::arch::asm;
use defmt::{assert, assert_eq};
use tinytune_board_common::Platform;

/// Runs `n` iterations (`n >= 1`) of a two-instruction loop: exactly `2 n` instructions.
#[inline(always)]
fn spin(n: u32) {
    // SAFETY: a register-only countdown loop: it reads and writes no memory and no stack, and
    // ends because `n >= 1` (every caller passes a positive count).
    #[cfg(target_arch = "arm")]
    unsafe {
        asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) n => _, options(nomem, nostack));
    }
    // SAFETY: as above.
    #[cfg(target_arch = "riscv32")]
    unsafe {
        asm!("2:", "addi {0}, {0}, -1", "bnez {0}, 2b", inout(reg) n => _, options(nomem, nostack));
    }
}

/// Instructions the counter reports for `spin(n)`, measurement included. Never inlined: every
/// measurement runs the same code, so the measurement's own cost is the same constant.
#[inline(never)]
fn measure<P: Platform>(p: &mut P, n: u32) -> u64 {
    let start = p.instructions();
    spin(n);
    p.instructions() - start
}

/// Each extra loop iteration adds exactly two instructions, for 300 loop lengths measured at
/// 300 different points of the run (so at every phase of the timer's ticks against the
/// instructions).
pub fn exact_per_instruction<P: Platform>(p: &mut P) {
    let base = measure(p, 1);
    for n in 2..=300u32 {
        let got = measure(p, n);
        assert_eq!(
            got - base,
            2 * u64::from(n - 1),
            "spin({}) measured {}",
            n,
            got
        );
    }
    defmt::println!("spin(1) measures {=u64} instructions (2 + overhead)", base);
}

/// Reads the counter back to back for `span` instructions: it never goes back and no two reads
/// are further apart than a read plus the counter's wrap handling (`max_step`).
pub fn monotonic<P: Platform>(p: &mut P, span: u64, max_step: u64) {
    let start = p.instructions();
    let mut prev = start;
    let (mut min_seen, mut max_seen) = (u64::MAX, 0);
    while prev - start < span {
        let now = p.instructions();
        assert!(now > prev, "counter went from {} to {}", prev, now);
        let step = now - prev;
        assert!(step <= max_step, "a read took {} instructions", step);
        min_seen = min_seen.min(step);
        max_seen = max_seen.max(step);
        prev = now;
    }
    defmt::println!(
        "{=u64} instructions of back-to-back reads: each {=u64}..={=u64} instructions apart",
        prev - start,
        min_seen,
        max_seen
    );
}

/// Long loops, `2 n` instructions plus the measurement, and plus what the counter spends on its
/// `wraps` during the loop (a timer wrap handler on Cortex-M; 0 on RISC-V's 64-bit `minstret`):
/// `extra(n) = measure(n) - 2 n - overhead` must be the same cost per wrap for every loop.
pub fn exact_across_wraps<P: Platform>(p: &mut P, wraps: impl Fn(&P) -> u32) {
    let overhead = measure(p, 1) - 2;
    let mut per_wrap: Option<u64> = None;
    for n in [5_000_000u32, 20_000_000, 35_000_000] {
        let before = wraps(p);
        let got = measure(p, n);
        let crossed = u64::from(wraps(p) - before);
        let extra = got - 2 * u64::from(n) - overhead;
        defmt::println!(
            "spin({=u32}): {=u64} instructions, {=u64} more than 2n + overhead, {=u64} wraps",
            n,
            got,
            extra,
            crossed
        );
        if crossed == 0 {
            assert_eq!(extra, 0);
            continue;
        }
        assert_eq!(
            extra % crossed,
            0,
            "{} extra instructions over {} wraps",
            extra,
            crossed
        );
        let cost = extra / crossed;
        assert_eq!(*per_wrap.get_or_insert(cost), cost);
    }
}
