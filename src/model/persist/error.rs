//! [`PersistError`], what can go wrong saving or loading parameters.

use core::fmt;
use embedded_storage::nor_flash::{NorFlashError, NorFlashErrorKind};

/// An error of [`ParamStore`](super::ParamStore).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PersistError {
    /// The flash driver returned an error (for a power cut or a hardware fault, usually
    /// [`NorFlashErrorKind::Other`]).
    Flash(NorFlashErrorKind),
    /// Neither slot holds a complete, intact save with this store's tag and the requested
    /// parameter count (a fresh or erased device, a save from another model, or damage to every
    /// save). The caller keeps its initial parameters.
    NoValidSlot,
    /// The region does not fit the flash: its offset is not a multiple of the erase size, its
    /// length is not a positive multiple of twice the erase size, it extends beyond the flash,
    /// the flash's write or read unit is larger than 256 bytes or does not divide the erase
    /// size — or the parameters do not fit half the region (see
    /// [`ParamStore::region_len`](super::ParamStore::region_len)).
    Layout,
    /// The slot read back after programming differs from what was written (a worn or failing
    /// flash). When the mismatch is found before the commit record, nothing was committed: the
    /// previous save stays the newest.
    Verify,
}

impl fmt::Display for PersistError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PersistError::Flash(kind) => write!(f, "flash error: {kind}"),
            PersistError::NoValidSlot => {
                f.write_str("no intact saved parameters for this model in flash")
            }
            PersistError::Layout => f.write_str(
                "the parameter region is misaligned, outside the flash or too small for the parameters",
            ),
            PersistError::Verify => {
                f.write_str("flash read back after programming differs from what was written")
            }
        }
    }
}

impl core::error::Error for PersistError {}

// Written by hand: `NorFlashErrorKind` derives `defmt::Format` only under a feature of
// embedded-storage this crate does not require.
#[cfg(feature = "defmt")]
impl defmt::Format for PersistError {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            PersistError::Flash(kind) => {
                let kind = match kind {
                    NorFlashErrorKind::NotAligned => "not aligned",
                    NorFlashErrorKind::OutOfBounds => "out of bounds",
                    _ => "other",
                };
                defmt::write!(f, "Flash({=str})", kind)
            }
            PersistError::NoValidSlot => defmt::write!(f, "NoValidSlot"),
            PersistError::Layout => defmt::write!(f, "Layout"),
            PersistError::Verify => defmt::write!(f, "Verify"),
        }
    }
}

/// Maps a driver error to [`PersistError::Flash`].
pub(crate) fn flash<E: NorFlashError>(e: E) -> PersistError {
    PersistError::Flash(e.kind())
}
