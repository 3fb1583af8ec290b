//! Writes the data of the M4F's word2vec showcase into `boards/common/data/`: word vectors
//! trained with skip-gram and negative sampling (the core's `tinytune::word2vec`, seed 0) on
//! sentences of the seeded generator with planted topics (`tinytune_board_common::
//! word2vec_corpus`, seed [`CORPUS_SEED`]):
//!
//! - `word2vec.ttm`: the word vectors as one f32 Embedding op `[vocab, dim]` (sequence length
//!   1), the table the device looks words up in, in place in flash;
//! - `word2vec-context.ttm`: the context vectors in the same form, which the device needs to
//!   keep training;
//! - `word2vec-vocab.txt`: the vocabulary as `word2vec.c -save-vocab` writes it, `word count`
//!   per line in id order (descending count).
//!
//! The loop is the tests' (`tinytune_host_tests::word2vec::train`), `word2vec.c`'s: one
//! generator for initialisation and training, the unigram^0.75 table over the counts,
//! subsampling with threshold 1e-3, the learning rate decaying linearly over all epochs' words,
//! one `train_sentence` per sentence.
use std::fmt::Write as _;
use std::path::Path;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::word2vec::Word2VecConfig;
use tinytune_board_common::word2vec_corpus::{Generator, MAX_SENTENCE, NAMES, WORDS};
use tinytune_cli::model::{OwnedModel, OwnedOp};
use tinytune_host_tests::word2vec::{train_with_table, Corpus};

/// The generator's seed for the training sentences.
const CORPUS_SEED: u64 = 1;
/// Sentences in the training corpus.
const SENTENCES: usize = 3000;
/// The seed of initialisation and training.
const SEED: u64 = 0;
/// Vector length.
const DIM: usize = 16;
/// Passes over the corpus.
const EPOCHS: usize = 5;
/// Entries of the negative-sampling table.
const TABLE: usize = 1 << 16;

fn ttm(vocab: usize, table: &[f32]) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    let config = EmbeddingConfig {
        vocab,
        dim: DIM,
        seq_len: 1,
    };
    let model = OwnedModel::new(vec![OwnedOp::Embedding(config, table.to_vec())]);
    Ok(tinytune_cli::ttm::encode(&model, None, 0, &[]).map_err(|e| e.to_string())?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = root.join("boards/common/data");

    // The corpus in generator ids, renumbered by descending count (ties by generator id).
    let mut gen = Generator::new(CORPUS_SEED);
    let mut buf = [0u32; MAX_SENTENCE];
    let raw: Vec<Vec<u32>> = (0..SENTENCES)
        .map(|_| {
            let n = gen.sentence(&mut buf);
            buf[..n].to_vec()
        })
        .collect();
    let (corpus, id_of) = Corpus::sorted(raw, WORDS);
    assert!(id_of.iter().all(Option::is_some), "a word never occurs");
    let mut order = vec![0usize; WORDS];
    for (g, id) in id_of.iter().enumerate() {
        if let Some(id) = id {
            order[*id as usize] = g;
        }
    }
    let trained = train_with_table(
        &corpus,
        Word2VecConfig::new(WORDS, DIM),
        EPOCHS,
        SEED,
        TABLE,
    );
    println!(
        "mean loss per pair: first epoch {:.4}, last epoch {:.4}",
        trained.first_loss, trained.last_loss
    );
    let (input, output) = (trained.input, trained.output);
    let train_words = corpus.words();

    std::fs::write(out.join("word2vec.ttm"), ttm(WORDS, &input)?)?;
    std::fs::write(out.join("word2vec-context.ttm"), ttm(WORDS, &output)?)?;
    let mut vocab = String::new();
    for (&g, count) in order.iter().zip(&corpus.counts) {
        let _ = writeln!(vocab, "{} {count}", NAMES[g]);
    }
    std::fs::write(out.join("word2vec-vocab.txt"), vocab)?;
    println!(
        "wrote word2vec.ttm, word2vec-context.ttm and word2vec-vocab.txt ({WORDS} words, {train_words} corpus words, dim {DIM}) to boards/common/data"
    );
    Ok(())
}
