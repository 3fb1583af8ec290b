//! Demo firmware (placeholder until the kernels land).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinytune::num::quant::Requantizer;
use tinytune_qemu_m4 as board;

#[entry]
fn main() -> ! {
    let r = Requantizer::from_real(0.25);
    defmt::println!("requantizer(0.25) = {}", r);
    board::exit(0)
}
