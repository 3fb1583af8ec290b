//! CPU cycles, approximately, from the RP2040's 1 MHz timer.
//!
//! The Cortex-M0+ has no DWT cycle counter. SysTick counts cycles but is 24 bits wide (it
//! wraps every 134 ms at 125 MHz); the RP2040's TIMER counts microseconds in 64 bits and never
//! wraps. This platform takes the timer and scales it by the system clock: cycles with a
//! resolution of one microsecond (125 cycles at the default 125 MHz).

use embassy_time::Instant;
use tinytune_board_common::Platform;

/// Microseconds since boot × system clock cycles per microsecond.
pub struct TimerCycles {
    cycles_per_us: u64,
}

impl TimerCycles {
    /// For a system clock of `clk_sys_hz` (see `embassy_rp::clocks::clk_sys_freq`).
    pub fn new(clk_sys_hz: u32) -> Self {
        Self {
            cycles_per_us: u64::from(clk_sys_hz / 1_000_000),
        }
    }
}

impl Platform for TimerCycles {
    fn instructions(&mut self) -> u64 {
        Instant::now()
            .as_micros()
            .saturating_mul(self.cycles_per_us)
    }
}
