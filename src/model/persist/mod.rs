//! Fine-tuned parameters in NOR flash, safe across power cuts.
//!
//! [`ParamStore`] keeps a flat `f32` parameter vector in two slots, A and B, of a flash region
//! reached through the [`embedded_storage`] NOR flash traits (every board HAL with a flash driver
//! implements them). A save overwrites the older (or invalid) slot and programs its commit record
//! last; at boot the newest intact slot wins. Whenever the power goes — mid-erase, mid-write,
//! between two words — the device comes back with either the previous parameters or the new
//! ones, entire, and [`Loaded`] says which slot and save number it got. The byte layout, the write
//! order and the failure model are specified in `docs/persist-format.md`.
//!
//! Each slot carries a tag, the identity of the model its parameters belong to (for example
//! the `.ttm` file's CRC-32 from [`crc32`](crate::model::crc32)), and the parameter count. A slot
//! with another tag or count is not this store's: [`ParamStore::load`] ignores it, and answers
//! [`PersistError::NoValidSlot`] when no slot is this store's, so a firmware with a new model
//! starts from its own initial parameters instead of loading foreign ones.
//!
//! ```ignore
//! use tinytune::model::persist::{ParamStore, PersistError};
//! const N: usize = 1290;
//! // `flash` is the board HAL's NOR flash driver (nRF52: 4-byte writes, 4 KiB pages); the
//! // region is the last 16 KiB of a 512 KiB flash, kept out of the firmware by the linker script.
//! let region = ParamStore::<Nvmc>::region_len(N) as u32;          // 16 KiB
//! let mut store = ParamStore::new(flash, 0x8_0000 - region, region, model_crc)?;
//! let mut params = initial_params;                                 // [f32; N], from the .ttm
//! match store.load(&mut params) {
//!     Ok(loaded) => info!("fine-tuned params, save #{}", loaded.sequence),
//!     Err(PersistError::NoValidSlot) => info!("factory params"),
//!     Err(e) => return Err(e),
//! }
//! fine_tune(&mut params);
//! let saved = store.save(&params)?; // the power may go at any moment: old or new on next boot
//! ```
//!
//! # Sizing
//!
//! A slot needs [`ParamStore::slot_len`] bytes: 20 of header fields, 4 per parameter and 8 of
//! commit record, each part padded to the flash's write unit. [`ParamStore::region_len`] rounds
//! each slot up to whole erase pages. For 1,290 parameters with 4-byte writes, a slot is 5,188
//! bytes: two 4 KiB pages on an nRF52 (a 16 KiB region), six 1 KiB pages on an nRF51 (12 KiB).
//!
//! ```
//! # use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
//! # struct Page<const E: usize>;
//! # impl<const E: usize> ErrorType for Page<E> { type Error = NorFlashErrorKind; }
//! # impl<const E: usize> ReadNorFlash for Page<E> {
//! #     const READ_SIZE: usize = 1;
//! #     fn read(&mut self, _: u32, _: &mut [u8]) -> Result<(), Self::Error> { Ok(()) }
//! #     fn capacity(&self) -> usize { 0 }
//! # }
//! # impl<const E: usize> NorFlash for Page<E> {
//! #     const WRITE_SIZE: usize = 4;
//! #     const ERASE_SIZE: usize = E;
//! #     fn erase(&mut self, _: u32, _: u32) -> Result<(), Self::Error> { Ok(()) }
//! #     fn write(&mut self, _: u32, _: &[u8]) -> Result<(), Self::Error> { Ok(()) }
//! # }
//! use tinytune::model::persist::ParamStore;
//! type Nrf52 = Page<4096>; // write 4 bytes, erase 4 KiB (a flash driver in real code)
//! type Nrf51 = Page<1024>; // write 4 bytes, erase 1 KiB
//! assert_eq!(ParamStore::<Nrf52>::slot_len(1290), 20 + 1290 * 4 + 8);
//! assert_eq!(ParamStore::<Nrf52>::region_len(1290), 2 * 8192);
//! assert_eq!(ParamStore::<Nrf51>::region_len(1290), 2 * 6144);
//! ```
//!
//! Nothing here allocates or panics, whatever the flash holds: every field read from flash is
//! checked before use and every buffer is a 256-byte stack array.

