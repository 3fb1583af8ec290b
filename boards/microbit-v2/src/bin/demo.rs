//! The scripted demo on the micro:bit: held-out samples replayed from flash, drift, on-device
//! fine-tuning, save and reload, with costs in real CPU cycles (DWT). Prints over defmt/RTT.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use tinytune_board_common::demo;
use tinytune_microbit_v2::{cycles::DwtCycles, storage, Board};

#[entry]
fn main() -> ! {
    let board = unwrap!(Board::take());
    let mut platform = DwtCycles::new(board.DCB, board.DWT);
    let flash = unwrap!(storage::take(board.NVMC));
    let needed = needed(&flash);
    if flash.capacity() < needed {
        defmt::error!(
            "parameter region is {=usize} B, the demo needs {=usize} B: enlarge STORAGE in memory.x",
            flash.capacity(),
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

/// Bytes of flash the demo needs on `F`.
fn needed<F: NorFlash>(_: &F) -> usize {
    demo::flash_len::<F>()
}
