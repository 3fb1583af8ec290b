//! The word2vec showcase of `tinytune-board-common` on mps2-an386: word vectors looked up in
//! place in flash, then trained further with skip-gram and negative sampling on sentences
//! generated on the device, instructions counted by SysTick under `-icount shift=6`; the
//! learned vectors saved to and reloaded from a RAM-backed NOR flash.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use defmt::unwrap;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune_board_common::{word2vec, RamNorFlash};
use tinytune_qemu_m4::{self as board, FLASH_ERASE_SIZE};

/// The emulated NOR flash the learned vectors are kept in.
type Flash = RamNorFlash<'static, 4, FLASH_ERASE_SIZE>;
/// Its bytes (mps2-an386 has no flash controller), in .bss, exactly as many as the showcase
/// needs.
const FLASH_LEN: usize = word2vec::flash_len::<Flash>();
static FLASH: ConstStaticCell<[u8; FLASH_LEN]> = ConstStaticCell::new([0; FLASH_LEN]);

#[entry]
fn main() -> ! {
    let cp = unwrap!(cortex_m::Peripherals::take());
    let mut flash = Flash::new(FLASH.take());
    // Start from an erased flash, as a freshly programmed device has.
    unwrap!(flash.erase(0, FLASH_LEN as u32).ok());
    let mut counter = board::Counter::start(cp.SYST);
    board::exit(word2vec::main(&mut counter, flash))
}
