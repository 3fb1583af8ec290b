//! The training corpus: a UTF-8 text file read whole, one sentence per line, tokens separated by
//! whitespace and kept as they are (no lowercasing, no punctuation stripping — as word2vec.c).
//! Sentences become lists of word ids; words outside the vocabulary are dropped and long
//! sentences are cut into pieces of at most [`MAX_SENTENCE`] words.

use std::path::Path;

use super::vocab::Vocab;
use crate::app::AppError;

/// The longest sentence trained on at once (word2vec.c's `MAX_SENTENCE_LENGTH`); longer lines
/// are split into consecutive pieces of this many words (the context window does not cross a
/// cut).
pub const MAX_SENTENCE: usize = 1000;

/// Reads `path` as UTF-8 text.
///
/// # Errors
/// A message naming the file if it cannot be read, or the line and byte column of the first
/// byte that is not valid UTF-8.
pub fn read(path: &Path) -> Result<String, AppError> {
    let bytes = std::fs::read(path)
        .map_err(|e| AppError::new(format!("{}: cannot read the corpus: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let valid = e.utf8_error().valid_up_to();
        let head = bytes.get(..valid).unwrap_or(bytes);
        let line = head.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = head.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        AppError::new(format!(
            "{}: line {line}, byte {column}: not valid UTF-8 (the corpus must be UTF-8 text)",
            path.display()
        ))
    })
}

/// Every token of `text`, in order (lines are only separators here).
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
}

/// The corpus as sentences of word ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sentences {
    /// The ids of every sentence, concatenated.
    ids: Vec<u32>,
    /// The end of each sentence in `ids` (exclusive), increasing.
    ends: Vec<usize>,
}

impl Sentences {
    /// The sentences of `text`: one per line, tokens outside `vocab` dropped, empty sentences
    /// skipped, lines longer than `max_len` (≥ 1) words cut into pieces of `max_len`.
    pub fn encode(text: &str, vocab: &Vocab, max_len: usize) -> Self {
        let max_len = max_len.max(1);
        let mut s = Sentences::default();
        for line in text.lines() {
            let mut len = 0;
            for id in line.split_whitespace().filter_map(|w| vocab.id(w)) {
                if len == max_len {
                    s.ends.push(s.ids.len());
                    len = 0;
                }
                s.ids.push(id);
                len += 1;
            }
            if len > 0 {
                s.ends.push(s.ids.len());
            }
        }
        s
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no sentence.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Number of words over all sentences.
    pub fn words(&self) -> usize {
        self.ids.len()
    }

    /// The sentences in corpus order.
    pub fn iter(&self) -> impl Iterator<Item = &[u32]> {
        let starts = core::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(self.ends.iter().copied())
            .map(|(a, b)| self.ids.get(a..b).unwrap_or(&[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(text: &str, min_count: u64) -> Vocab {
        Vocab::build(tokens(text)).finish(min_count).expect("vocab")
    }

    /// "a b c\n\nb a d\r\nd d" with min count 2 (a 2, b 2, d 3; c once): ids d 0, a 1, b 2.
    /// Sentences: [a b], [b a d], [d d]; the blank line gives none.
    #[test]
    fn lines_become_sentences_without_rare_words() {
        let text = "a b c\n\nb a d\r\nd d";
        let v = vocab(text, 2);
        assert_eq!(v.words(), ["d", "a", "b"]);
        let s = Sentences::encode(text, &v, MAX_SENTENCE);
        let got: Vec<&[u32]> = s.iter().collect();
        assert_eq!(got, [&[1, 2][..], &[2, 1, 0], &[0, 0]]);
        assert_eq!(s.len(), 3);
        assert_eq!(s.words(), 7);
        assert_eq!(s.words() as u64, v.train_words());
    }

    /// A line of 7 kept words with max_len 3 gives pieces of 3, 3 and 1; a line of only rare
    /// words gives nothing.
    #[test]
    fn long_lines_are_cut() {
        let text = "x x x x x x x\nrare";
        let v = vocab(text, 2);
        let s = Sentences::encode(text, &v, 3);
        let lens: Vec<usize> = s.iter().map(<[u32]>::len).collect();
        assert_eq!(lens, [3, 3, 1]);
        let exact = Sentences::encode("x x x", &v, 3);
        assert_eq!(exact.len(), 1);
    }

    /// The first invalid byte is on line 2, after "ab" (byte 3).
    #[test]
    fn invalid_utf8_names_line_and_byte() {
        let dir = std::env::temp_dir().join(format!("tinytune-w2v-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("bad.txt");
        std::fs::write(&path, b"ok line\nab\xff cd\n").expect("write");
        let err = read(&path).expect_err("invalid").message;
        assert!(err.contains("bad.txt: line 2, byte 3"), "{err}");
        std::fs::write(&path, "é\nfine").expect("write");
        assert_eq!(read(&path).expect("valid"), "é\nfine");
        let _ = std::fs::remove_dir_all(&dir);
        let missing = read(&dir.join("none.txt")).expect_err("missing").message;
        assert!(missing.contains("none.txt: cannot read"), "{missing}");
    }
}
