//! Real CPU cycles from the Cortex-M4's DWT cycle counter.

use cortex_m::peripheral::{DCB, DWT};
use tinytune_board_common::Platform;

/// The DWT's 32-bit cycle counter (CYCCNT), widened to 64 bits.
///
/// On the board these are clock cycles at 64 MHz, not instructions (the figures QEMU gives are
/// instruction counts). CYCCNT wraps every 2³² cycles (67 s); a wrap is noticed when the
/// counter reads lower than last time, so the 64-bit value is right as long as two reads are
/// less than 67 s apart.
pub struct DwtCycles {
    // Owned so that nothing else reconfigures the counter.
    _dwt: DWT,
    wraps: u32,
    last: u32,
}

impl DwtCycles {
    /// Turns the trace unit and the cycle counter on.
    pub fn new(mut dcb: DCB, mut dwt: DWT) -> Self {
        dcb.enable_trace();
        dwt.enable_cycle_counter();
        Self {
            _dwt: dwt,
            wraps: 0,
            last: DWT::cycle_count(),
        }
    }
}

impl Platform for DwtCycles {
    fn instructions(&mut self) -> u64 {
        let now = DWT::cycle_count();
        if now < self.last {
            self.wraps = self.wraps.wrapping_add(1);
        }
        self.last = now;
        (u64::from(self.wraps) << 32) | u64::from(now)
    }
}
