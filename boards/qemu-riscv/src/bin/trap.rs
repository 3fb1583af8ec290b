//! Self-check of the board's trap path: executes an illegal instruction; the exception handler
//! must end QEMU with status 3 (`EXIT_TRAP`) instead of hanging. CI runs it and expects 3.
#![no_std]
#![no_main]

use tinytune_qemu_riscv as board;

#[riscv_rt::entry]
fn main() -> ! {
    defmt::println!("about to execute an illegal instruction");
    // SAFETY: deliberately faulting: `unimp` raises an illegal-instruction exception, which the
    // board's handler turns into an exit; nothing after it runs.
    unsafe { core::arch::asm!("unimp") };
    board::exit(0)
}
