//! The `.ttm` writer: validates the ops and the metadata exactly as the reader will, then lays
//! the file out in a caller buffer. No allocation.

use super::record::{encode, minor_of, tensors, TENSORS, TENSOR_REFS, WORDS};
use super::{
    align_up, file_crc, CRC_OFFSET, FLAG_CLASS_NAMES, FLAG_SCALER, HEADER_LEN, MAGIC, META_LEN,
    RECORD_LEN, VERSION_MAJOR,
};
use crate::data::preprocess::Scaler;
use crate::error::FormatError;
use crate::model::check::check_chain;
use crate::model::support::check_op_kind;
use crate::model::Op;

/// The metadata stored with a model.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Meta<'a> {
    /// The preprocessing applied to the raw input before the first op; its `features` must equal
    /// the model's input length.
    pub scaler: Option<Scaler<'a>>,
    /// Number of classes for a classifier (0 otherwise); if nonzero it must equal the model's
    /// output length.
    pub num_classes: usize,
    /// Class names (empty for none); if given there must be `num_classes` of them, each at most
    /// 65535 bytes of UTF-8.
    pub class_names: &'a [&'a str],
}

/// Byte positions of everything the writer lays out.
struct Layout {
    table: usize,
    meta: usize,
    data: usize,
    scaler: usize,
    names: usize,
    names_len: usize,
    /// Start of the first layer tensor.
    tensors: usize,
    total: usize,
    input_len: usize,
    output_len: usize,
    /// The minor version written: the highest that introduced one of the ops' kinds.
    minor: u16,
}

/// Adds `n` bytes at `at` and aligns: the start of the next item.
fn next(at: usize, n: usize) -> Result<usize, FormatError> {
    at.checked_add(n)
        .and_then(align_up)
        .ok_or(FormatError::TooLarge { layer: 0 })
}

