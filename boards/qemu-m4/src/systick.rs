//! A guest-instruction counter built on SysTick, exact under QEMU's `-icount shift=6`.
//!
//! QEMU emulates no cycle counter (DWT CYCCNT reads 0), but with `-icount shift=6` every guest
//! instruction advances the virtual clock by exactly 64 ns, and SysTick counts that clock. The
//! counter is started and read by instructions, so `n` instructions after the start exactly
//! `64 n` ns have passed. QEMU's SysTick then shows `T = ceil(64 n / tick) - 1` elapsed ticks
//! (it holds 0 for the first tick after the clear, then counts down from the reload value), so
//! `T * tick / 64` lies in `[n - tick / 64, n)`, inside `(n - 1, n)` since a tick is shorter than
//! an instruction, and `n = ceil(T * tick / 64)` is recovered exactly: no rounding error, at any phase of the ticks
//! against the instructions (the `counter` test suite checks it loop length by loop length).
//!
//! SysTick is 24 bits wide: it wraps every 2^24 ticks (10.5 M instructions at 25 MHz). Its
//! exception counts the wraps, and a read that sees the exception pending but not yet taken
//! (interrupts masked, or the wrap fell between the reads) counts it too, so the count is
//! monotonic and exact across wraps. The handler's own instructions are counted, as they ran.
//! It requires that interrupts are never masked for a whole SysTick period (2^24 ticks).

use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SCB, SYST};
use cortex_m_rt::exception;

/// SysTick's reload value: the longest period, 2^24 ticks.
const RELOAD: u32 = 0x00FF_FFFF;
/// Ticks in one SysTick period.
const PERIOD: u64 = RELOAD as u64 + 1;

/// SysTick wraps since the counter started. Only the SysTick handler writes it (a load and a
/// store, which thumbv6m has; it has no atomic read-modify-write).
static WRAPS: AtomicU32 = AtomicU32::new(0);

#[exception]
fn SysTick() {
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
}

/// Counts guest instructions with SysTick (core clock) and its wrap exception.
///
/// `NUM / DEN` is the length of a SysTick tick over the length of an instruction under the
/// runner's `-icount` shift, reduced: 40 ns / 64 ns = 5 / 8 on mps2 (25 MHz), 62.5 ns / 64 ns =
/// 125 / 128 on the micro:bit (16 MHz). It must be at most 1 for the count to be exact.
pub struct SysTickInstructions<const NUM: u64, const DEN: u64> {
    syst: SYST,
}

impl<const NUM: u64, const DEN: u64> SysTickInstructions<NUM, DEN> {
    /// Takes SysTick and starts counting from 0: core clock, longest period, wrap exception on.
    pub fn start(mut syst: SYST) -> Self {
        syst.disable_counter();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        WRAPS.store(0, Ordering::Relaxed);
        syst.enable_interrupt();
        syst.enable_counter();
        Self { syst }
    }

    /// SysTick ticks since [`start`](Self::start), wraps included.
    pub fn ticks(&mut self) -> u64 {
        critical_section::with(|_| {
            let wraps = u64::from(WRAPS.load(Ordering::Relaxed));
            let current = SYST::get_current();
            // A wrap that happened before this read but whose exception has not run yet: read
            // again, after the wrap for sure, and count it.
            let (wraps, current) = if SCB::is_pendst_pending() {
                (wraps + 1, SYST::get_current())
            } else {
                (wraps, current)
            };
            // The counter counts down from RELOAD to 0; right after `clear_current` it reads 0
            // before its first reload, which counts as 0 elapsed ticks.
            let into_period = (PERIOD - u64::from(current)) % PERIOD;
            wraps * PERIOD + into_period
        })
    }

    /// Guest instructions since [`start`](Self::start): `ceil(ticks * NUM / DEN)` (see the
    /// module docs for why this is exact).
    pub fn instructions(&mut self) -> u64 {
        (self.ticks() * NUM).div_ceil(DEN)
    }

    /// SysTick wraps since [`start`](Self::start) (each ran the handler once).
    pub fn wraps(&self) -> u32 {
        WRAPS.load(Ordering::Relaxed)
    }

    /// Stops the counter and gives SysTick back.
    pub fn free(mut self) -> SYST {
        self.syst.disable_counter();
        self.syst.disable_interrupt();
        self.syst
    }
}
