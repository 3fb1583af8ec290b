//! The fine-tuning demo of `tinytune-board-common` on riscv32 `virt`: instructions counted by
//! `minstret` under `-icount shift=0`, the learned parameters kept in a RAM-backed NOR flash.
#![no_std]
#![no_main]

use defmt::unwrap;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune_board_common::{demo, RamNorFlash};
use tinytune_qemu_riscv::{self as board, FLASH_ERASE_SIZE, FLASH_RESERVED};

/// The "flash" (`virt` has no NOR flash controller the demo could use), in .bss.
static FLASH: ConstStaticCell<[u8; FLASH_RESERVED]> = ConstStaticCell::new([0; FLASH_RESERVED]);

#[riscv_rt::entry]
fn main() -> ! {
    let len = demo::flash_len(FLASH_ERASE_SIZE);
    let Some(bytes) = FLASH.take().get_mut(..len) else {
        defmt::error!(
            "the demo needs {=usize} B of flash, the board reserves {=usize}",
            len,
            FLASH_RESERVED
        );
        board::exit(board::EXIT_SETUP)
    };
    let mut flash = RamNorFlash::<4, FLASH_ERASE_SIZE>::new(bytes);
    // Start from an erased flash, as a freshly programmed device has.
    unwrap!(flash.erase(0, len as u32).ok());
    let mut counter = board::Counter::start();
    board::exit(demo::main(&mut counter, flash))
}
