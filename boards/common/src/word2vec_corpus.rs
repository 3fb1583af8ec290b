//! A seeded generator of sentences with planted structure, for the word2vec showcase: the host
//! trains word vectors on its sentences (`boards/common/data/word2vec*.ttm`, written by
//! `cargo xtask demo-data`), and the device generates new ones to keep training on.
//!
//! The language: 4 topics of 8 words each, and 10 function words. A sentence picks one topic
//! and 6 to 10 words; each word is a function word with probability [`FUNCTION_SHARE`] (drawn
//! with Zipf weights `1/(rank + 1)`, so their counts differ) and otherwise one of the topic's
//! words (uniform). Words of one topic therefore share their contexts, and word2vec should put
//! them close together: the planted clusters.
//!
//! A [`Relation`] changes the language: every sentence of topic `topic` then carries `word` at
//! one random position, a new co-occurrence (for example "duck", an animal, now said in food
//! sentences) the device learns from new sentences.
//!
//! Words are the generator's ids `0..WORDS` (topic `t`'s words are `8t..8t+8`, the function
//! words come last); a vocabulary sorted by count maps them to other ids by name
//! ([`NAMES`]). Everything follows from the seed, bit for bit on host and device
//! ([`SeededRng`], integer draws and one `f32` comparison).

use tinytune::rng::{uniform_f32, RngCore, SeedableRng, SeededRng};

/// Number of topics (planted clusters).
pub const TOPICS: usize = 4;
/// Words per topic.
pub const TOPIC_WORDS: usize = 8;
/// Number of function words, shared by every topic.
pub const FUNCTION_WORDS: usize = 10;
/// Every word: the topics' words, then the function words.
pub const WORDS: usize = TOPICS * TOPIC_WORDS + FUNCTION_WORDS;
/// Fewest words in a sentence.
pub const MIN_SENTENCE: usize = 6;
/// Most words in a sentence.
pub const MAX_SENTENCE: usize = 10;
/// Probability that a word of a sentence is a function word.
pub const FUNCTION_SHARE: f32 = 0.3;

/// The words by generator id: topic 0 (animals), 1 (food), 2 (tools), 3 (weather), then the
/// function words from the most frequent.
pub const NAMES: [&str; WORDS] = [
    "cat", "dog", "horse", "cow", "sheep", "goat", "pig", "duck", // animals
    "bread", "rice", "apple", "pear", "cheese", "soup", "milk", "egg", // food
    "hammer", "saw", "drill", "wrench", "knife", "nail", "screw", "glue", // tools
    "rain", "snow", "wind", "storm", "cloud", "sun", "fog", "frost", // weather
    "the", "a", "of", "and", "to", "in", "is", "on", "with", "it", // function words
];

/// Zipf weights of the function words, `2520 / (rank + 1)` (2520 is divisible by 1..=10).
const FUNCTION_WEIGHTS: [u32; FUNCTION_WORDS] =
    [2520, 1260, 840, 630, 504, 420, 360, 315, 280, 252];

/// The topic of generator word `word`, or `None` for a function word (or an id past [`WORDS`]).
pub const fn topic(word: usize) -> Option<usize> {
    if word < TOPICS * TOPIC_WORDS {
        Some(word / TOPIC_WORDS)
    } else {
        None
    }
}

/// The generator id of the word spelled `name`.
pub fn word_id(name: &str) -> Option<usize> {
    NAMES.iter().position(|&n| n == name)
}

/// A new co-occurrence: `word` appears in every sentence of `topic`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Relation {
    /// The generator id of the word.
    pub word: usize,
    /// The topic whose sentences now carry it.
    pub topic: usize,
}

/// The sentence generator (see the [module docs](self)).
#[derive(Clone, Debug)]
pub struct Generator {
    rng: SeededRng,
    relation: Option<Relation>,
}

impl Generator {
    /// The language without a relation, from `seed`.
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: SeededRng::seed_from_u64(seed),
            relation: None,
        }
    }

    /// The language with `relation` planted, from `seed`.
    pub fn with_relation(seed: u64, relation: Relation) -> Self {
        Generator {
            rng: SeededRng::seed_from_u64(seed),
            relation: Some(relation),
        }
    }

    /// Writes the next sentence (generator ids) into `out` and returns its length, between
    /// [`MIN_SENTENCE`] and [`MAX_SENTENCE`] (fewer if `out` is shorter).
    pub fn sentence(&mut self, out: &mut [u32]) -> usize {
        let topic = self.below(TOPICS as u32);
        let span = (MAX_SENTENCE - MIN_SENTENCE + 1) as u32;
        let len = (MIN_SENTENCE + self.below(span) as usize).min(out.len());
        let total: u32 = FUNCTION_WEIGHTS.iter().sum();
        for slot in out.iter_mut().take(len) {
            *slot = if uniform_f32(&mut self.rng) < FUNCTION_SHARE {
                let mut r = self.below(total);
                let mut rank = FUNCTION_WORDS - 1;
                for (i, &w) in FUNCTION_WEIGHTS.iter().enumerate() {
                    if r < w {
                        rank = i;
                        break;
                    }
                    r -= w;
                }
                (TOPICS * TOPIC_WORDS + rank) as u32
            } else {
                topic * TOPIC_WORDS as u32 + self.below(TOPIC_WORDS as u32)
            };
        }
        if let Some(rel) = self.relation {
            if rel.topic == topic as usize && len > 0 {
                let at = self.below(len as u32) as usize;
                if let Some(slot) = out.get_mut(at) {
                    *slot = rel.word as u32;
                }
            }
        }
        len
    }

    /// A number in `0..n` (`n > 0`) by multiply-shift of 32 random bits.
    fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.rng.next_u32()) * u64::from(n)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_stay_in_one_topic_and_carry_the_relation() {
        let mut g = Generator::new(7);
        let mut s = [0u32; MAX_SENTENCE];
        for _ in 0..200 {
            let n = g.sentence(&mut s);
            assert!((MIN_SENTENCE..=MAX_SENTENCE).contains(&n));
            let topics: Vec<usize> = s[..n].iter().filter_map(|&w| topic(w as usize)).collect();
            assert!(topics.windows(2).all(|p| p[0] == p[1]), "{:?}", &s[..n]);
        }
        let rel = Relation { word: 7, topic: 1 };
        let mut g = Generator::with_relation(7, rel);
        let (mut food, mut with_duck) = (0, 0);
        for _ in 0..400 {
            let n = g.sentence(&mut s);
            let is_food = s[..n].iter().any(|&w| topic(w as usize) == Some(1));
            if is_food {
                food += 1;
                with_duck += usize::from(s[..n].contains(&7));
            }
        }
        // A food sentence whose only topic word was replaced by "duck" is not counted as food.
        assert!(food > 50 && with_duck == food, "{food} {with_duck}");
    }

    #[test]
    fn names_are_unique() {
        for (i, n) in NAMES.iter().enumerate() {
            assert_eq!(word_id(n), Some(i));
        }
    }
}
