//! The `.ttm` reader: [`Model::from_bytes`] validates the whole file once; afterwards the model
//! hands out [`Op`]s borrowing their tensors in place.

use super::record::{Reader, TENSORS, TENSOR_REFS, WORDS};
use super::utf8::is_utf8;
use super::{
    file_crc, u16_at, u32_at, ALIGN, CRC_OFFSET, FLAG_CLASS_NAMES, FLAG_SCALER, HEADER_LEN, MAGIC,
    META_LEN, RECORD_LEN, VERSION_MAJOR,
};
use crate::data::preprocess::{Scaler, ScalerKind};
use crate::error::FormatError;
use crate::model::check::{check_chain, ChainInfo};
use crate::model::Op;

/// A validated model file, borrowing its bytes (typically from flash).
///
/// Built by [`Model::from_bytes`]; run with [`Model::run`], sized with [`Model::arena_len`].
#[derive(Clone, Copy, Debug)]
pub struct Model<'a> {
    bytes: &'a [u8],
    table: usize,
    record_len: usize,
    data: usize,
    chain: ChainInfo,
    num_classes: usize,
    scaler: Option<Scaler<'a>>,
    names: ClassNames<'a>,
}

/// Iterator over a model's class names (empty if the file has none).
#[derive(Clone, Copy, Debug)]
pub struct ClassNames<'a> {
    blob: &'a [u8],
    remaining: usize,
}

impl<'a> Iterator for ClassNames<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.remaining == 0 {
            return None;
        }
        let len = usize::from(u16_at(self.blob, 0)?);
        let name = self.blob.get(2..2 + len)?;
        self.blob = self.blob.get(2 + len..)?;
        self.remaining -= 1;
        core::str::from_utf8(name).ok()
    }
}

/// A header or metadata `u32` as `usize`, or `err`.
fn word(bytes: &[u8], at: usize, err: FormatError) -> Result<usize, FormatError> {
    u32_at(bytes, at)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or(err)
}

/// Checks that `offset .. offset + len` lies in `bytes`, is 8-aligned and starts at `min` or
/// later.
fn section(
    bytes: &[u8],
    offset: usize,
    len: usize,
    min: usize,
    section: &'static str,
) -> Result<(), FormatError> {
    let end = offset.checked_add(len);
    if !offset.is_multiple_of(ALIGN) || offset < min || end.is_none_or(|e| e > bytes.len()) {
        return Err(FormatError::Section { section });
    }
    Ok(())
}