mod error;
mod io;
mod layout;
mod scan;

/// The NOR flash traits the store is generic over (embedded-storage 0.3), re-exported so a
/// driver wrapper or a simulator implements the very version this crate uses, and so
/// [`PersistError::Flash`]'s [`NorFlashErrorKind`](nor_flash::NorFlashErrorKind) can be named.
pub use embedded_storage::nor_flash;
pub use error::PersistError;

use embedded_storage::nor_flash::NorFlash;
use error::flash;
use layout::{commit_len, commit_offset, header_len, round_up, Header, COMMIT};

/// One of the two slots of a [`ParamStore`] region: A at the region's start, B at its middle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Slot {
    /// The first half of the region.
    A,
    /// The second half of the region.
    B,
}

impl Slot {
    /// The other slot.
    pub const fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

/// Where [`ParamStore::load`] (or [`ParamStore::newest`]) found the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Loaded {
    /// The slot read.
    pub slot: Slot,
    /// Its save number: one more than the save before it (wrapping after `u32::MAX`).
    pub sequence: u32,
}

/// Where [`ParamStore::save`] wrote the parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Saved {
    /// The slot written (the one that was older or invalid).
    pub slot: Slot,
    /// Its save number: the newest valid save's plus one, or 1 for the first save.
    pub sequence: u32,
}

/// Parameters of one model in two power-safe slots of a NOR flash region (see the
/// [module documentation](self)).
#[derive(Debug)]
pub struct ParamStore<F> {
    flash: F,
    /// Address of slot A.
    offset: u32,
    /// Half the region: the distance from slot A to slot B.
    half: u32,
    /// Identity of the model whose parameters this store keeps.
    tag: u32,
}

impl<F: NorFlash> ParamStore<F> {
    /// The layout unit: the larger of the write and read sizes, so every program and read
    /// is whole units.
    pub(super) const ALIGN: usize = {
        let w = F::WRITE_SIZE;
        let r = F::READ_SIZE;
        let a = if w > r { w } else { r };
        if a == 0 {
            1
        } else {
            a
        }
    };

    /// Bytes one slot needs for `param_count` parameters, before rounding to whole erase pages:
    /// header fields (20), payload (`4 · param_count`) and commit record (8), each padded to the
    /// flash's write (or read, if larger) unit. Saturates at `usize::MAX`.
    pub const fn slot_len(param_count: usize) -> usize {
        layout::slot_len(Self::ALIGN, param_count.saturating_mul(4))
    }

    /// Bytes of the region [`new`](Self::new) needs for `param_count` parameters: two slots,
    /// each rounded up to whole erase pages ([`NorFlash::ERASE_SIZE`]). Saturates at
    /// `usize::MAX`.
    pub const fn region_len(param_count: usize) -> usize {
        round_up(Self::slot_len(param_count), F::ERASE_SIZE).saturating_mul(2)
    }

