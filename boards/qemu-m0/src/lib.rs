//! Board support for QEMU's microbit (nRF51822, Cortex-M0, 256 KiB flash, 16 KiB RAM): the
//! global defmt logger over semihosting, exits that turn a panic or a HardFault into a non-zero
//! QEMU exit status, the demo's instruction counter, a NOR-flash driver for the nRF51's NVMC,
//! and the stack's high-water mark.
#![no_std]

use cortex_m as _; // links the critical-section implementation
use cortex_m::peripheral::SYST;
use cortex_m_rt::{exception, ExceptionFrame};
use defmt_semihosting as _; // global logger: defmt frames -> semihosting stdout
use tinytune_board_common::Platform;

pub mod nvmc;
#[path = "../../qemu-m4/src/systick.rs"]
pub mod systick;

/// Exit status of a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit status of a HardFault.
pub const EXIT_HARDFAULT: i32 = 3;
/// Exit status when the board cannot set up what the demo needs.
pub const EXIT_SETUP: i32 = 2;

/// Guest instructions from SysTick: the micro:bit's SysTick runs at 16 MHz, a tick is 62.5 ns,
/// an instruction 64 ns under `-icount shift=6` (about `ticks * 125 / 128`; the exact
/// conversion is in [`systick`]).
pub struct Counter(systick::SysTickInstructions<62_500>);

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

    /// The stack's high-water mark: the demo must fit the micro:bit's 16 KiB of RAM.
    fn report(&mut self) {
        defmt::println!(
            "stack: {=usize} B used at most, of {=usize} B",
            stack_peak(),
            stack_size()
        );
    }
}

extern "C" {
    /// Lowest address of the stack: the end of .bss (cortex-m-rt's link.x).
    static _stack_end: u32;
    /// Initial stack pointer, the end of RAM.
    static _stack_start: u32;
}

/// The deepest the stack has been since reset, in bytes: the reset handler paints the whole
/// stack region with [`cortex_m_rt::STACK_PAINT_VALUE`] (feature `paint-stack`), and this finds
/// the lowest word that no longer holds it. A call that used memory without writing a different
/// value there is not seen, so this is a lower bound, exact in practice.
pub fn stack_peak() -> usize {
    let low = core::ptr::addr_of!(_stack_end) as usize;
    let high = core::ptr::addr_of!(_stack_start) as usize;
    let mut addr = low;
    while addr < high {
        // SAFETY: `addr` is a word-aligned address in [_stack_end, _stack_start), the stack
        // region of RAM; reading it is always valid. Volatile: the compiler must not assume it
        // knows what the stack holds.
        let word = unsafe { core::ptr::read_volatile(addr as *const u32) };
        if word != cortex_m_rt::STACK_PAINT_VALUE {
            break;
        }
        addr += 4;
    }
    high - addr
}

/// Bytes of RAM left to the stack: from the end of .bss to the end of RAM.
pub fn stack_size() -> usize {
    core::ptr::addr_of!(_stack_start) as usize - core::ptr::addr_of!(_stack_end) as usize
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
