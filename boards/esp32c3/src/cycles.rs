//! CPU cycles from the ESP32-C3's machine performance counter.
//!
//! The ESP32-C3's core has no standard `mcycle`/`minstret`: it has one custom counter,
//! `mpccr` (CSR 0x7E2), which counts the event chosen in `mpcer` (0x7E0; bit 0 = clock cycles)
//! while `mpcmr` (0x7E1) bit 0 enables it (bit 1 clear: it wraps instead of saturating).
//! esp-hal reads the same counter, as cycles, to time its random number generator, so this
//! keeps it counting cycles. It is 32 bits wide and wraps every 27 s at 160 MHz; a wrap is
//! noticed when it reads lower than last time, so the 64-bit value is right as long as two
//! reads are less than 27 s apart.

use tinytune_board_common::Platform;

/// The performance counter, set to count cycles, widened to 64 bits.
pub struct PerfCycles {
    wraps: u32,
    last: u32,
}

impl PerfCycles {
    /// Sets the counter to count clock cycles, wrapping, and starts it.
    pub fn new() -> Self {
        // SAFETY: writes the two counter-control CSRs only (event = cycles, enable, wrap).
        // Nothing else in the program depends on another setting: esp-hal's RNG expects cycles.
        unsafe { core::arch::asm!("csrwi 0x7E0, 1", "csrwi 0x7E1, 1") };
        Self {
            wraps: 0,
            last: read_counter(),
        }
    }
}

/// `mpccr`, the counter's value.
fn read_counter() -> u32 {
    let value: u32;
    // SAFETY: reads a CSR, nothing else; no memory access, no side effect.
    unsafe { core::arch::asm!("csrr {0}, 0x7E2", out(reg) value, options(nomem, nostack)) };
    value
}

impl Platform for PerfCycles {
    fn instructions(&mut self) -> u64 {
        let now = read_counter();
        if now < self.last {
            self.wraps = self.wraps.wrapping_add(1);
        }
        self.last = now;
        (u64::from(self.wraps) << 32) | u64::from(now)
    }
}
