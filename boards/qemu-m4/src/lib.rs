//! Board support for QEMU's mps2-an386 (Cortex-M4F): the global defmt logger over semihosting,
//! exits that turn a panic or a HardFault into a non-zero QEMU exit status, and the instruction
//! counter of the demo.
#![no_std]

use cortex_m as _; // links the critical-section implementation
use cortex_m::peripheral::SYST;
use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // global logger: defmt frames -> semihosting stdout
use tinytune_board_common::Platform;

pub mod systick;

/// Exit status of a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit status of a HardFault.
pub const EXIT_HARDFAULT: i32 = 3;
/// Exit status when the board cannot set up what the demo needs.
pub const EXIT_SETUP: i32 = 2;

/// Erase page of the demo's RAM-backed flash: the common 4 KiB sector of NOR parts.
pub const FLASH_ERASE_SIZE: usize = 4096;

/// The `-icount` shift the runner passes (`.cargo/config.toml`): 64 ns per instruction.
pub const ICOUNT_SHIFT: u32 = 6;

/// Guest instructions from SysTick: mps2's SysTick runs at 25 MHz, a tick is 40 ns, an
/// instruction 64 ns under `-icount shift=6` (exact conversion: see [`systick`]).
pub struct Counter(systick::SysTickInstructions<40_000>);

impl Counter {
    /// Takes SysTick and starts counting from 0.
    pub fn start(syst: SYST) -> Self {
        Self(systick::SysTickInstructions::start(syst))
    }

    /// SysTick wraps so far (for the counter's self-test).
    pub fn wraps(&self) -> u32 {
        self.0.wraps()
    }
}

impl Platform for Counter {
    fn instructions(&mut self) -> u64 {
        self.0.instructions()
    }
}

/// Ends the emulation with `code` as QEMU's exit status.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    defmt::error!("{}", defmt::Display2Format(info));
    exit(EXIT_PANIC)
}

#[defmt::panic_handler]
fn defmt_panic() -> ! {
    exit(EXIT_PANIC)
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#x}", frame.pc());
    exit(EXIT_HARDFAULT)
}
