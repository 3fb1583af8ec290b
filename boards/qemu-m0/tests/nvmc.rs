//! On-target tests of the NVMC driver on QEMU's nRF51: erase, write, read back, and NOR
//! semantics (a write only clears bits; an erase sets its whole page, and only it, to `0xFF`).
#![no_std]
#![no_main]

use cortex_m_rt as _;
use defmt::unwrap;
use embedded_storage::nor_flash::ReadNorFlash;
use tinytune_qemu_m0 as _;
use tinytune_qemu_m0::nvmc::Nvmc;

/// Every byte of `[from, to)` equals `value`.
fn all(flash: &mut Nvmc, from: usize, to: usize, value: u8) -> bool {
    let mut buf = [0u8; 64];
    (from..to).step_by(buf.len()).all(|at| {
        let n = buf.len().min(to - at);
        unwrap!(flash.read(at as u32, &mut buf[..n]).ok());
        buf[..n].iter().all(|&b| b == value)
    })
}

#[defmt_test::tests]
mod tests {
    use crate::all;
    use defmt::{assert, assert_eq, unwrap};
    use embedded_storage::nor_flash::{NorFlash, NorFlashErrorKind as E, ReadNorFlash};
    use tinytune_qemu_m0::nvmc::{Nvmc, PAGE_SIZE};

    #[init]
    fn init() -> Nvmc {
        let flash = unwrap!(Nvmc::take());
        assert!(Nvmc::take().is_none(), "a second driver was handed out");
        flash
    }

    #[test]
    fn region_is_sixteen_pages(flash: &mut Nvmc) {
        assert_eq!(flash.capacity(), 16 * PAGE_SIZE);
    }

    #[test]
    fn erase_sets_every_page_to_ones(flash: &mut Nvmc) {
        let len = flash.capacity();
        unwrap!(flash.erase(0, len as u32).ok());
        assert!(all(flash, 0, len, 0xFF));
    }

    #[test]
    fn write_then_read_back(flash: &mut Nvmc) {
        let at = 2 * PAGE_SIZE + 8;
        let data: [u8; 12] = [1, 2, 3, 4, 0xA5, 0x5A, 0, 0xFF, 9, 8, 7, 6];
        unwrap!(flash.write(at as u32, &data).ok());
        let mut back = [0u8; 12];
        unwrap!(flash.read(at as u32, &mut back).ok());
        assert_eq!(back, data);
        // unaligned reads of any length (READ_SIZE = 1)
        let mut mid = [0u8; 3];
        unwrap!(flash.read(at as u32 + 1, &mut mid).ok());
        assert_eq!(mid, [2, 3, 4]);
        // the bytes around were not touched
        assert!(all(flash, 2 * PAGE_SIZE, at, 0xFF));
        assert!(all(flash, at + data.len(), 3 * PAGE_SIZE, 0xFF));
    }

    #[test]
    fn a_second_write_only_clears_bits(flash: &mut Nvmc) {
        let at = 5 * PAGE_SIZE as u32;
        unwrap!(flash.write(at, &[0b1010_1010, 0xFF, 0x0F, 0xF0]).ok());
        unwrap!(flash.write(at, &[0b0110_0110, 0x00, 0xFF, 0xFF]).ok());
        let mut back = [0u8; 4];
        unwrap!(flash.read(at, &mut back).ok());
        assert_eq!(back, [0b0010_0010, 0x00, 0x0F, 0xF0]);
    }

    #[test]
    fn erase_restores_only_its_page(flash: &mut Nvmc) {
        let last = flash.capacity() - PAGE_SIZE;
        for page in [4 * PAGE_SIZE, 5 * PAGE_SIZE, 6 * PAGE_SIZE, last] {
            unwrap!(flash.write(page as u32, &[0x11; 8]).ok());
        }
        unwrap!(flash.erase(5 * PAGE_SIZE as u32, 6 * PAGE_SIZE as u32).ok());
        assert!(all(flash, 5 * PAGE_SIZE, 6 * PAGE_SIZE, 0xFF));
        for page in [4 * PAGE_SIZE, 6 * PAGE_SIZE, last] {
            assert!(all(flash, page, page + 8, 0x11), "page at {} changed", page);
        }
        // the region's last page (the last of the chip's flash) erases too
        unwrap!(flash.erase(last as u32, (last + PAGE_SIZE) as u32).ok());
        assert!(all(flash, last, last + PAGE_SIZE, 0xFF));
    }

    #[test]
    fn rejects_misaligned_and_out_of_bounds_operations(flash: &mut Nvmc) {
        let len = flash.capacity() as u32;
        assert!(flash.write(2, &[0; 4]) == Err(E::NotAligned));
        assert!(flash.write(0, &[0; 3]) == Err(E::NotAligned));
        assert!(flash.erase(0, 512) == Err(E::NotAligned));
        assert!(flash.erase(len, len + 1024) == Err(E::OutOfBounds));
        assert!(flash.write(len, &[0; 4]) == Err(E::OutOfBounds));
        assert!(flash.read(len - 2, &mut [0; 4]) == Err(E::OutOfBounds));
    }

    // last: it shrinks the driver
    #[test]
    fn limit_accepts_only_whole_pages_within_the_region(flash: &mut Nvmc) {
        let len = flash.capacity();
        assert!(flash.limit(len + PAGE_SIZE) == Err(E::OutOfBounds));
        assert!(flash.limit(PAGE_SIZE + 4) == Err(E::NotAligned));
        assert_eq!(flash.capacity(), len);
        unwrap!(flash.limit(2 * PAGE_SIZE).ok());
        assert_eq!(flash.capacity(), 2 * PAGE_SIZE);
        assert!(flash.write(2 * PAGE_SIZE as u32, &[0; 4]) == Err(E::OutOfBounds));
    }
}