    /// A store over `region_len` bytes of `flash` from `offset`; slot A is the first half, slot
    /// B the second. `tag` identifies the model the parameters belong to (for example its
    /// `.ttm` CRC-32); saves with another tag are ignored. Touches no flash.
    ///
    /// # Errors
    ///
    /// [`PersistError::Layout`] when `offset` is not a multiple of the erase size, `region_len`
    /// is not a positive multiple of twice the erase size, the region extends beyond the flash's
    /// capacity, or the flash's write or read unit exceeds 256 bytes or does not divide the
    /// erase size.
    pub fn new(flash: F, offset: u32, region_len: u32, tag: u32) -> Result<Self, PersistError> {
        let (w, r, e, a) = (F::WRITE_SIZE, F::READ_SIZE, F::ERASE_SIZE, Self::ALIGN);
        let units_ok = w > 0
            && r > 0
            && a <= layout::BUF_LEN
            && a % w == 0
            && a % r == 0
            && e > 0
            && e % a == 0;
        let pages = e.checked_mul(2).ok_or(PersistError::Layout)?;
        let region = region_len as usize;
        let end = offset.checked_add(region_len).ok_or(PersistError::Layout)?;
        if !units_ok
            || !(offset as usize).is_multiple_of(e)
            || region == 0
            || !region.is_multiple_of(pages)
            || end as usize > flash.capacity()
        {
            return Err(PersistError::Layout);
        }
        Ok(ParamStore {
            flash,
            offset,
            half: region_len / 2,
            tag,
        })
    }

    /// Reads the newest intact save with this store's tag and `params.len()` parameters into
    /// `params`. A slot the driver fails to read counts as not intact (on ECC flash, reading a
    /// word torn by a power cut can fail): the other slot loads.
    ///
    /// # Errors
    ///
    /// - [`PersistError::NoValidSlot`]: no such save (fresh or erased flash, another model's or
    ///   another size's parameters, or both slots damaged); `params` is untouched.
    /// - [`PersistError::Layout`]: `params` does not fit half the region; `params` is untouched.
    /// - [`PersistError::Flash`]: no slot loaded and a read failed (a failing driver is not
    ///   reported as blank flash); `params` is untouched. Also a read failure during the final
    ///   copy out of the chosen slot, which may leave part of `params` overwritten.
    pub fn load(&mut self, params: &mut [f32]) -> Result<Loaded, PersistError> {
        let payload_len = self.payload_len(params.len())?;
        let (slot, header) = self
            .find(self.ours(payload_len))
            .or_error()?
            .ok_or(PersistError::NoValidSlot)?;
        let start = io::addr(self.base(slot), header_len(Self::ALIGN))?;
        let padded = round_up(payload_len as usize, Self::ALIGN);
        // The payload was checked intact just above; decode it straight into `params`,
        // four bytes at a time, skipping the padding after it.
        let mut out = params.iter_mut();
        let (mut word, mut filled, mut left) = ([0u8; 4], 0usize, payload_len as usize);
        io::read(&mut self.flash, Self::ALIGN, start, padded, |part| {
            for &b in part.iter().take(left) {
                if let Some(w) = word.get_mut(filled) {
                    *w = b;
                }
                filled += 1;
                if filled == 4 {
                    if let Some(p) = out.next() {
                        *p = f32::from_le_bytes(word);
                    }
                    filled = 0;
                }
            }
            left = left.saturating_sub(part.len());
        })?;
        Ok(Loaded {
            slot,
            sequence: header.sequence,
        })
    }

