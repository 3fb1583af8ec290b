//! The word2vec showcase the emulated Cortex-M4F runs in CI: word vectors looked up in place in
//! flash, then trained further on the device, skip-gram with negative sampling on new
//! sentences, in a RAM budget of a few kilobytes.
//!
//! The data (`boards/common/data/`, written by `cargo xtask demo-data`): vectors of dimension
//! [`DIM`] for the [`VOCAB`] words of [`word2vec_corpus`](crate::word2vec_corpus) (4 planted
//! topics of 8 words, 10 function words), trained on the host on 3,000 generated sentences;
//! the word vectors (`word2vec.ttm`) and the context vectors (`word2vec-context.ttm`), each an
//! f32 Embedding op, and the vocabulary with its counts (`word2vec-vocab.txt`).
//!
//! What the device does:
//! 1. **Lookup from flash.** Reads `word2vec.ttm` with [`Model::from_bytes`] and takes the
//!    embedding table as a slice of flash (no copy); measures the planted clusters on it: the
//!    mean cosine of two words of one topic less that of two words of different topics (the
//!    gap), and the recovery, the share of each topic word's 7 nearest words (of all 41 others,
//!    [`most_similar`]) that are of its topic; and "duck"'s relation to the food words (below).
//! 2. **Incremental SGNS.** Copies both tables into RAM, builds a [`TABLE_LEN`]-entry negative
//!    table and the subsampler from the counts, and learns from [`NEW_SENTENCES`] sentences
//!    generated on the device with a new relation planted: "duck" (an animal) now appears in
//!    every food sentence. It measures "duck"'s relation to food before and after (its mean
//!    cosine to the 8 food words less its mean cosine to the 16 tools and weather words: SGNS
//!    vectors share a common direction, so unrelated words' cosines are well above 0), whether
//!    the clusters are kept (the recovery of the other topic words, "duck" left out of their
//!    neighbours), the pairs and instructions of one sentence's update (`train_sentence`), and
//!    the CRC-32 of the final word vectors, which the host reproduces bit for bit (host-tests'
//!    `word2vec_device`).
//! 3. **Kept across power loss.** Saves the word and context vectors with
//!    [`ParamStore`] (two slots, commit record last) in
//!    the board's NOR flash ([`flash_len`] bytes), forgets them as a reset would, and loads them
//!    back: `reload=ok` if they come back bit for bit.
//!
//! # RAM
//!
//! Training needs, in bytes ([`training_ram`]: the core's
//! [`Word2VecConfig::training_bytes`] and the sentence): `4·V·D` word vectors + `4·V·D`
//! context vectors + `4·D` scratch + `4·T` negative table + `8·V` counts (`u64`, read by the
//! subsampler) + `4·n` kept words of a sentence of up to `n` words + `4·n` the sentence itself.
//! For `V` = 42, `D` = 16, `T` = 512, `n` = 10: 2,688 + 2,688 + 64 + 2,048 + 336 + 40 + 40 =
//! 7,904 bytes. The lookup
//! needs none of it.
//!
//! The last line is `word2vec: vocab=… dim=… flash_gap=… recovery=… rel_before=… rel_after=…
//! preserved=… pairs_per_sentence=… ram_bytes=… insns_per_sentence=… vectors_crc32=…`.

use crate::demo::crc32_f32s;
use crate::word2vec_corpus::{
    topic, word_id, Generator, Relation, MAX_SENTENCE, TOPIC_WORDS, WORDS,
};
use crate::Platform;
use core::fmt::{self, Write};
use static_cell::ConstStaticCell;
use tinytune::model::persist::nor_flash::NorFlash;
use tinytune::model::persist::{ParamStore, PersistError};
use tinytune::model::{FormatError, Model, Op};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::word2vec::{
    cosine, most_similar, NegativeTable, Neighbor, Schedule, Subsampler, Targets, Word2Vec,
    Word2VecConfig,
};

/// Words in the vocabulary.
pub const VOCAB: usize = WORDS;
/// Vector length.
pub const DIM: usize = 16;
/// Entries of the device's negative-sampling table (about 12 per word).
pub const TABLE_LEN: usize = 512;
/// New sentences the device learns from (about 100 of them food sentences carrying "duck").
pub const NEW_SENTENCES: usize = 400;
/// The generator's seed for the new sentences (the host trained on seed 1).
pub const NEW_SEED: u64 = 2;
/// The seed of the device's training draws (subsampling, windows, negatives).
pub const TRAIN_SEED: u64 = 3;
/// The learning rate at the first new sentence, decaying linearly over them (`word2vec.c`'s
/// schedule, counted in sentences).
pub const ALPHA0: f32 = 0.025;
/// The word the new relation moves.
pub const MOVED: &str = "duck";
/// The topic whose sentences now carry it (food).
pub const TO_TOPIC: usize = 1;
/// Neighbours per word for the recovery: the other words of its topic.
pub const K: usize = TOPIC_WORDS - 1;

