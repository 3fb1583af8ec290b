//! The serialised form of a fitted [`Scaler`], embedded in model files.
//!
//! The format table is on [`Scaler::to_bytes`].

use super::{params_len, Scaler, ScalerKind};
use crate::error::{check_len, Buffer, Error, ShapeError};

const MAGIC: [u8; 2] = *b"TS";
const VERSION: u8 = 1;
const HEADER: usize = 8;
const CRC: usize = 4;

/// Bytes taken by a serialised scaler of `features` features: `12 + 8 · features`.
///
/// # Errors
/// [`ShapeError::Dimension`] if `features` is 0 or the length overflows `usize`.
pub fn serialized_len(features: usize) -> Result<usize, Error> {
    params_len(features)?
        .checked_mul(4)
        .and_then(|b| b.checked_add(HEADER + CRC))
        .ok_or(Error::Shape(ShapeError::Dimension))
}

/// Reads the kind and feature count from the 8-byte header of a serialised scaler, so the
/// caller can size the parameter buffer for [`Scaler::from_bytes`] (it needs
/// [`params_len`](super::params_len)`(features)` values). The checksum is not verified here.
///
/// # Errors
/// [`ShapeError::Length`] (`Input`, expected 8) if fewer than 8 bytes are given; [`Error::Config`]
/// if the magic, the version or the kind tag is wrong or the feature count is 0.
pub fn peek_header(bytes: &[u8]) -> Result<(ScalerKind, usize), Error> {
    let header = match bytes.get(..HEADER) {
        Some(h) => h,
        None => {
            return Err(ShapeError::Length {
                buffer: Buffer::Input,
                expected: HEADER,
                actual: bytes.len(),
            }
            .into())
        }
    };
    let [m0, m1, version, tag, f0, f1, f2, f3] = [
        header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7],
    ];
    if [m0, m1] != MAGIC || version != VERSION {
        return Err(Error::Config);
    }
    let kind = ScalerKind::from_tag(tag).ok_or(Error::Config)?;
    let features =
        usize::try_from(u32::from_le_bytes([f0, f1, f2, f3])).map_err(|_| Error::Config)?;
    if features == 0 {
        return Err(Error::Config);
    }
    Ok((kind, features))
}

impl<'a> Scaler<'a> {
    /// Writes the parameters in the format below and returns the number of bytes written
    /// ([`serialized_len`]`(features)` = `12 + 8F`). Floats are stored bit for bit, so a round
    /// trip through [`from_bytes`](Self::from_bytes) is exact.
    ///
    /// | bytes              | field                                                        |
    /// |--------------------|--------------------------------------------------------------|
    /// | `0..2`             | magic `b"TS"`                                                |
    /// | `2`                | format version, `1`                                          |
    /// | `3`                | kind tag ([`ScalerKind::tag`]: 1 center, 2 min-max, 3 symmetric min-max, 4 standard) |
    /// | `4..8`             | `features`, `u32` little-endian, ≥ 1                         |
    /// | `8..8+4F`          | offsets, `f32` little-endian (bit patterns, NaN preserved)   |
    /// | `8+4F..8+8F`       | scales, `f32` little-endian                                  |
    /// | `8+8F..12+8F`      | CRC-32 (IEEE 802.3, as zlib) of bytes `0..8+8F`, little-endian |
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Output`, expected the serialised length) if `out` is shorter;
    /// [`Error::Config`] if `features` does not fit in a `u32`. Nothing is written on error.
    pub fn to_bytes(&self, out: &mut [u8]) -> Result<usize, Error> {
        let total = serialized_len(self.features)?;
        let features = u32::try_from(self.features).map_err(|_| Error::Config)?;
        if out.len() < total {
            return Err(ShapeError::Length {
                buffer: Buffer::Output,
                expected: total,
                actual: out.len(),
            }
            .into());
        }
        let (body, rest) = out.split_at_mut(total - CRC);
        let (header, values) = body.split_at_mut(HEADER);
        let f = features.to_le_bytes();
        header.copy_from_slice(&[
            MAGIC[0],
            MAGIC[1],
            VERSION,
            self.kind.tag(),
            f[0],
            f[1],
            f[2],
            f[3],
        ]);
        for (chunk, v) in values.chunks_exact_mut(4).zip(self.params) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        let crc = crc32(body).to_le_bytes();
        if let Some(tail) = rest.get_mut(..CRC) {
            tail.copy_from_slice(&crc);
        }
        Ok(total)
    }

    /// Reads a scaler written by [`to_bytes`](Self::to_bytes) into `params` (sized with
    /// [`peek_header`]) and returns it borrowing `params`. Bytes after the serialised length
    /// ([`serialized_len`]`(features)`) are ignored, so the scaler can sit inside a larger file.
    ///
    /// # Errors
    /// [`ShapeError::Length`] (`Input`) if `bytes` is shorter than the header or than the length
    /// the header announces; [`Error::Config`] if the magic, version, tag or feature count is
    /// wrong or the checksum does not match (any corruption of the bytes);
    /// [`ShapeError::Length`] (`Params`) if `params.len() != 2 · features`. `params` is written
    /// only on success.
    pub fn from_bytes(bytes: &[u8], params: &'a mut [f32]) -> Result<Self, Error> {
        let (kind, features) = peek_header(bytes)?;
        let total = serialized_len(features).map_err(|_| Error::Config)?;
        let Some(whole) = bytes.get(..total) else {
            return Err(ShapeError::Length {
                buffer: Buffer::Input,
                expected: total,
                actual: bytes.len(),
            }
            .into());
        };
        let (body, crc) = whole.split_at(total - CRC);
        let stored = crc
            .try_into()
            .map(u32::from_le_bytes)
            .map_err(|_| Error::Config)?;
        if crc32(body) != stored {
            return Err(Error::Config);
        }
        check_len(Buffer::Params, 2 * features, params.len())?;
        for (p, chunk) in params.iter_mut().zip(body[HEADER..].chunks_exact(4)) {
            *p = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Scaler::new(kind, features, params)
    }
}

/// CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), bit by bit: no
/// 1 KiB table in flash for a check that runs once at load time.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The published check value of CRC-32/ISO-HDLC for "123456789".
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
