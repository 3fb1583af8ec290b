//! The byte layout of a slot (normative text: `docs/persist-format.md`).
//!
//! ```text
//! 0        header fields (20 bytes), then 0xFF up to H = round_up(20, align)
//! H        payload: the f32 parameters little-endian, then 0xFF up to a multiple of align
//! C        commit record: CRC-32 of bytes 0..C, commit marker, then 0xFF up to round_up(8, align)
//! ```
//!
//! `align` is the larger of the flash's write and read sizes: every field group starts on a
//! write unit of its own, so the commit record can be programmed last, in a separate write.

/// Magic number at offset 0 (`"TTPS"` as bytes).
pub(crate) const MAGIC: u32 = u32::from_le_bytes(*b"TTPS");
/// Format version at offset 4.
pub(crate) const VERSION: u16 = 1;
/// Commit marker, the last word programmed (`"TTOK"` as bytes). With the CRC it makes a slot
/// whose commit record was never (or only partly) programmed invalid deterministically: erased
/// flash reads `0xFFFF_FFFF`, never the marker.
pub(crate) const COMMIT: u32 = u32::from_le_bytes(*b"TTOK");
/// Bytes of header fields.
pub(crate) const FIELDS_LEN: usize = 20;
/// Bytes of the commit record before its padding.
pub(crate) const COMMIT_LEN: usize = 8;
/// Size of the stack buffer every read and program goes through; also the largest flash
/// write/read unit supported (a unit must fit the buffer).
pub(crate) const BUF_LEN: usize = 256;
/// Value of erased flash and of every padding byte.
pub(crate) const ERASED: u8 = 0xFF;

/// `n` rounded up to a multiple of `to` (treated as at least 1), saturating at `usize::MAX`.
pub(crate) const fn round_up(n: usize, to: usize) -> usize {
    let to = if to == 0 { 1 } else { to };
    let rem = n % to;
    if rem == 0 {
        n
    } else {
        n.saturating_add(to - rem)
    }
}

/// Offset of the payload in a slot: the header fields padded to the alignment.
pub(crate) const fn header_len(align: usize) -> usize {
    round_up(FIELDS_LEN, align)
}

/// Offset of the commit record for a payload of `payload_len` bytes.
pub(crate) const fn commit_offset(align: usize, payload_len: usize) -> usize {
    header_len(align).saturating_add(round_up(payload_len, align))
}

/// Length of the commit record with its padding.
pub(crate) const fn commit_len(align: usize) -> usize {
    round_up(COMMIT_LEN, align)
}

/// Bytes a slot with a payload of `payload_len` bytes occupies (saturating).
pub(crate) const fn slot_len(align: usize, payload_len: usize) -> usize {
    commit_offset(align, payload_len).saturating_add(commit_len(align))
}

/// The header fields of a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Save counter, compared with serial-number arithmetic ([`newer`]).
    pub sequence: u32,
    /// Identity of the model the parameters belong to.
    pub tag: u32,
    /// Payload length in bytes (4 per parameter).
    pub payload_len: u32,
}

impl Header {
    /// The 20 bytes of the header fields for a flash with alignment `align`.
    pub(crate) fn encode(&self, align: u16) -> [u8; FIELDS_LEN] {
        let mut out = [0u8; FIELDS_LEN];
        let words: [&[u8]; 6] = [
            &MAGIC.to_le_bytes(),
            &VERSION.to_le_bytes(),
            &align.to_le_bytes(),
            &self.sequence.to_le_bytes(),
            &self.tag.to_le_bytes(),
            &self.payload_len.to_le_bytes(),
        ];
        for (dst, src) in out.iter_mut().zip(words.into_iter().flatten()) {
            *dst = *src;
        }
        out
    }

    /// Parses header fields; `None` unless the magic, version and alignment are this reader's.
    /// Takes any slice: a short one is simply not a header.
    pub(crate) fn decode(bytes: &[u8], align: u16) -> Option<Header> {
        let u32_at = |at: usize| -> Option<u32> {
            let b = bytes.get(at..at.checked_add(4)?)?;
            Some(u32::from_le_bytes(b.try_into().ok()?))
        };
        let u16_at = |at: usize| -> Option<u16> {
            let b = bytes.get(at..at.checked_add(2)?)?;
            Some(u16::from_le_bytes(b.try_into().ok()?))
        };
        let ok = u32_at(0)? == MAGIC && u16_at(4)? == VERSION && u16_at(6)? == align;
        ok.then_some(())?;
        Some(Header {
            sequence: u32_at(8)?,
            tag: u32_at(12)?,
            payload_len: u32_at(16)?,
        })
    }
}

/// `a` is newer than `b` in serial-number arithmetic (RFC 1982 style): the forward distance from
/// `b` to `a` is less than half the `u32` range. Wraps correctly from `u32::MAX` to 0; two
/// numbers exactly half the range apart are neither newer than the other.
pub(crate) const fn newer(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_foreign_fields() {
        let h = Header {
            sequence: 0xDEAD_BEEF,
            tag: 7,
            payload_len: 80,
        };
        let bytes = h.encode(4);
        assert_eq!(&bytes[..4], b"TTPS");
        assert_eq!(Header::decode(&bytes, 4), Some(h));
        assert_eq!(Header::decode(&bytes, 8), None);
        assert_eq!(Header::decode(&bytes[..19], 4), None);
    }

    #[test]
    fn serial_numbers_wrap() {
        assert!(newer(1, 0));
        assert!(newer(0, u32::MAX));
        assert!(!newer(u32::MAX, 0));
        assert!(!newer(5, 5));
        assert!(!newer(0x8000_0000, 0) && !newer(0, 0x8000_0000));
    }

    #[test]
    fn lengths() {
        assert_eq!(slot_len(4, 80), 20 + 80 + 8);
        assert_eq!(slot_len(16, 80), 32 + 80 + 16);
        assert_eq!(slot_len(1, 3), 20 + 3 + 8);
        assert_eq!(slot_len(4, usize::MAX), usize::MAX);
    }
}
