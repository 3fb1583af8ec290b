//! The fine-tuning demo of `tinytune-board-common` on riscv32 `virt`: instructions counted by
//! `minstret` under `-icount shift=0`, the learned parameters kept in a RAM-backed NOR flash.
#![no_std]
#![no_main]

use defmt::unwrap;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune_board_common::{demo, RamNorFlash};
use tinytune_qemu_riscv::{self as board, FLASH_ERASE_SIZE};

/// The emulated NOR flash of the parameters.
type Flash = RamNorFlash<'static, 4, FLASH_ERASE_SIZE>;
/// Its bytes (`virt` has no NOR flash controller the demo could use), in .bss, exactly as many as the demo needs.
const FLASH_LEN: usize = demo::flash_len::<Flash>();
static FLASH: ConstStaticCell<[u8; FLASH_LEN]> = ConstStaticCell::new([0; FLASH_LEN]);

#[riscv_rt::entry]
fn main() -> ! {
    let mut flash = Flash::new(FLASH.take());
    // Start from an erased flash, as a freshly programmed device has.
    unwrap!(flash.erase(0, FLASH_LEN as u32).ok());
    let mut counter = board::Counter::start();
    board::exit(demo::main(&mut counter, flash))
}