/// Thresholds of the exit status, in 10⁻⁴: the flash gap at least 0.30, the recovery at least
/// 0.90, "duck"'s relation to the food words (its mean cosine to them less that to the tools
/// and weather words) up by at least 0.10, the other words' recovery after training at least
/// 0.90.
pub const MIN_GAP: i32 = 3000;
/// See [`MIN_GAP`].
pub const MIN_RECOVERY: i32 = 9000;
/// See [`MIN_GAP`].
pub const MIN_REL_GAIN: i32 = 1000;
/// See [`MIN_GAP`].
pub const MIN_PRESERVED: i32 = 9000;

/// The word vectors, 8-byte aligned in flash.
pub fn vectors_file() -> &'static [u8] {
    tinytune::include_model!("../data/word2vec.ttm")
}

/// The context vectors, 8-byte aligned in flash.
pub fn context_file() -> &'static [u8] {
    tinytune::include_model!("../data/word2vec-context.ttm")
}

/// The vocabulary, `word count` per line in id order.
pub const VOCAB_TEXT: &str = include_str!("../data/word2vec-vocab.txt");

/// Bytes of RAM the training needs ([`Word2VecConfig::training_bytes`]: word and context
/// vectors, scratch, negative table, counts, kept words) plus the sentence buffer.
pub const fn training_ram(vocab: usize, dim: usize, table: usize, sentence: usize) -> usize {
    Word2VecConfig::new(vocab, dim).training_bytes(table, sentence) + 4 * sentence
}

/// Floats the device learns and keeps: the word vectors, then the context vectors.
pub const LEARNED: usize = 2 * VOCAB * DIM;

/// Bytes of NOR flash the showcase needs on flash `F` for its two slots of [`LEARNED`] floats
/// (each rounded up to whole erase pages).
pub const fn flash_len<F: NorFlash>() -> usize {
    ParamStore::<F>::region_len(LEARNED)
}

/// The showcase's buffers, in .bss: exactly [`training_ram`].
pub struct Buffers {
    /// The word vectors `[VOCAB, DIM]`, then the context vectors `[VOCAB, DIM]`: one slice, so
    /// one save keeps both.
    vectors: [f32; LEARNED],
    scratch: [f32; DIM],
    table: [u32; TABLE_LEN],
    kept: [u32; MAX_SENTENCE],
    sentence: [u32; MAX_SENTENCE],
    counts: [u64; VOCAB],
}

impl Buffers {
    /// Zeroed buffers (const, for a static).
    pub const fn new() -> Self {
        Buffers {
            vectors: [0.0; LEARNED],
            scratch: [0.0; DIM],
            table: [0; TABLE_LEN],
            kept: [0; MAX_SENTENCE],
            sentence: [0; MAX_SENTENCE],
            counts: [0; VOCAB],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

// The buffers are exactly the documented budget: the core's count and the sentence.
const _: () =
    assert!(core::mem::size_of::<Buffers>() == training_ram(VOCAB, DIM, TABLE_LEN, MAX_SENTENCE));

static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers::new());

/// What failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ShowcaseError {
    /// A model file was rejected.
    Model(FormatError),
    /// A model file is not one Embedding op of `[VOCAB, DIM]`.
    Shape,
    /// The vocabulary file is malformed or names a word the generator does not know.
    Vocab,
    /// Training or a query failed.
    Run(tinytune::Error),
    /// Saving or loading the vectors failed.
    Persist(PersistError),
}

impl From<PersistError> for ShowcaseError {
    fn from(e: PersistError) -> Self {
        ShowcaseError::Persist(e)
    }
}

impl From<tinytune::Error> for ShowcaseError {
    fn from(e: tinytune::Error) -> Self {
        ShowcaseError::Run(e)
    }
}

/// The showcase's results; similarities and shares in units of 10⁻⁴, rounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Words in the vocabulary.
    pub vocab: usize,
    /// Vector length.
    pub dim: usize,
    /// On the flash table: mean same-topic cosine less mean cross-topic cosine.
    pub flash_gap: i32,
    /// On the flash table: share of the topic words' 7 nearest words in their topic.
    pub recovery: i32,
    /// The moved word's relation to food before training on the device: its mean cosine to
    /// the food words less that to the tools and weather words.
    pub rel_before: i32,
    /// The same after.
    pub rel_after: i32,
    /// Recovery of the other topic words after training, the moved word left out.
    pub preserved: i32,
    /// RAM of the training: the [`Buffers`].
    pub ram_bytes: usize,
    /// Mean (centre, context) pairs updated per new sentence, in 10⁻⁴ (after subsampling,
    /// which keeps about a quarter of the words of this small corpus).
    pub pairs_per_sentence: i32,
    /// Mean instructions of one sentence's update (`train_sentence`).
    pub insns_per_sentence: u64,
    /// CRC-32 of the final word vectors (little-endian `f32`, row after row).
    pub vectors_crc32: u32,
    /// Whether the word and context vectors came back from flash bit for bit.
    pub reload_ok: bool,
}