    /// Saves `params` into the slot that does not hold the newest intact save of this store
    /// (the older or invalid one), numbered one after it. Order: erase the slot, program the
    /// payload, then the header fields, read back and check them, then program the commit
    /// record (CRC-32 and marker) and check the whole slot. Until the commit record is
    /// complete the previous save stays the newest; a power cut at any point leaves one of the
    /// two.
    ///
    /// When no slot holds this store's parameters, the save goes to the slot that is not the
    /// newest intact save of any tag (slot A on blank flash) and continues its numbering. A
    /// slot the driver fails to read counts as invalid, so a save repairs a slot that reads
    /// with errors after a cut (ECC flash); should the read error have been transient and the
    /// unreadable slot the newest, a cut during this save falls back to the save before it.
    ///
    /// # Errors
    ///
    /// - [`PersistError::Layout`]: `params` does not fit half the region.
    /// - [`PersistError::Flash`]: the driver failed (a power cut); the previous save is intact.
    /// - [`PersistError::Verify`]: the flash did not keep what was programmed. If found before
    ///   the commit record, the previous save stays the newest.
    pub fn save(&mut self, params: &[f32]) -> Result<Saved, PersistError> {
        let payload_len = self.payload_len(params.len())?;
        // Read errors count as invalid slots here: the save then goes to the unreadable slot
        // (on ECC flash, one torn by an earlier cut) and erasing it repairs it. A driver that
        // cannot write fails below.
        let newest = match self.find(self.ours(payload_len)).newest {
            Some(found) => Some(found),
            None => self.find(|_| true).newest,
        };
        let (slot, sequence) = match newest {
            Some((slot, h)) => (slot.other(), h.sequence.wrapping_add(1)),
            None => (Slot::A, 1),
        };
        let a = Self::ALIGN;
        let base = self.base(slot);
        let span = round_up(layout::slot_len(a, payload_len as usize), F::ERASE_SIZE);
        self.flash
            .erase(base, io::addr(base, span)?)
            .map_err(flash)?;

        let header = Header {
            sequence,
            tag: self.tag,
            payload_len,
        };
        let fields = header.encode(a as u16);
        let h_len = header_len(a);
        // The CRC runs in layout order (header, payload), though the payload is programmed first.
        let crc = crate::model::format::crc32_update(0xFFFF_FFFF, &fields);
        let crc = io::crc_padding(crc, h_len.saturating_sub(fields.len()));
        let mut payload = params.iter().flat_map(|p| p.to_le_bytes());
        let c_off = commit_offset(a, payload_len as usize);
        let crc = io::program(
            &mut self.flash,
            a,
            io::addr(base, h_len)?,
            c_off.saturating_sub(h_len),
            &mut payload,
            crc,
        )?;
        io::program(&mut self.flash, a, base, h_len, &mut fields.into_iter(), 0)?;
        if io::crc_of(&mut self.flash, a, base, c_off, 0xFFFF_FFFF)? != crc {
            return Err(PersistError::Verify);
        }
        let mut commit = (!crc).to_le_bytes().into_iter().chain(COMMIT.to_le_bytes());
        io::program(
            &mut self.flash,
            a,
            io::addr(base, c_off)?,
            commit_len(a),
            &mut commit,
            0,
        )?;
        if !self.intact(slot, &header)? {
            return Err(PersistError::Verify);
        }
        Ok(Saved { slot, sequence })
    }

    /// The newest intact save with this store's tag and `param_count` parameters, without
    /// reading the parameters out; `None` when [`load`](Self::load) would answer
    /// [`PersistError::NoValidSlot`].
    ///
    /// # Errors
    ///
    /// [`PersistError::Layout`] when `param_count` parameters do not fit half the region;
    /// [`PersistError::Flash`] when no slot is found and a read failed.
    pub fn newest(&mut self, param_count: usize) -> Result<Option<Loaded>, PersistError> {
        let payload_len = self.payload_len(param_count)?;
        Ok(self
            .find(self.ours(payload_len))
            .or_error()?
            .map(|(slot, h)| Loaded {
                slot,
                sequence: h.sequence,
            }))
    }

    /// Factory reset: erases the whole region. The slot that is not the newest intact save is
    /// erased first, so a power cut in between leaves either the state before the reset or
    /// the state after it, never an older save.
    ///
    /// # Errors
    ///
    /// [`PersistError::Flash`] when the driver fails.
    pub fn erase(&mut self) -> Result<(), PersistError> {
        // A read error leaves the order A, B: erasing needs no reads.
        let first = match self.find(|_| true).newest {
            Some((newest, _)) => newest.other(),
            None => Slot::A,
        };
        for slot in [first, first.other()] {
            let base = self.base(slot);
            let end = io::addr(base, self.half as usize)?;
            self.flash.erase(base, end).map_err(flash)?;
        }
        Ok(())
    }

    /// The tag given to [`new`](Self::new).
    pub fn tag(&self) -> u32 {
        self.tag
    }

    /// Gives the flash driver back.
    pub fn release(self) -> F {
        self.flash
    }
}
