//! Queries on a table of word vectors: cosine similarity, nearest words, analogies.

use super::sgns::dot;
use crate::error::{check_len, product, Buffer, Error, ShapeError};

/// A word and its cosine similarity to a query.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Neighbor {
    /// The word id.
    pub word: u32,
    /// Its cosine similarity to the query, in `[−1, 1]`.
    pub similarity: f32,
}

/// The cosine similarity `a·b / (‖a‖·‖b‖)` over the common length of `a` and `b`; 0 if either
/// norm is 0. NaN in, NaN out.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    ab / (crate::num::math::sqrt(aa) * crate::num::math::sqrt(bb))
}

/// The `out.len()` words of `table` most similar (cosine) to `query`, best first, leaving out
/// the ids in `exclude`. Returns how many were written (fewer than `out.len()` if the table has
/// fewer words; a word whose similarity is NaN is never listed). Ties keep the lower id first.
///
/// # Shapes
/// - `table`: `[vocab, dim]`, for example word vectors read in place from a `.ttm` in flash
/// - `query`: `[dim]`
/// - `out`: `[k]`
///
/// # Errors
/// [`ShapeError::Dimension`] if `dim` is 0 or `table` is not a whole number of rows;
/// [`ShapeError::Length`] with [`Buffer::Input`] if `query` is not `dim` long.
pub fn most_similar(
    table: &[f32],
    dim: usize,
    query: &[f32],
    exclude: &[u32],
    out: &mut [Neighbor],
) -> Result<usize, Error> {
    if dim == 0 || !table.len().is_multiple_of(dim) {
        return Err(ShapeError::Dimension.into());
    }
    check_len(Buffer::Input, dim, query.len())?;
    let q_norm = crate::num::math::sqrt(dot(query, query));
    let mut filled = 0;
    for (word, v) in table.chunks_exact(dim).enumerate() {
        let word = word as u32;
        if exclude.contains(&word) {
            continue;
        }
        let norm = crate::num::math::sqrt(dot(v, v));
        let similarity = if norm == 0.0 || q_norm == 0.0 {
            0.0
        } else {
            dot(query, v) / (q_norm * norm)
        };
        if similarity.is_nan() {
            continue;
        }
        // Insertion into the sorted list: k is small.
        let Some(at) = (0..out.len())
            .find(|&i| i >= filled || out.get(i).is_some_and(|n| n.similarity < similarity))
        else {
            continue;
        };
        if filled < out.len() {
            filled += 1;
        }
        out.copy_within(at..filled - 1, at + 1);
        if let Some(slot) = out.get_mut(at) {
            *slot = Neighbor { word, similarity };
        }
    }
    Ok(filled)
}

/// The analogy `a − b + c` ("king − man + woman" → "queen"): the words most similar to
/// `â − b̂ + ĉ` (each vector scaled to unit length first, as `word2vec.c`'s `word-analogy`
/// does), leaving out `a`, `b` and `c`. Returns how many were written, best first.
///
/// # Shapes
/// - `table`: `[vocab, dim]`
/// - `scratch`: at least `[dim]` (receives the query vector)
/// - `out`: `[k]`
///
/// # Errors
/// As [`most_similar`]; [`Error::Index`] with position 0, 1 or 2 if `a`, `b` or `c` is not a
/// word of the table; [`ShapeError::Length`] with [`Buffer::Scratch`] if `scratch` is shorter
/// than `dim`.
pub fn analogy(
    table: &[f32],
    dim: usize,
    words: [u32; 3],
    scratch: &mut [f32],
    out: &mut [Neighbor],
) -> Result<usize, Error> {
    if dim == 0 || !table.len().is_multiple_of(dim) {
        return Err(ShapeError::Dimension.into());
    }
    let vocab = table.len() / dim;
    let _ = product(&[vocab, dim])?;
    if scratch.len() < dim {
        return Err(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: dim,
            actual: scratch.len(),
        }
        .into());
    }
    let (query, _) = scratch.split_at_mut(dim);
    query.fill(0.0);
    for (position, (&w, sign)) in words.iter().zip([1.0f32, -1.0, 1.0]).enumerate() {
        let v = table
            .get((w as usize).saturating_mul(dim)..)
            .and_then(|r| r.get(..dim))
            .ok_or(Error::Index {
                position,
                len: vocab,
            })?;
        let norm = crate::num::math::sqrt(dot(v, v));
        if norm > 0.0 {
            for (q, x) in query.iter_mut().zip(v) {
                *q += sign * x / norm;
            }
        }
    }
    most_similar(table, dim, query, &words, out)
}