impl Report {
    /// Whether the thresholds ([`MIN_GAP`] and the others) hold.
    pub fn passes(&self) -> bool {
        self.flash_gap >= MIN_GAP
            && self.recovery >= MIN_RECOVERY
            && self.rel_after - self.rel_before >= MIN_REL_GAIN
            && self.preserved >= MIN_PRESERVED
            && self.reload_ok
    }

    /// Writes the summary line (without a newline).
    ///
    /// # Errors
    /// Those of `w`.
    pub fn write_summary<W: Write>(&self, w: &mut W) -> fmt::Result {
        write!(w, "word2vec: vocab={} dim={}", self.vocab, self.dim)?;
        for (name, v) in [
            ("flash_gap", self.flash_gap),
            ("recovery", self.recovery),
            ("rel_before", self.rel_before),
            ("rel_after", self.rel_after),
            ("preserved", self.preserved),
            ("pairs_per_sentence", self.pairs_per_sentence),
        ] {
            let sign = if v < 0 { "-" } else { "" };
            let a = v.unsigned_abs();
            write!(w, " {name}={sign}{}.{:04}", a / 10_000, a % 10_000)?;
        }
        write!(
            w,
            " ram_bytes={} insns_per_sentence={} vectors_crc32={:#010x} reload={}",
            self.ram_bytes,
            self.insns_per_sentence,
            self.vectors_crc32,
            if self.reload_ok { "ok" } else { "failed" }
        )
    }
}

/// `x` in units of 10⁻⁴, rounded half away from zero (no `f32::round` in `core`).
fn fixed4(x: f32) -> i32 {
    let scaled = x * 10_000.0;
    if scaled >= 0.0 {
        (scaled + 0.5) as i32
    } else {
        -((-scaled + 0.5) as i32)
    }
}

/// The vocabulary read from [`VOCAB_TEXT`]: counts by id, and each id's topic.
struct Vocab {
    /// The generator's id → the vocabulary's.
    id_of: [u32; WORDS],
    /// Topic by vocabulary id (`None`: a function word).
    topic: [Option<u8>; VOCAB],
}

/// Parses `word count` lines into `counts` (by id).
fn parse_vocab(text: &str, counts: &mut [u64; VOCAB]) -> Result<Vocab, ShowcaseError> {
    let mut vocab = Vocab {
        id_of: [u32::MAX; WORDS],
        topic: [None; VOCAB],
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    for id in 0..VOCAB {
        let mut parts = lines.next().ok_or(ShowcaseError::Vocab)?.split_whitespace();
        let (Some(word), Some(count), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ShowcaseError::Vocab);
        };
        let g = word_id(word).ok_or(ShowcaseError::Vocab)?;
        let slot = vocab.id_of.get_mut(g).ok_or(ShowcaseError::Vocab)?;
        if *slot != u32::MAX {
            return Err(ShowcaseError::Vocab);
        }
        *slot = id as u32;
        let c = count.parse().map_err(|_| ShowcaseError::Vocab)?;
        if let (Some(dst), Some(t)) = (counts.get_mut(id), vocab.topic.get_mut(id)) {
            *dst = c;
            *t = topic(g).map(|t| t as u8);
        }
    }
    if lines.next().is_some() {
        return Err(ShowcaseError::Vocab);
    }
    Ok(vocab)
}

/// The embedding table of a word2vec `.ttm`, borrowed from the file.
fn table(file: &[u8]) -> Result<&[f32], ShowcaseError> {
    let model = Model::from_bytes(file).map_err(ShowcaseError::Model)?;
    let mut ops = model.ops();
    match (ops.next(), ops.next()) {
        (Some(Op::Embedding(c, t)), None) if c.vocab == VOCAB && c.dim == DIM => Ok(t),
        _ => Err(ShowcaseError::Shape),
    }
}