impl<'a> Model<'a> {
    /// Parses and validates a model file: magic, version, length, CRC, every section, every
    /// layer record (tag, fields, tensor bounds and alignment, the layer's own `init`
    /// validation, requantizer count and range), the chain (lengths and f32/int8 boundaries) and
    /// the metadata. Bytes after the declared file length are ignored.
    ///
    /// `bytes` must start at an 8-byte aligned address (see [`Aligned`](super::Aligned)).
    ///
    /// # Errors
    /// A [`FormatError`] naming what is wrong and where. Never panics, whatever the input.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, FormatError> {
        if !(bytes.as_ptr() as usize).is_multiple_of(ALIGN) {
            return Err(FormatError::Misaligned);
        }
        let truncated = |needed| FormatError::Truncated {
            needed,
            len: bytes.len(),
        };
        if bytes.len() < 8 {
            return Err(if bytes.get(..4).is_some_and(|m| m != MAGIC) {
                FormatError::BadMagic
            } else {
                truncated(HEADER_LEN)
            });
        }
        if bytes.get(..4) != Some(&MAGIC[..]) {
            return Err(FormatError::BadMagic);
        }
        let major = u16_at(bytes, 4).unwrap_or(0);
        let minor = u16_at(bytes, 6).unwrap_or(0);
        if major != VERSION_MAJOR {
            return Err(FormatError::UnsupportedVersion { major, minor });
        }
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN));
        }
        let hdr = |at| word(bytes, at, FormatError::Section { section: "header" });
        let total = hdr(12)?;
        if total < HEADER_LEN {
            return Err(FormatError::Section { section: "header" });
        }
        let bytes = bytes.get(..total).ok_or(truncated(total))?;
        let stored = u32_at(bytes, CRC_OFFSET).unwrap_or(0);
        let computed = file_crc(bytes);
        if stored != computed {
            return Err(FormatError::Crc { stored, computed });
        }
        let flags = u32_at(bytes, 8).unwrap_or(0);
        let header_len = hdr(20)?;
        let (count, record_len, table) = (hdr(24)?, hdr(28)?, hdr(32)?);
        let (meta, meta_len, data) = (hdr(36)?, hdr(40)?, hdr(44)?);
        if header_len < HEADER_LEN || header_len > total {
            return Err(FormatError::Section { section: "header" });
        }
        let table_len = count.checked_mul(record_len);
        if record_len < RECORD_LEN || record_len % ALIGN != 0 {
            return Err(FormatError::Section { section: "table" });
        }
        section(
            bytes,
            table,
            table_len.unwrap_or(usize::MAX),
            header_len,
            "table",
        )?;
        if meta_len < META_LEN {
            return Err(FormatError::Section {
                section: "metadata",
            });
        }
        section(bytes, meta, meta_len, header_len, "metadata")?;
        section(bytes, data, 0, header_len, "data")?;
        let mut model = Model {
            bytes,
            table,
            record_len,
            data,
            chain: ChainInfo {
                input_len: 0,
                output_len: 0,
                widest: 0,
                requant: 0,
                scratch: 0,
                f32_encoder: false,
                len: count,
            },
            num_classes: 0,
            scaler: None,
            names: ClassNames {
                blob: &[],
                remaining: 0,
            },
        };
        model.chain = check_chain((0..count).map(|layer| model.op(layer)))?;
        model.read_meta(meta, flags)?;
        Ok(model)
    }

    /// Reads and checks the metadata section at `at`.
    fn read_meta(&mut self, at: usize, flags: u32) -> Result<(), FormatError> {
        let b = self.bytes;
        let field = |field| FormatError::Meta { field };
        let w = |off: usize, name| word(b, at + off, field(name));
        if w(0, "input_len")? != self.chain.input_len {
            return Err(field("input_len"));
        }
        if w(4, "output_len")? != self.chain.output_len {
            return Err(field("output_len"));
        }
        self.num_classes = w(8, "num_classes")?;
        if self.num_classes != 0 && self.num_classes != self.chain.output_len {
            return Err(field("num_classes"));
        }
        if flags & FLAG_SCALER != 0 {
            let kind = u8::try_from(w(12, "scaler")?)
                .ok()
                .and_then(ScalerKind::from_tag)
                .ok_or(field("scaler"))?;
            let features = w(16, "scaler")?;
            let (offset, count) = (u32_at(b, at + 20), u32_at(b, at + 24));
            let (offset, count) = offset.zip(count).ok_or(field("scaler"))?;
            let params = self
                .tensor_reader(offset, count)
                .f32s(0)
                .map_err(|_| field("scaler"))?;
            if features != self.chain.input_len {
                return Err(field("scaler"));
            }
            self.scaler = Some(Scaler::new(kind, features, params).map_err(|_| field("scaler"))?);
        }
        if flags & FLAG_CLASS_NAMES != 0 {
            let count = w(28, "class_names")?;
            let (offset, len) = (w(32, "class_names")?, w(36, "class_names")?);
            let blob = offset
                .checked_add(len)
                .filter(|_| offset >= self.data)
                .and_then(|end| b.get(offset..end))
                .ok_or(field("class_names"))?;
            // Every name must be UTF-8 (checked without making `str`s, see `utf8.rs`), and
            // together they must fill the blob exactly: then `ClassNames` yields them all.
            let mut rest = blob;
            for _ in 0..count {
                let n = u16_at(rest, 0).map_or(usize::MAX, usize::from);
                let name = n.checked_add(2).and_then(|end| rest.get(2..end));
                if !name.is_some_and(is_utf8) {
                    return Err(field("class_names"));
                }
                rest = rest.get(2 + n..).unwrap_or(&[]);
            }
            if count != self.num_classes || !rest.is_empty() {
                return Err(field("class_names"));
            }
            self.names = ClassNames {
                blob,
                remaining: count,
            };
        }
        Ok(())
    }

    /// A reader of the single tensor `(offset, count)` (the scaler parameters), with the same
    /// bounds and alignment checks as a layer's tensors.
    fn tensor_reader(&self, offset: u32, count: u32) -> Reader<'a> {
        let mut refs = [(0u32, 0u32); TENSORS];
        if let Some(r) = refs.first_mut() {
            *r = (offset, count);
        }
        Reader {
            file: self.bytes,
            data: self.data,
            layer: 0,
            words: [0; WORDS],
            refs,
        }
    }

    /// Decodes layer `layer` of the table.
    fn op(&self, layer: usize) -> Result<Op<'a>, FormatError> {
        let rec = layer
            .checked_mul(self.record_len)
            .and_then(|r| r.checked_add(self.table))
            .ok_or(FormatError::Section { section: "table" })?;
        let at = |i: usize| u32_at(self.bytes, rec + i).unwrap_or(0);
        let mut words = [0u32; WORDS];
        for (i, w) in words.iter_mut().enumerate() {
            *w = at(4 + 4 * i);
        }
        let mut refs = [(0u32, 0u32); TENSORS];
        for (i, r) in refs.iter_mut().enumerate() {
            *r = (at(TENSOR_REFS + 8 * i), at(TENSOR_REFS + 8 * i + 4));
        }
        Reader {
            file: self.bytes,
            data: self.data,
            layer,
            words,
            refs,
        }
        .decode(at(0))
    }

    /// The operations, in order, borrowing their tensors from the file.
    pub fn ops(&self) -> impl Iterator<Item = Op<'a>> + '_ {
        // Every record was decoded successfully in `from_bytes`; decoding is deterministic.
        (0..self.chain.len).filter_map(|layer| self.op(layer).ok())
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.chain.len
    }

    /// Always `false`: a model has at least one operation.
    pub fn is_empty(&self) -> bool {
        self.chain.len == 0
    }

    /// f32 values per sample the model takes (before the scaler, which keeps the length).
    pub fn input_len(&self) -> usize {
        self.chain.input_len
    }

    /// f32 values per sample the model gives.
    pub fn output_len(&self) -> usize {
        self.chain.output_len
    }

    /// Number of classes (0 if the model is not marked as a classifier).
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// The preprocessing scaler [`run`](Self::run) applies to the input, if the file has one.
    pub fn scaler(&self) -> Option<Scaler<'a>> {
        self.scaler
    }

    /// The class names (an empty iterator if the file has none).
    pub fn class_names(&self) -> ClassNames<'a> {
        self.names
    }

    /// The whole file (its declared length), for example to copy or checksum it.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Flash bytes the model occupies: the file length.
    pub fn flash_len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn chain(&self) -> &ChainInfo {
        &self.chain
    }
}