fn layout(ops: &[Op<'_>], meta: &Meta<'_>) -> Result<Layout, FormatError> {
    for (layer, op) in ops.iter().enumerate() {
        check_op_kind(layer, op)?;
    }
    let chain = check_chain(ops.iter().map(|op| Ok(*op)))?;
    let mut minor = 0;
    for (layer, op) in ops.iter().enumerate() {
        let (tag, _) = encode(op, layer)?;
        minor = minor.max(minor_of(tag));
    }
    if let Some(s) = meta.scaler {
        if s.features() != chain.input_len {
            return Err(FormatError::Meta { field: "scaler" });
        }
    }
    if meta.num_classes != 0 && meta.num_classes != chain.output_len {
        return Err(FormatError::Meta {
            field: "num_classes",
        });
    }
    if !meta.class_names.is_empty() && meta.class_names.len() != meta.num_classes {
        return Err(FormatError::Meta {
            field: "class_names",
        });
    }
    let mut names_len = 0usize;
    for name in meta.class_names {
        if name.len() > usize::from(u16::MAX) {
            return Err(FormatError::Meta {
                field: "class_names",
            });
        }
        names_len = names_len.saturating_add(2 + name.len());
    }
    let n = ops.len();
    let table = HEADER_LEN;
    let meta_at = n
        .checked_mul(RECORD_LEN)
        .and_then(|t| t.checked_add(table))
        .ok_or(FormatError::TooLarge { layer: n })?;
    let data = next(meta_at, META_LEN)?;
    let scaler_bytes = meta.scaler.map_or(0, |s| s.params().len() * 4);
    let names = next(data, scaler_bytes)?;
    let tensors_at = next(names, names_len)?;
    let mut total = tensors_at;
    for op in ops {
        for t in tensors(op).iter().flatten() {
            total = next(total, t.byte_len())?;
        }
    }
    if u32::try_from(total).is_err() {
        return Err(FormatError::TooLarge { layer: n });
    }
    Ok(Layout {
        table,
        meta: meta_at,
        data,
        scaler: data,
        names,
        names_len,
        tensors: tensors_at,
        total,
        input_len: chain.input_len,
        output_len: chain.output_len,
        minor,
    })
}

/// Bytes the file of `ops` and `meta` takes (what [`write()`] needs).
///
/// # Errors
/// As [`write()`], except [`FormatError::OutputTooSmall`].
pub fn encoded_len(ops: &[Op<'_>], meta: &Meta<'_>) -> Result<usize, FormatError> {
    Ok(layout(ops, meta)?.total)
}

/// Puts `v` as `u32` little-endian at `at` (all positions were checked to fit by `layout`).
fn put(out: &mut [u8], at: usize, v: usize) {
    put32(out, at, v as u32);
}

fn put32(out: &mut [u8], at: usize, v: u32) {
    if let Some(b) = out.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

fn put_bytes(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(b) = out.get_mut(at..at + bytes.len()) {
        b.copy_from_slice(bytes);
    }
}

/// Writes the model file of `ops` and `meta` into `out` and returns its length
/// ([`encoded_len`]). Every op is validated as [`Model::from_bytes`](super::Model::from_bytes)
/// will validate it, so a file written without error always reads back.
///
/// # Errors
/// Any [`FormatError`] the reader would return for these ops (with the layer index; among
/// them [`FormatError::Unsupported`] for a kind this build of the crate leaves out), plus
/// [`FormatError::TooLarge`] for a value
/// beyond `u32`, [`FormatError::Meta`] for inconsistent metadata and
/// [`FormatError::OutputTooSmall`]. Nothing is written on error.
pub fn write(ops: &[Op<'_>], meta: &Meta<'_>, out: &mut [u8]) -> Result<usize, FormatError> {
    let l = layout(ops, meta)?;
    let len = out.len();
    let Some(out) = out.get_mut(..l.total) else {
        return Err(FormatError::OutputTooSmall {
            needed: l.total,
            len,
        });
    };
    out.fill(0);
    put_bytes(out, 0, &MAGIC);
    put_bytes(out, 4, &VERSION_MAJOR.to_le_bytes());
    put_bytes(out, 6, &l.minor.to_le_bytes());
    let flags = if meta.scaler.is_some() {
        FLAG_SCALER
    } else {
        0
    } | if meta.class_names.is_empty() {
        0
    } else {
        FLAG_CLASS_NAMES
    };
    put32(out, 8, flags);
    put(out, 12, l.total);
    for (at, v) in [
        (20, HEADER_LEN),
        (24, ops.len()),
        (28, RECORD_LEN),
        (32, l.table),
        (36, l.meta),
        (40, META_LEN),
        (44, l.data),
    ] {
        put(out, at, v);
    }
    // Metadata.
    put(out, l.meta, l.input_len);
    put(out, l.meta + 4, l.output_len);
    put(out, l.meta + 8, meta.num_classes);
    if let Some(s) = meta.scaler {
        put32(out, l.meta + 12, u32::from(s.kind().tag()));
        put(out, l.meta + 16, s.features());
        put(out, l.meta + 20, l.scaler);
        put(out, l.meta + 24, s.params().len());
        put_bytes(out, l.scaler, bytemuck::cast_slice(s.params()));
    }
    if !meta.class_names.is_empty() {
        put(out, l.meta + 28, meta.class_names.len());
        put(out, l.meta + 32, l.names);
        put(out, l.meta + 36, l.names_len);
        let mut at = l.names;
        for name in meta.class_names {
            put_bytes(out, at, &(name.len() as u16).to_le_bytes());
            put_bytes(out, at + 2, name.as_bytes());
            at += 2 + name.len();
        }
    }
    // Layer records and tensors.
    let mut data_at = l.tensors;
    for (layer, op) in ops.iter().enumerate() {
        let rec = l.table + layer * RECORD_LEN;
        let (tag, words) = encode(op, layer)?;
        put32(out, rec, tag);
        for (i, w) in words.iter().enumerate().take(WORDS) {
            put32(out, rec + 4 + 4 * i, *w);
        }
        for (slot, t) in tensors(op).iter().enumerate().take(TENSORS) {
            if let Some(t) = t {
                let r = rec + TENSOR_REFS + 8 * slot;
                put(out, r, data_at);
                put(out, r + 4, t.count);
                let len = t.byte_len();
                if let Some(dst) = out.get_mut(data_at..data_at + len) {
                    t.write_to(dst);
                }
                data_at = align_up(data_at + len).unwrap_or(data_at);
            }
        }
    }
    let crc = file_crc(out);
    put32(out, CRC_OFFSET, crc);
    Ok(l.total)
}