/// Row `w` of a `[VOCAB, DIM]` table (empty past the end).
fn row(table: &[f32], w: usize) -> &[f32] {
    table.get(w * DIM..(w + 1) * DIM).unwrap_or(&[])
}

/// Mean same-topic cosine less mean cross-topic cosine over the topic words.
fn gap(table: &[f32], vocab: &Vocab) -> f32 {
    let (mut same, mut ns, mut cross, mut nc) = (0f32, 0u32, 0f32, 0u32);
    for a in 0..VOCAB {
        for b in a + 1..VOCAB {
            let (Some(Some(ta)), Some(Some(tb))) = (vocab.topic.get(a), vocab.topic.get(b)) else {
                continue;
            };
            let c = cosine(row(table, a), row(table, b));
            if ta == tb {
                same += c;
                ns += 1;
            } else {
                cross += c;
                nc += 1;
            }
        }
    }
    same / ns.max(1) as f32 - cross / nc.max(1) as f32
}

/// Share of the topic words' nearest words (of all words but themselves and `skip`) in their
/// own topic, each word asked for as many neighbours as its topic has other words (`skip` left
/// out); `skip` itself is not measured.
fn recovery(table: &[f32], vocab: &Vocab, skip: Option<u32>) -> Result<f32, ShowcaseError> {
    let (mut hits, mut total) = (0u32, 0u32);
    for w in 0..VOCAB as u32 {
        let Some(Some(t)) = vocab.topic.get(w as usize) else {
            continue;
        };
        if Some(w) == skip {
            continue;
        }
        let exclude = [w, skip.unwrap_or(w)];
        let k = (0..VOCAB as u32)
            .filter(|o| !exclude.contains(o) && vocab.topic.get(*o as usize) == Some(&Some(*t)))
            .count();
        let mut near = [Neighbor {
            word: 0,
            similarity: 0.0,
        }; K];
        let near = near.get_mut(..k).unwrap_or(&mut []);
        let n = most_similar(table, DIM, row(table, w as usize), &exclude, near)?;
        for nb in near.iter().take(n) {
            hits += u32::from(vocab.topic.get(nb.word as usize) == Some(&Some(*t)));
        }
        total += k as u32;
    }
    Ok(hits as f32 / total.max(1) as f32)
}

/// Mean cosine of `word` to the words of topic `t`, less its mean cosine to the words of the
/// topics that are neither `t` nor its own: how much closer `t` is than an unrelated topic
/// (SGNS vectors share a common direction, so plain cosines of unrelated words are well above
/// 0).
fn relation(table: &[f32], vocab: &Vocab, word: u32, t: usize) -> f32 {
    let own = vocab.topic.get(word as usize).copied().flatten();
    let (mut to_t, mut nt, mut other, mut no) = (0f32, 0u32, 0f32, 0u32);
    for o in 0..VOCAB {
        let Some(Some(ot)) = vocab.topic.get(o) else {
            continue;
        };
        if o as u32 == word || Some(*ot) == own {
            continue;
        }
        let c = cosine(row(table, word as usize), row(table, o));
        if usize::from(*ot) == t {
            to_t += c;
            nt += 1;
        } else {
            other += c;
            no += 1;
        }
    }
    to_t / nt.max(1) as f32 - other / no.max(1) as f32
}

