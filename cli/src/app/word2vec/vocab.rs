//! The vocabulary: every distinct token of the corpus with its count, kept when it occurs at
//! least `min_count` times, ids sorted by descending count (ties: first occurrence first), as the
//! core's negative table, subsampler and Huffman tree expect (id 0 the most frequent word).

use std::collections::HashMap;

/// The kept words, their counts and the id of each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vocab {
    words: Vec<String>,
    counts: Vec<u64>,
    ids: HashMap<String, u32>,
}

/// The most frequent token of a corpus, reported when no token reaches the minimum count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopWord {
    /// The token.
    pub word: String,
    /// Its number of occurrences.
    pub count: u64,
}

/// Why no vocabulary could be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VocabError {
    /// The corpus has no token at all.
    NoTokens,
    /// No token occurs `min_count` times; `top` is the most frequent one.
    BelowMinCount {
        /// The minimum count asked for.
        min_count: u64,
        /// The most frequent token.
        top: TopWord,
    },
    /// More distinct kept words than `u32` ids.
    TooLarge(usize),
}

impl Vocab {
    /// Starts counting with `tokens` (in corpus order); [`VocabBuilder::finish`] applies the
    /// minimum count.
    pub fn build<'t>(tokens: impl IntoIterator<Item = &'t str>) -> VocabBuilder<'t> {
        let mut builder = VocabBuilder::default();
        builder.extend(tokens);
        builder
    }

    /// Number of words (ids `0..len`).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether there is no word (never true for a built vocabulary).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words in id order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The counts in id order (non-increasing).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// The id of `word`, if kept.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// Sum of the kept words' counts: the words one epoch trains on (before subsampling).
    pub fn train_words(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Token counts in first-occurrence order, before the minimum count is applied.
#[derive(Clone, Debug, Default)]
pub struct VocabBuilder<'t> {
    /// Index into `order` of each distinct token.
    index: HashMap<&'t str, usize>,
    /// `(token, count)` in order of first occurrence.
    order: Vec<(&'t str, u64)>,
}

impl<'t> VocabBuilder<'t> {
    /// Counts more tokens.
    pub fn extend(&mut self, tokens: impl IntoIterator<Item = &'t str>) {
        for token in tokens {
            match self.index.get(token) {
                Some(&i) => {
                    if let Some(entry) = self.order.get_mut(i) {
                        entry.1 += 1;
                    }
                }
                None => {
                    self.index.insert(token, self.order.len());
                    self.order.push((token, 1));
                }
            }
        }
    }

    /// Number of distinct tokens counted so far.
    pub fn distinct(&self) -> usize {
        self.order.len()
    }

    /// The vocabulary of the tokens occurring at least `min_count` times.
    ///
    /// # Errors
    /// [`VocabError::NoTokens`] for no token at all, [`VocabError::BelowMinCount`] when no token
    /// is frequent enough, [`VocabError::TooLarge`] beyond `u32` ids.
    pub fn finish(self, min_count: u64) -> Result<Vocab, VocabError> {
        let mut kept: Vec<(&str, u64)> = self
            .order
            .iter()
            .copied()
            .filter(|&(_, c)| c >= min_count)
            .collect();
        if kept.is_empty() {
            // The first of the most frequent tokens (max_by_key would take the last).
            let top = self
                .order
                .iter()
                .fold(None::<(&str, u64)>, |best, &(w, c)| match best {
                    Some((_, bc)) if bc >= c => best,
                    _ => Some((w, c)),
                });
            return Err(match top {
                None => VocabError::NoTokens,
                Some((word, count)) => VocabError::BelowMinCount {
                    min_count,
                    top: TopWord {
                        word: word.to_string(),
                        count,
                    },
                },
            });
        }
        if u32::try_from(kept.len()).is_err() {
            return Err(VocabError::TooLarge(kept.len()));
        }
        // A stable sort keeps first-occurrence order among equal counts.
        kept.sort_by_key(|&(_, c)| std::cmp::Reverse(c));
        let words: Vec<String> = kept.iter().map(|&(w, _)| w.to_string()).collect();
        let counts = kept.iter().map(|&(_, c)| c).collect();
        let ids = words
            .iter()
            .zip(0u32..)
            .map(|(w, i)| (w.clone(), i))
            .collect();
        Ok(Vocab { words, counts, ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(text: &str, min_count: u64) -> Result<Vocab, VocabError> {
        Vocab::build(text.split_whitespace()).finish(min_count)
    }

    /// Hand count of "b a c a b a d c e": a 3, b 2, c 2, d 1, e 1; b occurs before c.
    #[test]
    fn ids_follow_descending_count_then_first_occurrence() {
        let v = vocab("b a c a b a d c e", 1).expect("vocab");
        assert_eq!(v.words(), ["a", "b", "c", "d", "e"]);
        assert_eq!(v.counts(), [3, 2, 2, 1, 1]);
        assert_eq!(v.train_words(), 9);
        assert_eq!(v.id("a"), Some(0));
        assert_eq!(v.id("c"), Some(2));
        assert_eq!(v.id("e"), Some(4));
        assert_eq!(v.id("z"), None);
    }

    /// min_count 2 drops d and e (once each): 7 train words left.
    #[test]
    fn min_count_drops_rare_words() {
        let v = vocab("b a c a b a d c e", 2).expect("vocab");
        assert_eq!(v.words(), ["a", "b", "c"]);
        assert_eq!(v.train_words(), 7);
        assert_eq!(v.id("d"), None);
        let all = vocab("b a c a b a d c e", 0).expect("vocab");
        assert_eq!(all.len(), 5);
    }

    /// Tokens are case- and punctuation-sensitive: "The", "the" and "the," are three words.
    #[test]
    fn tokens_are_kept_as_is() {
        let v = vocab("The the the, the", 1).expect("vocab");
        assert_eq!(v.words(), ["the", "The", "the,"]);
        assert_eq!(v.counts(), [2, 1, 1]);
    }

    /// Nothing reaches min_count 4: the error names the first most frequent token (x, 3).
    #[test]
    fn empty_vocabulary_reports_the_most_frequent_token() {
        assert_eq!(
            vocab("y x x y x y z", 4),
            Err(VocabError::BelowMinCount {
                min_count: 4,
                top: TopWord {
                    word: "y".into(),
                    count: 3
                }
            })
        );
        assert_eq!(vocab(" \n\t ", 1), Err(VocabError::NoTokens));
    }

    /// Counting in several calls equals counting at once.
    #[test]
    fn extend_accumulates() {
        let mut b = Vocab::build(["a", "b"]);
        b.extend(["b", "c", "b"]);
        assert_eq!(b.distinct(), 3);
        let v = b.finish(1).expect("vocab");
        assert_eq!(v.words(), ["b", "a", "c"]);
        assert_eq!(v.counts(), [3, 1, 1]);
    }
}
