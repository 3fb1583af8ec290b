//! Self-check of the board's fault path: executes a permanently undefined instruction, which
//! raises a HardFault on the Cortex-M0 (it has no UsageFault; and a read of an unmapped address
//! does not fault on QEMU's nRF51); the handler must end QEMU with status 3 (`EXIT_HARDFAULT`).
//! CI runs it and expects 3.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinytune_qemu_m0 as _;

#[entry]
fn main() -> ! {
    defmt::println!("about to execute an undefined instruction");
    cortex_m::asm::udf()
}