/// Runs the showcase (see the [module docs](self)).
///
/// # Errors
/// [`ShowcaseError`]: what failed first.
pub fn run<P: Platform, F: NorFlash>(
    platform: &mut P,
    flash: F,
    bufs: &mut Buffers,
) -> Result<Report, ShowcaseError> {
    let vocab = parse_vocab(VOCAB_TEXT, &mut bufs.counts)?;
    let moved_g = word_id(MOVED).ok_or(ShowcaseError::Vocab)?;
    let moved = *vocab.id_of.get(moved_g).ok_or(ShowcaseError::Vocab)?;

    // 1. Lookup from flash: the table is read in place.
    let in_flash = table(vectors_file())?;
    let flash_gap = gap(in_flash, &vocab);
    let flash_recovery = recovery(in_flash, &vocab, None)?;
    let rel_before = relation(in_flash, &vocab, moved, TO_TOPIC);

    // 2. Incremental SGNS on new sentences, in RAM.
    let (input, output) = bufs.vectors.split_at_mut(VOCAB * DIM);
    input.copy_from_slice(in_flash);
    output.copy_from_slice(table(context_file())?);
    let config = Word2VecConfig::new(VOCAB, DIM);
    let negatives = NegativeTable::build(&bufs.counts, &mut bufs.table)?;
    let subsampler = Subsampler::new(&bufs.counts, config.sample);
    let mut model = Word2Vec::new(config, input, output, &mut bufs.scratch)?;
    let schedule = Schedule {
        alpha0: ALPHA0,
        total_words: NEW_SENTENCES as u64,
    };
    let mut gen = Generator::with_relation(
        NEW_SEED,
        Relation {
            word: moved_g,
            topic: TO_TOPIC,
        },
    );
    let mut rng = SeededRng::seed_from_u64(TRAIN_SEED);
    let (mut insns, mut pairs) = (0u64, 0usize);
    for i in 0..NEW_SENTENCES {
        let n = gen.sentence(&mut bufs.sentence);
        for w in bufs.sentence.iter_mut().take(n) {
            *w = vocab.id_of.get(*w as usize).copied().unwrap_or(u32::MAX);
        }
        let sentence = bufs.sentence.get(..n).unwrap_or(&[]);
        let t0 = platform.instructions();
        let stats = model.train_sentence(
            sentence,
            &mut bufs.kept,
            Targets::Negative(&negatives),
            Some(&subsampler),
            schedule.alpha(i as u64),
            &mut rng,
        )?;
        insns += platform.instructions().wrapping_sub(t0);
        pairs += stats.pairs;
    }

    let trained = bufs.vectors.get(..VOCAB * DIM).unwrap_or(&[]);
    let rel_after = relation(trained, &vocab, moved, TO_TOPIC);
    let preserved = recovery(trained, &vocab, Some(moved))?;
    let crc = crc32_f32s(trained);

    // 3. Save both tables, lose the RAM as a reset would, load them back. The tag is the CRC of
    // the flash vectors the device started from: a store of other vectors is not loaded.
    let learned_crc = crc32_f32s(&bufs.vectors);
    let tag = tinytune::model::crc32(vectors_file());
    let region = flash_len::<F>() as u32;
    let mut store = ParamStore::new(flash, 0, region, tag)?;
    store.save(&bufs.vectors)?;
    bufs.vectors.fill(0.0);
    let mut store = ParamStore::new(store.release(), 0, region, tag)?;
    store.load(&mut bufs.vectors)?;
    let reload_ok = crc32_f32s(&bufs.vectors) == learned_crc;

    let ram_bytes = core::mem::size_of::<Buffers>();
    Ok(Report {
        vocab: VOCAB,
        dim: DIM,
        flash_gap: fixed4(flash_gap),
        recovery: fixed4(flash_recovery),
        rel_before: fixed4(rel_before),
        rel_after: fixed4(rel_after),
        preserved: fixed4(preserved),
        ram_bytes,
        pairs_per_sentence: fixed4(pairs as f32 / NEW_SENTENCES as f32),
        insns_per_sentence: insns / NEW_SENTENCES as u64,
        vectors_crc32: crc,
        reload_ok,
    })
}

/// A line of at most 256 bytes, for the summary without an allocator.
struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Takes the static buffers (once), runs [`run`] with the board's NOR flash (at least
/// [`flash_len`] bytes from offset 0, erased), prints the summary line through defmt and
/// returns the board's exit status: 0 if the thresholds hold and the vectors came back from
/// flash ([`Report::passes`]), 2 if it ran but missed them, 1 if it failed.
pub fn main<P: Platform, F: NorFlash>(platform: &mut P, flash: F) -> i32 {
    let Some(bufs) = BUFFERS.try_take() else {
        return 1;
    };
    match run(platform, flash, bufs) {
        Ok(r) => {
            platform.report();
            let mut line = Line {
                buf: [0; 256],
                len: 0,
            };
            if r.write_summary(&mut line).is_err() {
                #[cfg(feature = "defmt")]
                defmt::error!("word2vec: the summary line does not fit its buffer");
                return 1;
            }
            let _text = core::str::from_utf8(line.buf.get(..line.len).unwrap_or(&[])).unwrap_or("");
            #[cfg(feature = "defmt")]
            defmt::println!("{=str}", _text);
            if r.passes() {
                0
            } else {
                2
            }
        }
        Err(_e) => {
            #[cfg(feature = "defmt")]
            defmt::error!("word2vec: failed: {}", _e);
            1
        }
    }
}
