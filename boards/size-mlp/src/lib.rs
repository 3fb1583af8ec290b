//! The parts both firmwares of this crate share: text output and exit through semihosting,
//! and a panic handler that pulls in nothing (no formatting, no message: what a panic costs
//! in flash is then the handler's few instructions, and `cargo xtask size` measures the model
//! runtime, not a logger).
#![no_std]

use core::ffi::CStr;
use semihosting::sys::arm_compat::{sys_write0, sys_writec};

/// Exit status of a panic (as the other emulated boards).
pub const EXIT_PANIC: i32 = 101;
/// Exit status when the model gives another class than the host's, or an error.
pub const EXIT_FAILURE: i32 = 1;

/// Writes `text` to the host's standard output.
pub fn print(text: &CStr) {
    sys_write0(text);
}

/// Writes `n` in decimal (no formatting machinery: a `u32` has at most 10 digits).
pub fn print_u32(mut n: u32) {
    let mut digits = [0u8; 10];
    let mut len = 0;
    for d in digits.iter_mut() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    for &d in digits.iter().take(len).rev() {
        sys_writec(d);
    }
}

/// Ends the emulation with `code` as QEMU's exit status.
pub fn exit(code: i32) -> ! {
    semihosting::process::exit(code)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(EXIT_PANIC)
}
