//! The scripted demo on the Raspberry Pi Pico: held-out samples replayed from flash, drift,
//! on-device fine-tuning, save to and reload from the QSPI flash, with costs in (timer-derived)
//! CPU cycles. Prints over defmt/RTT.
//!
//! The flash driver is embassy-rp's blocking `Flash`: it runs every erase and program from RAM
//! with interrupts off (the chip cannot read its program from the flash while the flash is
//! busy) and pauses the second core, which this firmware leaves unused anyway.
#![no_std]
#![no_main]

mod cycles;
mod window;

use cortex_m_rt::entry;
use defmt::unwrap;
use defmt_rtt as _; // global logger: defmt frames over RTT to the debug probe
use embassy_rp::flash::{Blocking, Flash};
use embassy_rp::peripherals::FLASH;
use panic_probe as _; // panic: message over defmt, then a breakpoint the probe reports
use tinytune_board_common::demo;

/// The Pico's flash chip: 2 MiB.
const FLASH_SIZE: usize = 2 * 1024 * 1024;
/// Where the chip's flash is mapped (XIP).
const FLASH_BASE: usize = 0x1000_0000;

extern "C" {
    // Linker symbols from memory.x: only their addresses mean something.
    static _storage_start: u8;
    static _storage_end: u8;
}

/// The parameter region reserved by memory.x, as offsets into the flash chip.
fn storage_range() -> Option<(u32, u32)> {
    let start = core::ptr::addr_of!(_storage_start) as usize;
    let end = core::ptr::addr_of!(_storage_end) as usize;
    let offset = u32::try_from(start.checked_sub(FLASH_BASE)?).ok()?;
    let len = u32::try_from(end.checked_sub(start)?).ok()?;
    Some((offset, len))
}

#[entry]
fn main() -> ! {
    let p = embassy_rp::init(Default::default());
    let mut platform = cycles::TimerCycles::new(embassy_rp::clocks::clk_sys_freq());
    let chip: Flash<'_, FLASH, Blocking, FLASH_SIZE> = Flash::new_blocking(p.FLASH);
    let (offset, len) = unwrap!(storage_range());
    let flash = unwrap!(window::Window::new(chip, offset, len));
    let needed = demo::flash_len::<window::Window<Flash<'static, FLASH, Blocking, FLASH_SIZE>>>();
    if (len as usize) < needed {
        defmt::error!(
            "parameter region is {=u32} B, the demo needs {=usize} B: enlarge STORAGE in memory.x",
            len,
            needed
        );
    } else {
        let status = demo::main(&mut platform, flash);
        defmt::println!("demo finished, status {=i32}", status);
    }
    loop {
        cortex_m::asm::wfi();
    }
}
