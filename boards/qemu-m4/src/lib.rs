//! Board support for QEMU's mps2-an386 (Cortex-M4F): the global defmt logger over semihosting,
//! and exits that turn a panic or a HardFault into a non-zero QEMU exit status.
#![no_std]

use cortex_m as _; // links the critical-section implementation
use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // global logger: defmt frames -> semihosting stdout

/// Exit status of a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit status of a HardFault.
pub const EXIT_HARDFAULT: i32 = 3;

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
