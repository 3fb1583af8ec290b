//! The word2vec showcase of `tinytune-board-common` on riscv32 `virt` (rv32imac, f32 in
//! software): word vectors looked up in place in flash, then trained further with skip-gram and
//! negative sampling on sentences generated on the device, instructions counted by `minstret`
//! under `-icount shift=0`; the learned vectors saved to and reloaded from a RAM-backed NOR
//! flash. The vectors it ends with are the M4F's and the host's, bit for bit.
#![no_std]
#![no_main]

use defmt::unwrap;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune_board_common::{word2vec, RamNorFlash};
use tinytune_qemu_riscv::{self as board, FLASH_ERASE_SIZE};

/// The emulated NOR flash the learned vectors are kept in.
type Flash = RamNorFlash<'static, 4, FLASH_ERASE_SIZE>;
/// Its bytes (`virt` has no flash controller), in .bss, exactly as many as the showcase needs.
const FLASH_LEN: usize = word2vec::flash_len::<Flash>();
static FLASH: ConstStaticCell<[u8; FLASH_LEN]> = ConstStaticCell::new([0; FLASH_LEN]);

#[riscv_rt::entry]
fn main() -> ! {
    let mut flash = Flash::new(FLASH.take());
    // Start from an erased flash, as a freshly programmed device has.
    unwrap!(flash.erase(0, FLASH_LEN as u32).ok());
    let mut counter = board::Counter::start();
    board::exit(word2vec::main(&mut counter, flash))
}
