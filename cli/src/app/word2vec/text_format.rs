//! The text files of `word2vec`: the vectors in the word2vec text format (read by word2vec.c's
//! tools, gensim's `KeyedVectors.load_word2vec_format(binary=False)` and most embedding
//! loaders) and the vocabulary in word2vec.c's `-save-vocab` format.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::app::AppError;

/// Decimal places of each vector component (word2vec.c prints `%lf`, also 6).
pub const DECIMALS: usize = 6;

/// Writes `table` (`[words.len(), dim]`, row `i` the vector of `words[i]`) in the word2vec text
/// format: a header line `<count> <dim>`, then one line per word, `word v1 … vdim`, single
/// spaces, each value with [`DECIMALS`] decimals, `\n` line ends.
///
/// # Errors
/// The writer's I/O error; `InvalidInput` if the table is not `words.len() · dim` long or
/// `dim` is 0.
pub fn write_vectors(
    out: &mut impl Write,
    words: &[String],
    table: &[f32],
    dim: usize,
) -> io::Result<()> {
    if dim == 0 || Some(table.len()) != words.len().checked_mul(dim) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} values for {} words of dimension {dim}",
                table.len(),
                words.len()
            ),
        ));
    }
    writeln!(out, "{} {dim}", words.len())?;
    for (word, row) in words.iter().zip(table.chunks_exact(dim)) {
        out.write_all(word.as_bytes())?;
        for v in row {
            write!(out, " {v:.DECIMALS$}")?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes the vocabulary as word2vec.c's `-save-vocab` does: one `word count` line per word,
/// in id order.
///
/// # Errors
/// The writer's I/O error.
pub fn write_vocab(out: &mut impl Write, words: &[String], counts: &[u64]) -> io::Result<()> {
    for (word, count) in words.iter().zip(counts) {
        writeln!(out, "{word} {count}")?;
    }
    Ok(())
}

/// Creates `path` and runs `write` on a buffered writer to it.
///
/// # Errors
/// A message naming the file if it cannot be created or written.
pub fn write_to(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), AppError> {
    let fail = |e: io::Error| AppError::new(format!("{}: cannot write: {e}", path.display()));
    let file = File::create(path).map_err(fail)?;
    let mut out = BufWriter::new(file);
    write(&mut out).map_err(fail)?;
    out.flush().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two words of dimension 2, written by hand.
    #[test]
    fn vectors_and_vocab_as_written_by_hand() {
        let words = ["the".to_string(), "ünï".to_string()];
        let mut out = Vec::new();
        write_vectors(&mut out, &words, &[0.5, -0.25, 1.0 / 3.0, -1e-8], 2).expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "2 2\nthe 0.500000 -0.250000\nünï 0.333333 -0.000000\n"
        );
        let mut out = Vec::new();
        write_vocab(&mut out, &words, &[7, 3]).expect("write");
        assert_eq!(String::from_utf8(out).expect("utf8"), "the 7\nünï 3\n");
    }

    /// A table of the wrong length is refused, not truncated.
    #[test]
    fn wrong_table_length_is_an_error() {
        let words = ["a".to_string()];
        let mut out = Vec::new();
        assert!(write_vectors(&mut out, &words, &[1.0, 2.0, 3.0], 2).is_err());
        assert!(write_vectors(&mut out, &words, &[], 0).is_err());
        assert!(out.is_empty());
    }
}
