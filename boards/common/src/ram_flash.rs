//! [`RamNorFlash`]: a NOR flash over a RAM buffer, for emulated boards whose "flash" is RAM.

use embedded_storage::nor_flash::{
    check_erase, check_read, check_write, ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash,
};

/// A NOR flash emulated in a byte buffer with NOR's rules: an erase sets a whole page of
/// `ERASE` bytes to `0xFF`; a write of `WRITE`-byte units can only clear bits (the stored byte
/// becomes `old & new`), so writing without erasing first corrupts data exactly as real NOR
/// flash does.
///
/// QEMU's `mps2-an386` and riscv32 `virt` have no flash controller, so their demos keep the
/// parameters in one of these; the micro:bit board uses the nRF51's emulated NVMC instead.
pub struct RamNorFlash<'a, const WRITE: usize, const ERASE: usize> {
    bytes: &'a mut [u8],
}

impl<'a, const WRITE: usize, const ERASE: usize> RamNorFlash<'a, WRITE, ERASE> {
    /// A flash over `bytes` (its length should be a multiple of `ERASE`; a trailing partial
    /// page cannot be erased). The content is kept: call [`NorFlash::erase`] for a blank flash.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes }
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for RamNorFlash<'_, WRITE, ERASE> {
    type Error = NorFlashErrorKind;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for RamNorFlash<'_, WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        check_read(self, offset, bytes.len())?;
        let start = offset as usize;
        let src = self
            .bytes
            .get(start..start + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        bytes.copy_from_slice(src);
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for RamNorFlash<'_, WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        check_erase(self, from, to)?;
        self.bytes
            .get_mut(from as usize..to as usize)
            .ok_or(NorFlashErrorKind::OutOfBounds)?
            .fill(0xFF);
        Ok(())
    }

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        check_write(self, offset, bytes.len())?;
        let start = offset as usize;
        let dst = self
            .bytes
            .get_mut(start..start + bytes.len())
            .ok_or(NorFlashErrorKind::OutOfBounds)?;
        for (d, &s) in dst.iter_mut().zip(bytes) {
            *d &= s;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_clear_bits_and_erase_restores_ones() {
        let mut mem = [0u8; 64];
        let mut f = RamNorFlash::<4, 32>::new(&mut mem);
        f.erase(0, 32).unwrap();
        f.write(4, &[0b1010_1010, 0xFF, 0x0F, 0xF0]).unwrap();
        f.write(4, &[0b0110_0110, 0x00, 0xFF, 0xFF]).unwrap();
        let mut out = [0u8; 4];
        f.read(4, &mut out).unwrap();
        assert_eq!(out, [0b0010_0010, 0x00, 0x0F, 0xF0]);
        f.erase(0, 32).unwrap();
        f.read(4, &mut out).unwrap();
        assert_eq!(out, [0xFF; 4]);
    }

    #[test]
    fn rejects_misaligned_and_out_of_bounds_operations() {
        let mut mem = [0u8; 64];
        let mut f = RamNorFlash::<4, 32>::new(&mut mem);
        assert_eq!(f.write(2, &[0; 4]), Err(NorFlashErrorKind::NotAligned));
        assert_eq!(f.write(0, &[0; 3]), Err(NorFlashErrorKind::NotAligned));
        assert_eq!(f.erase(0, 16), Err(NorFlashErrorKind::NotAligned));
        assert_eq!(f.erase(32, 96), Err(NorFlashErrorKind::OutOfBounds));
        assert_eq!(f.read(62, &mut [0; 4]), Err(NorFlashErrorKind::OutOfBounds));
    }
}
