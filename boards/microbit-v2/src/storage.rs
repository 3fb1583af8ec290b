//! The flash pages that hold the fine-tuned parameters.
//!
//! `memory.x` keeps the last 64 KiB of the nRF52833's flash (0x0007_0000..0x0008_0000, 16
//! erase pages of 4 KiB) out of the program's `FLASH` region and names its bounds
//! `_storage_start` and `_storage_end`. The NVMC driver of the HAL erases and writes them and
//! implements `NorFlash` with offsets relative to the region's start. Flashing a new program
//! with probe-rs erases only the pages the program occupies, so learned parameters survive a
//! re-flash of the same layout (a chip erase clears them).

use core::sync::atomic::{AtomicBool, Ordering};
use microbit::hal::nvmc::Nvmc;
use microbit::pac::NVMC;

/// Bytes in one erase page of the nRF52833's flash.
pub const PAGE_SIZE: usize = 4096;

extern "C" {
    // Linker symbols from memory.x: only their addresses mean something.
    static mut _storage_start: u8;
    static mut _storage_end: u8;
}

static TAKEN: AtomicBool = AtomicBool::new(false);

/// The parameter region as a `NorFlash` (capacity 64 KiB, erase size [`PAGE_SIZE`], write size
/// 4), or `None` if it was already handed out.
pub fn take(nvmc: NVMC) -> Option<Nvmc<NVMC>> {
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let start = core::ptr::addr_of_mut!(_storage_start);
    let end = core::ptr::addr_of_mut!(_storage_end);
    let len = (end as usize).saturating_sub(start as usize);
    // SAFETY: memory.x reserves `_storage_start.._storage_end` for this use alone: no code,
    // data or stack of the program lies there. `TAKEN` lets this slice be made once, so it is
    // the only reference to those bytes. The range is mapped flash, readable as plain memory;
    // writes to it go through the NVMC driver, which enables writing first.
    let storage = unsafe { core::slice::from_raw_parts_mut(start, len) };
    Some(Nvmc::new(nvmc, storage))
}
