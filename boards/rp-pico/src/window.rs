//! A window of a larger NOR flash, seen as a NOR flash of its own.
//!
//! The chip's flash driver takes offsets from the start of the whole chip, where the program
//! itself lives; the firmware gets only this window onto the region reserved for parameters,
//! with offsets from the region's start. Every offset is bounds-checked with checked
//! arithmetic, so no offset given to the window reaches flash outside it.

use embedded_storage::nor_flash::{
    ErrorType, MultiwriteNorFlash, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// The bytes `start..start + len` of `F`.
pub struct Window<F> {
    flash: F,
    start: u32,
    len: u32,
}

/// A failed access through a [`Window`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, defmt::Format)]
pub enum WindowError<E> {
    /// The range does not lie inside the window (or `from > to` for an erase).
    OutOfBounds,
    /// The flash driver failed.
    Flash(E),
}

impl<E: NorFlashError> NorFlashError for WindowError<E> {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            WindowError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            WindowError::Flash(e) => e.kind(),
        }
    }
}

impl<F: NorFlash> Window<F> {
    /// The window `start..start + len` of `flash`; `None` unless both ends lie on erase
    /// boundaries inside the flash.
    pub fn new(flash: F, start: u32, len: u32) -> Option<Self> {
        let erase = u32::try_from(F::ERASE_SIZE).ok().filter(|&e| e > 0)?;
        let end = start.checked_add(len)?;
        let fits = usize::try_from(end).ok()? <= flash.capacity();
        (fits && start.is_multiple_of(erase) && len.is_multiple_of(erase)).then_some(Self {
            flash,
            start,
            len,
        })
    }

    /// The absolute flash offset of `offset..offset + count` inside the window.
    fn place(&self, offset: u32, count: usize) -> Result<u32, WindowError<F::Error>> {
        let count = u32::try_from(count).map_err(|_| WindowError::OutOfBounds)?;
        let end = offset.checked_add(count).ok_or(WindowError::OutOfBounds)?;
        if end > self.len {
            return Err(WindowError::OutOfBounds);
        }
        // Cannot overflow: start + len was checked in `new` and offset ≤ end ≤ len.
        self.start
            .checked_add(offset)
            .ok_or(WindowError::OutOfBounds)
    }
}

impl<F: NorFlash> ErrorType for Window<F> {
    type Error = WindowError<F::Error>;
}

impl<F: NorFlash> ReadNorFlash for Window<F> {
    const READ_SIZE: usize = F::READ_SIZE;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = self.place(offset, bytes.len())?;
        self.flash.read(at, bytes).map_err(WindowError::Flash)
    }

    fn capacity(&self) -> usize {
        self.len as usize
    }
}

impl<F: NorFlash> NorFlash for Window<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;

    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = self.place(offset, bytes.len())?;
        self.flash.write(at, bytes).map_err(WindowError::Flash)
    }

    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        let count = to.checked_sub(from).ok_or(WindowError::OutOfBounds)?;
        let at = self.place(from, count as usize)?;
        self.flash.erase(at, at + count).map_err(WindowError::Flash)
    }
}

impl<F: MultiwriteNorFlash> MultiwriteNorFlash for Window<F> {}
