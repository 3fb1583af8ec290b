//! Self-check of the board's fault path: reads an address with nothing behind it, which raises a
//! HardFault; the handler must end QEMU with status 3 (`EXIT_HARDFAULT`). CI runs it and expects 3.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinytune_qemu_m4 as board;

#[entry]
fn main() -> ! {
    // SAFETY: deliberately invalid: 0xF000_0000 is unmapped on mps2-an386, so this read faults.
    let v = unsafe { core::ptr::read_volatile(0xF000_0000 as *const u32) };
    defmt::println!(
        "read {=u32} from an unmapped address: no fault was raised",
        v
    );
    board::exit(0)
}
