//! Board support for QEMU's riscv32 `virt` (RV32IMAC code, `-bios none`): the global defmt logger
//! over semihosting, exits that turn a panic or a trap into a non-zero QEMU exit status, and the
//! instruction counter of the demo.
#![no_std]

use defmt_semihosting as _; // global logger: defmt frames -> semihosting stdout
use riscv as _; // links the critical-section implementation
use riscv::register::minstret;
use tinytune_board_common::Platform;

/// Exit status of a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit status of an exception trap (illegal instruction, access fault, ...).
pub const EXIT_TRAP: i32 = 3;
/// Exit status when the board cannot set up what the demo needs.
pub const EXIT_SETUP: i32 = 2;

/// Erase page of the demo's RAM-backed flash: the common 4 KiB sector of NOR parts.
pub const FLASH_ERASE_SIZE: usize = 4096;

/// Guest instructions from the `minstret` CSR, which QEMU advances by exactly one per retired
/// instruction under `-icount shift=0` (the runner's setting): exact, 64 bits (read high, low,
/// high again, so a carry between the halves is not missed).
pub struct Counter {
    start: u64,
}

impl Counter {
    /// Starts counting from 0.
    pub fn start() -> Self {
        Self {
            start: minstret::read64(),
        }
    }
}

impl Platform for Counter {
    fn instructions(&mut self) -> u64 {
        minstret::read64().wrapping_sub(self.start)
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

/// Every exception without its own handler (riscv-rt would loop forever): report it and exit.
#[export_name = "ExceptionHandler"]
fn exception_handler(frame: &riscv_rt::TrapFrame) -> ! {
    defmt::error!(
        "trap: mcause={=usize:#x} mepc={=usize:#x} mtval={=usize:#x} (ra={=usize:#x})",
        riscv::register::mcause::read().bits(),
        riscv::register::mepc::read(),
        riscv::register::mtval::read(),
        frame.ra
    );
    exit(EXIT_TRAP)
}
