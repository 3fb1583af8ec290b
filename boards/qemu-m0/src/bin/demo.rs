//! The fine-tuning demo of `tinytune-board-common` on the micro:bit: instructions counted by
//! SysTick under `-icount shift=6`, the learned parameters kept in the on-chip flash through the
//! NVMC. Ends with the stack's high-water mark (16 KiB of RAM hold everything).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use tinytune_board_common::demo;
use tinytune_qemu_m0::nvmc::{Nvmc, PAGE_SIZE};
use tinytune_qemu_m0::{self as board, Counter};

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let len = demo::flash_len::<Nvmc>();
    let mut flash = unwrap!(Nvmc::take());
    let reserved = flash.capacity();
    if flash.limit(len).is_err() {
        defmt::error!(
            "the demo needs {=usize} B of flash, memory.x reserves {=usize} B in {=usize} B pages",
            len,
            reserved,
            PAGE_SIZE
        );
        board::exit(board::EXIT_SETUP)
    }
    // Start from an erased flash, as a freshly programmed device has (QEMU zero-fills the
    // flash the ELF does not cover).
    unwrap!(flash.erase(0, len as u32).ok());
    let mut counter = Counter::start(cp.SYST);
    board::exit(demo::main(&mut counter, flash))
}
