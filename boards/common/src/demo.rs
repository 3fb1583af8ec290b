//! The scripted demo of the emulated boards (being built).

use crate::Platform;
use embedded_storage::nor_flash::NorFlash;

/// Bytes of flash the demo needs for its two parameter slots, for a flash with erase pages of
/// `erase_size` bytes.
pub fn flash_len(erase_size: usize) -> usize {
    16 * 1024usize.div_ceil(erase_size.max(1)) * erase_size.max(1)
}

/// Runs the demo and returns the exit status for the board (0 when every step worked).
pub fn main<P: Platform, F: NorFlash>(platform: &mut P, flash: F) -> i32 {
    let _ = (platform.instructions(), flash.capacity());
    1
}
