//! A NOR-flash driver for the nRF51's non-volatile memory controller (NVMC), over the storage
//! region that memory.x reserves at the end of the on-chip flash.
//!
//! The nRF51 flash reads like memory. To change it, the NVMC's CONFIG register selects a mode:
//! in write mode (WEN) a 32-bit store to a flash word programs it, which can only clear bits
//! (the word becomes `old & new`); in erase mode (EEN) writing a page's address to ERASEPAGE
//! sets its 1 KiB to `0xFF`. READY reads 1 when the controller is idle. QEMU's `microbit`
//! emulates exactly this (writes only clear bits, word stores only, 1 KiB pages, READY always 1).
//! Each operation waits for READY, so the driver also follows the real chip's timing rules.

use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};
use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// Bytes in one flash page, the unit of erase.
pub const PAGE_SIZE: usize = 1024;
/// Bytes in one flash word, the unit of write.
pub const WORD_SIZE: usize = 4;

/// The NVMC's registers (nRF51 reference manual, NVMC chapter).
const NVMC_BASE: usize = 0x4001_E000;
const READY: *const u32 = (NVMC_BASE + 0x400) as *const u32;
const CONFIG: *mut u32 = (NVMC_BASE + 0x504) as *mut u32;
const ERASEPAGE: *mut u32 = (NVMC_BASE + 0x508) as *mut u32;
/// CONFIG values: read only, write enabled, erase enabled.
const CONFIG_REN: u32 = 0;
const CONFIG_WEN: u32 = 1;
const CONFIG_EEN: u32 = 2;

extern "C" {
    /// First byte of the storage region (memory.x).
    static __storage_start: u8;
    /// One past its last byte.
    static __storage_end: u8;
}

/// Set once the driver has been handed out: two drivers would race on CONFIG.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The storage region as a NOR flash: 1-byte reads, 4-byte writes, 1 KiB erases.
pub struct Nvmc {
    /// Address of the region's first byte (page-aligned).
    start: usize,
    /// Bytes in the region (whole pages).
    len: usize,
}

impl Nvmc {
    /// The driver over the whole storage region, the first time it is called; `None` after.
    pub fn take() -> Option<Self> {
        let first = critical_section::with(|_| {
            let taken = TAKEN.load(Ordering::Relaxed);
            TAKEN.store(true, Ordering::Relaxed);
            !taken
        });
        let start = ptr::addr_of!(__storage_start) as usize;
        let end = ptr::addr_of!(__storage_end) as usize;
        first.then_some(Self {
            start,
            len: end.saturating_sub(start),
        })
    }

    /// Limits the driver to the region's first `len` bytes: `NotAligned` unless `len` is a
    /// whole number of pages, `OutOfBounds` if it exceeds the current capacity.
    pub fn limit(&mut self, len: usize) -> Result<(), NorFlashErrorKind> {
        if !len.is_multiple_of(PAGE_SIZE) {
            return Err(NorFlashErrorKind::NotAligned);
        }
        if len > self.len {
            return Err(NorFlashErrorKind::OutOfBounds);
        }
        self.len = len;
        Ok(())
    }

    /// Selects a CONFIG mode and waits until the controller is idle.
    fn set_mode(&mut self, mode: u32) {
        // SAFETY: CONFIG is the NVMC's mode register, a valid aligned MMIO word; `self` is the
        // only driver (`take`), so nothing else changes the mode meanwhile.
        unsafe { ptr::write_volatile(CONFIG, mode) };
        wait_ready();
    }
}

/// Busy-waits until the NVMC has finished its operation.
fn wait_ready() {
    // SAFETY: READY is a read-only MMIO word of the NVMC; reading it has no side effect.
    while unsafe { ptr::read_volatile(READY) } & 1 == 0 {}
}

impl ErrorType for Nvmc {
    type Error = NorFlashErrorKind;
}

impl ReadNorFlash for Nvmc {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len())?;
        let base = self.start + offset as usize;
        for (i, byte) in bytes.iter_mut().enumerate() {
            // SAFETY: `check_read` keeps `offset + len` within the storage region, which is
            // mapped, readable flash. Volatile: the NVMC changes it behind the compiler's back.
            *byte = unsafe { ptr::read_volatile((base + i) as *const u8) };
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.len
    }
}

impl NorFlash for Nvmc {
    const WRITE_SIZE: usize = WORD_SIZE;
    const ERASE_SIZE: usize = PAGE_SIZE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to)?;
        self.set_mode(CONFIG_EEN);
        for page in (from as usize..to as usize).step_by(PAGE_SIZE) {
            // SAFETY: ERASEPAGE is the NVMC's erase register; the value is the address of a
            // page inside the storage region (`check_erase`: page-aligned, in bounds), which
            // holds no code or data of the program (memory.x).
            unsafe { ptr::write_volatile(ERASEPAGE, (self.start + page) as u32) };
            wait_ready();
        }
        self.set_mode(CONFIG_REN);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len())?;
        self.set_mode(CONFIG_WEN);
        let base = self.start + offset as usize;
        for (i, word) in bytes.chunks_exact(WORD_SIZE).enumerate() {
            let word = <[u8; WORD_SIZE]>::try_from(word).map_err(|_| NorFlashErrorKind::Other)?;
            let value = u32::from_le_bytes(word);
            // SAFETY: `check_write` keeps the range word-aligned and inside the storage region,
            // so this is an aligned word of flash the program does not otherwise use; in write
            // mode the NVMC programs it (clearing the bits that are 0 in `value`).
            unsafe { ptr::write_volatile((base + i * WORD_SIZE) as *mut u32, value) };
            wait_ready();
        }
        self.set_mode(CONFIG_REN);
        Ok(())
    }
}
