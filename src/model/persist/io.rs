//! Chunked programming and reading through one small stack buffer, so a slot of any size is
//! written and checked without a buffer of its size.

use super::error::{flash, PersistError};
use super::layout::{BUF_LEN, ERASED};
use crate::model::format::crc32_update;
use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};

/// `BUF_LEN` erased bytes, to feed padding to the CRC.
const PAD: [u8; BUF_LEN] = [ERASED; BUF_LEN];

/// The largest multiple of `align` that fits the buffer (`align` is checked to lie in
/// `1..=BUF_LEN` when the store is made; a zero would only make the chunk the whole buffer).
fn chunk_len(align: usize) -> usize {
    match BUF_LEN.checked_div(align) {
        Some(units) if units > 0 => units * align,
        _ => BUF_LEN,
    }
}

/// `base + at` as a flash address, [`PersistError::Layout`] on overflow.
pub(crate) fn addr(base: u32, at: usize) -> Result<u32, PersistError> {
    u32::try_from(at)
        .ok()
        .and_then(|at| base.checked_add(at))
        .ok_or(PersistError::Layout)
}

/// Continues the CRC state `crc` over `n` erased (padding) bytes.
pub(crate) fn crc_padding(mut crc: u32, mut n: usize) -> u32 {
    while n > 0 {
        let take = n.min(BUF_LEN);
        crc = crc32_update(crc, PAD.get(..take).unwrap_or(&[]));
        n -= take;
    }
    crc
}

/// Programs `len` bytes (a multiple of `align`) at `start`: the bytes of `bytes`, then padding
/// once it runs out. Returns the CRC state `crc` continued over everything programmed.
pub(crate) fn program<F: NorFlash>(
    flash_dev: &mut F,
    align: usize,
    start: u32,
    len: usize,
    bytes: &mut impl Iterator<Item = u8>,
    mut crc: u32,
) -> Result<u32, PersistError> {
    let mut buf = [ERASED; BUF_LEN];
    let chunk = chunk_len(align);
    let mut done = 0usize;
    while done < len {
        let part = buf
            .get_mut(..chunk.min(len - done))
            .ok_or(PersistError::Layout)?;
        for b in part.iter_mut() {
            *b = bytes.next().unwrap_or(ERASED);
        }
        crc = crc32_update(crc, part);
        flash_dev.write(addr(start, done)?, part).map_err(flash)?;
        done += part.len();
    }
    Ok(crc)
}

/// Reads `len` bytes (a multiple of `align`) from `start`, handing each chunk to `sink`.
pub(crate) fn read<F: ReadNorFlash>(
    flash_dev: &mut F,
    align: usize,
    start: u32,
    len: usize,
    mut sink: impl FnMut(&[u8]),
) -> Result<(), PersistError> {
    let mut buf = [0u8; BUF_LEN];
    let chunk = chunk_len(align);
    let mut done = 0usize;
    while done < len {
        let part = buf
            .get_mut(..chunk.min(len - done))
            .ok_or(PersistError::Layout)?;
        flash_dev.read(addr(start, done)?, part).map_err(flash)?;
        sink(part);
        done += part.len();
    }
    Ok(())
}

/// The CRC state continued over `len` bytes of flash from `start`.
pub(crate) fn crc_of<F: ReadNorFlash>(
    flash_dev: &mut F,
    align: usize,
    start: u32,
    len: usize,
    mut crc: u32,
) -> Result<u32, PersistError> {
    read(flash_dev, align, start, len, |part| {
        crc = crc32_update(crc, part)
    })?;
    Ok(crc)
}
