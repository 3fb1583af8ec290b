//! A guest-instruction counter built on SysTick, exact under QEMU's `-icount shift=6`.
//!
//! QEMU emulates no cycle counter (DWT CYCCNT reads 0), but with `-icount shift=6` every guest
//! instruction advances the virtual clock by exactly 64 ns, and SysTick counts that clock. The
//! counter is started and read by instructions, so `n` instructions after the start exactly
//! `e = 64 n` ns have passed, and the tick count is a known function of `e`: QEMU's SysTick (a
//! `ptimer`) holds 0 for its first tick, then counts down from the reload value, computing tick
//! boundaries in whole nanoseconds. With a tick of `t` ns, the elapsed ticks
//! `T = wraps * 2^24 + (2^24 - VAL) mod 2^24` are `ceil((e + s) / t) - 1`, where `s` is what the
//! first period lost to that rounding (`floor(t) + floor(t * RELOAD)` ns instead of
//! `t * 2^24`): 0 at 25 MHz (`t` = 40 ns), 1 ns at 16 MHz (`t` = 62.5 ns). Inverting,
//! `n = floor(((T + 1) t - s) / 64)`, with no rounding error: the interval of `n` that give one
//! `T` is `t / 64 < 1` wide, so it holds one instruction count. The `counter` test suites check
//! it loop length by loop length, at hundreds of phases of the ticks against the instructions.
//!
//! SysTick is 24 bits wide: it wraps every 2^24 ticks (10,485,760 instructions at 25 MHz,
//! 16,384,000 at 16 MHz: whole numbers, so every period starts on the same phase). Its
//! exception counts the wraps, and a read that sees the exception pending but not yet taken
//! (interrupts masked, or the wrap fell between the reads) counts it too, so the count is
//! monotonic and exact across wraps. The handler's own instructions are counted, as they ran.
//! It requires that interrupts are never masked for a whole SysTick period.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};
use cortex_m::peripheral::{syst::SystClkSource, SCB, SYST};
use cortex_m_rt::exception;
use critical_section::Mutex;

/// SysTick's reload value: the longest period, 2^24 ticks.
const RELOAD: u32 = 0x00FF_FFFF;
/// Ticks in one SysTick period.
const PERIOD: u64 = RELOAD as u64 + 1;

/// SysTick wraps since the counter started. Only the SysTick handler writes it (a load and a
/// store, which thumbv6m has; it has no atomic read-modify-write).
static WRAPS: AtomicU32 = AtomicU32::new(0);
/// Instructions in one SysTick period, set by `start` for the handler.
static INSNS_PER_WRAP: AtomicU32 = AtomicU32::new(0);
/// Instructions in the periods completed so far: `WRAPS * INSNS_PER_WRAP`, kept by the handler
/// so that a read adds instead of multiplying 64-bit numbers (a library call on thumbv6m whose
/// cost could depend on the operands and show in the measurements).
static BASE: Mutex<Cell<u64>> = Mutex::new(Cell::new(0));

#[exception]
fn SysTick() {
    WRAPS.store(
        WRAPS.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Relaxed,
    );
    let per_wrap = u64::from(INSNS_PER_WRAP.load(Ordering::Relaxed));
    critical_section::with(|cs| {
        let base = BASE.borrow(cs);
        base.set(base.get() + per_wrap);
    });
}

/// Counts guest instructions with SysTick (core clock) and its wrap exception.
///
/// `TICK_PS` is the SysTick tick in picoseconds: 40,000 on mps2 (25 MHz), 62,500 on the
/// micro:bit (16 MHz). It must be shorter than an instruction (64,000 ps at `-icount shift=6`).
pub struct SysTickInstructions<const TICK_PS: u64> {
    syst: SYST,
}

/// Picoseconds per instruction under `-icount shift=6`.
const INSN_PS: u64 = 64_000;

/// Greatest common divisor, for reducing the tick-to-instruction ratio at build time.
const fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl<const TICK_PS: u64> SysTickInstructions<TICK_PS> {
    /// Instructions per SysTick period; whole for the supported clocks (checked at build time).
    const INSNS_PER_WRAP: u32 = {
        assert!(
            TICK_PS < INSN_PS,
            "a tick must be shorter than an instruction"
        );
        assert!(
            (PERIOD * TICK_PS).is_multiple_of(INSN_PS),
            "a period must be whole instructions"
        );
        (PERIOD * TICK_PS / INSN_PS) as u32
    };
    /// Picoseconds the first period falls short of `PERIOD` ticks: QEMU times it as one tick
    /// then `RELOAD` ticks, each rounded down to whole nanoseconds.
    const FIRST_PERIOD_SHORT_PS: u64 =
        PERIOD * TICK_PS - 1000 * (TICK_PS / 1000 + TICK_PS * RELOAD as u64 / 1000);
    /// The conversion `((ticks + 1) TICK_PS - SHORT) / INSN_PS` in lowest terms: 5/8 and 0 at
    /// 25 MHz, 125/128 and 2 at 16 MHz. The divisor is a power of two and the numbers fit 32
    /// bits, so a read costs the same instructions whatever the count (a library division or
    /// 64-bit multiplication would not, and its varying cost would show in the measurements).
    const UNIT: u64 = gcd(gcd(TICK_PS, INSN_PS), Self::FIRST_PERIOD_SHORT_PS);
    const NUM: u32 = {
        let num = TICK_PS / Self::UNIT;
        assert!(
            PERIOD * num <= u32::MAX as u64,
            "the conversion must fit 32 bits"
        );
        num as u32
    };
    const SHORT: u32 = {
        let short = Self::FIRST_PERIOD_SHORT_PS / Self::UNIT;
        assert!(short < TICK_PS / Self::UNIT);
        short as u32
    };
    const DEN_LOG2: u32 = {
        let den = INSN_PS / Self::UNIT;
        assert!(
            den.is_power_of_two(),
            "the conversion must reduce to a shift"
        );
        den.trailing_zeros()
    };

    /// Takes SysTick and starts counting from 0: core clock, longest period, wrap exception on.
    pub fn start(mut syst: SYST) -> Self {
        syst.disable_counter();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        WRAPS.store(0, Ordering::Relaxed);
        INSNS_PER_WRAP.store(Self::INSNS_PER_WRAP, Ordering::Relaxed);
        critical_section::with(|cs| BASE.borrow(cs).set(0));
        syst.enable_interrupt();
        syst.enable_counter();
        Self { syst }
    }

    /// Guest instructions since [`start`](Self::start), exact (see the module docs).
    pub fn instructions(&mut self) -> u64 {
        let (base, current) = critical_section::with(|cs| {
            let base = BASE.borrow(cs).get();
            let current = SYST::get_current();
            // A wrap that happened before this read but whose exception has not run yet: read
            // again, after the wrap for sure, and count it.
            if SCB::is_pendst_pending() {
                (base + u64::from(Self::INSNS_PER_WRAP), SYST::get_current())
            } else {
                (base, current)
            }
        });
        // Ticks into the current period: the counter counts down from RELOAD to 0, and reads 0
        // for its first tick after the start.
        let ticks = (RELOAD - current).wrapping_add(1) & RELOAD;
        base + u64::from(((ticks + 1) * Self::NUM - Self::SHORT) >> Self::DEN_LOG2)
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
