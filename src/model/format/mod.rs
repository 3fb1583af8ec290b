//! The `.ttm` model file: constants of the layout, the CRC, the aligned-buffer wrapper, and the
//! reader and writer. The byte-level specification is `docs/ttm-format.md`; the summary:
//!
//! | Section | At | Size |
//! |---|---|---|
//! | header | 0 | [`HEADER_LEN`] (48) bytes |
//! | layer table | `table_offset` | `layer_count ·` [`RECORD_LEN`] (96) bytes |
//! | metadata | `meta_offset` | [`META_LEN`] (40) bytes |
//! | data (tensors, scaler, class names) | `data_offset` | to the end; each tensor 8-byte aligned |
//!
//! All integers are little-endian; tensors are read in place, so the file must sit at an 8-byte
//! aligned address: wrap it in [`Aligned`] (for example with [`include_model!`](crate::include_model)).

mod read;
pub(crate) mod record;
mod utf8;
mod write;

pub use read::{ClassNames, Model};
pub use write::{encoded_len, write, Meta};

/// The magic bytes at offset 0.
pub const MAGIC: [u8; 4] = *b"TTM\0";
/// Major format version this crate reads and writes; files of another major version are
/// rejected.
pub const VERSION_MAJOR: u16 = 1;
/// Highest minor format version this crate writes; files of any minor version of the same
/// major are read (additions of a later minor are ignored, new kind tags rejected). 1.1 adds
/// the transformer kinds (tags 15–17 and 40–41); the writer stores the lowest minor that
/// covers the file's kinds, so a file of 1.0 kinds is still written as 1.0.
pub const VERSION_MINOR: u16 = 1;
/// Header length written by this version (readers accept larger values from later minors).
pub const HEADER_LEN: usize = 48;
/// Layer record length written by this version (readers accept larger values).
pub const RECORD_LEN: usize = 96;
/// Metadata length written by this version (readers accept larger values).
pub const META_LEN: usize = 40;
/// Alignment of every tensor (from the file start) and of the file buffer itself.
pub const ALIGN: usize = 8;
/// Header flag: the metadata holds a preprocessing scaler.
pub const FLAG_SCALER: u32 = 1;
/// Header flag: the metadata holds class names.
pub const FLAG_CLASS_NAMES: u32 = 2;
/// Byte offset of the CRC field in the header.
pub(crate) const CRC_OFFSET: usize = 16;

/// An 8-byte aligned wrapper, so a model embedded in flash with `include_bytes!` (or any byte
/// array) can be parsed in place:
///
/// ```
/// use tinytune::model::Aligned;
/// static MODEL: Aligned<[u8; 4]> = Aligned(*b"TTM\0"); // include_bytes!("model.ttm")
/// assert_eq!(MODEL.0.as_ptr() as usize % 8, 0);
/// ```
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Aligned<T: ?Sized>(pub T);

/// `include_bytes!` into an 8-byte aligned static; evaluates to `&'static [u8]` ready for
/// [`Model::from_bytes`].
///
/// ```ignore
/// let model = tinytune::model::Model::from_bytes(tinytune::include_model!("../model.ttm"))?;
/// ```
#[macro_export]
macro_rules! include_model {
    ($path:expr) => {{
        static MODEL: &$crate::model::Aligned<[u8]> =
            &$crate::model::Aligned(*include_bytes!($path));
        &MODEL.0
    }};
}

/// CRC-32 (IEEE 802.3 / zlib: reflected polynomial `0xEDB88320`, initial and final XOR
/// `0xFFFFFFFF`) of `bytes`, a nibble at a time (a 64-byte table instead of 1 KiB).
pub fn crc32(bytes: &[u8]) -> u32 {
    !crc32_update(0xFFFF_FFFF, bytes)
}

/// Continues a CRC-32 over `bytes` from the un-finalised state `crc`, for data that arrive in
/// pieces: start from `0xFFFF_FFFF`, feed every piece, and invert the result
/// (`crc32(b) == !crc32_update(0xFFFF_FFFF, b)`).
pub fn crc32_update(mut crc: u32, bytes: &[u8]) -> u32 {
    const TABLE: [u32; 16] = {
        let mut t = [0u32; 16];
        let mut i = 0;
        while i < 16 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 4 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0xEDB8_8320
                } else {
                    c >> 1
                };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    for &b in bytes {
        crc ^= u32::from(b);
        crc = (crc >> 4) ^ TABLE[(crc & 15) as usize];
        crc = (crc >> 4) ^ TABLE[(crc & 15) as usize];
    }
    crc
}

/// The file's CRC: CRC-32 of the first `len` bytes with the 4 bytes of the CRC field read as
/// zeros. `bytes` must hold at least [`HEADER_LEN`] bytes.
pub(crate) fn file_crc(bytes: &[u8]) -> u32 {
    let (head, rest) = bytes.split_at(CRC_OFFSET.min(bytes.len()));
    let tail = rest.get(4..).unwrap_or(&[]);
    !crc32_update(crc32_update(crc32_update(0xFFFF_FFFF, head), &[0; 4]), tail)
}

/// Rounds `n` up to a multiple of [`ALIGN`], `None` on overflow.
pub(crate) fn align_up(n: usize) -> Option<usize> {
    n.checked_add(ALIGN - 1).map(|v| v & !(ALIGN - 1))
}

/// Reads the little-endian `u32` at `offset`, `None` if out of range.
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let b = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads the little-endian `u16` at `offset`, `None` if out of range.
pub(crate) fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let b = bytes.get(offset..offset.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The published check value of CRC-32/ISO-HDLC for "123456789".
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
