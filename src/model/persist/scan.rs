//! Finding the newest intact slot: the private half of [`ParamStore`].

use super::layout::{self, commit_len, commit_offset, header_len, newer, Header, COMMIT, ERASED};
use super::{io, ParamStore, PersistError, Slot};
use embedded_storage::nor_flash::NorFlash;

impl<F: NorFlash> ParamStore<F> {
    /// Address of a slot.
    pub(super) fn base(&self, slot: Slot) -> u32 {
        match slot {
            Slot::A => self.offset,
            // `new` checked that offset + region length fits.
            Slot::B => self.offset.saturating_add(self.half),
        }
    }

    /// Payload bytes of `param_count` parameters, [`PersistError::Layout`] if a slot of them
    /// does not fit half the region.
    pub(super) fn payload_len(&self, param_count: usize) -> Result<u32, PersistError> {
        let len = param_count.checked_mul(4).ok_or(PersistError::Layout)?;
        if layout::slot_len(Self::ALIGN, len) > self.half as usize {
            return Err(PersistError::Layout);
        }
        u32::try_from(len).map_err(|_| PersistError::Layout)
    }

    /// The test for "this store's save with `payload_len` bytes".
    pub(super) fn ours(&self, payload_len: u32) -> impl Fn(&Header) -> bool {
        let tag = self.tag;
        move |h| h.tag == tag && h.payload_len == payload_len
    }

    /// The slot's header if it is a header of this format and flash whose slot fits half the
    /// region; says nothing yet about the rest of the slot.
    pub(super) fn header(&mut self, slot: Slot) -> Result<Option<Header>, PersistError> {
        let mut fields = None;
        let align = Self::ALIGN;
        let base = self.base(slot);
        io::read(&mut self.flash, align, base, header_len(align), |b| {
            fields = fields.or(Header::decode(b, align as u16))
        })?;
        Ok(fields.filter(|h| {
            h.payload_len % 4 == 0
                && layout::slot_len(align, h.payload_len as usize) <= self.half as usize
        }))
    }

    /// Whether the slot holding `header` is complete and intact: the CRC-32 of everything before
    /// the commit record matches the stored one, the marker is there and the commit padding is
    /// erased.
    pub(super) fn intact(&mut self, slot: Slot, header: &Header) -> Result<bool, PersistError> {
        let a = Self::ALIGN;
        let base = self.base(slot);
        let c_off = commit_offset(a, header.payload_len as usize);
        let crc = !io::crc_of(&mut self.flash, a, base, c_off, 0xFFFF_FFFF)?;
        let mut expected = crc.to_le_bytes().into_iter().chain(COMMIT.to_le_bytes());
        let mut ok = true;
        io::read(
            &mut self.flash,
            a,
            io::addr(base, c_off)?,
            commit_len(a),
            |part| {
                for &b in part {
                    ok &= b == expected.next().unwrap_or(ERASED);
                }
            },
        )?;
        Ok(ok)
    }

    /// The newest intact slot whose header satisfies `want`: headers first, then the CRC of
    /// the newer candidate, falling back to the other.
    ///
    /// A slot the driver fails to read counts as not intact, like one that fails its CRC: on
    /// flash with ECC, reading a word torn by a power cut can fail, and the other slot must
    /// still load. The first read error comes back with the answer, for callers that must not
    /// mistake a failing driver for blank flash.
    pub(super) fn find(&mut self, want: impl Fn(&Header) -> bool) -> Found {
        let mut error = None;
        let mut header = |store: &mut Self, slot| match store.header(slot) {
            Ok(h) => h.filter(&want),
            Err(e) => {
                error = error.or(Some(e));
                None
            }
        };
        let a = header(self, Slot::A);
        let b = header(self, Slot::B);
        let order = match (a, b) {
            (Some(ha), Some(hb)) if newer(hb.sequence, ha.sequence) => [(Slot::B, b), (Slot::A, a)],
            _ => [(Slot::A, a), (Slot::B, b)],
        };
        for (slot, header) in order {
            if let Some(h) = header {
                match self.intact(slot, &h) {
                    Ok(true) => {
                        return Found {
                            newest: Some((slot, h)),
                            error,
                        }
                    }
                    Ok(false) => {}
                    Err(e) => error = error.or(Some(e)),
                }
            }
        }
        Found {
            newest: None,
            error,
        }
    }
}

/// What [`ParamStore::find`] found.
pub(super) struct Found {
    /// The newest intact slot wanted, with its header.
    pub newest: Option<(Slot, Header)>,
    /// The first read error met on the way, if any.
    pub error: Option<PersistError>,
}

impl Found {
    /// The newest slot; without one, the read error if there was one (a failing driver is not
    /// blank flash).
    pub(super) fn or_error(self) -> Result<Option<(Slot, Header)>, PersistError> {
        match (self.newest, self.error) {
            (Some(found), _) => Ok(Some(found)),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }
}
