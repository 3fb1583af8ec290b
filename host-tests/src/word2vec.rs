//! Generated corpora with planted structure for the word2vec tests, and the skip-gram training
//! loop the tests run (the one `tinytune word2vec` runs: linear decay over every epoch's words,
//! subsampling, negatives from a unigram^0.75 table).

use tinytune::rng::{RngCore, SeedableRng, SeededRng};
use tinytune::word2vec::{
    HuffmanTree, NegativeTable, Objective, Schedule, Subsampler, Targets, Word2Vec, Word2VecConfig,
};

/// A corpus of word ids, one sentence per entry, ids sorted by descending count.
pub struct Corpus {
    /// The sentences.
    pub sentences: Vec<Vec<u32>>,
    /// Count of each id.
    pub counts: Vec<u64>,
}

impl Corpus {
    /// Renumbers `sentences` over `vocab` raw ids so that ids run by descending count (ties by
    /// raw id), as the vocabulary builder does; returns the corpus and `raw id → new id`
    /// (`None` for raw ids that never occur).
    pub fn sorted(sentences: Vec<Vec<u32>>, vocab: usize) -> (Corpus, Vec<Option<u32>>) {
        let mut raw_counts = vec![0u64; vocab];
        for s in &sentences {
            for &w in s {
                raw_counts[w as usize] += 1;
            }
        }
        let mut order: Vec<usize> = (0..vocab).filter(|&w| raw_counts[w] > 0).collect();
        order.sort_by(|&a, &b| raw_counts[b].cmp(&raw_counts[a]).then(a.cmp(&b)));
        let mut map = vec![None; vocab];
        for (new, &raw) in order.iter().enumerate() {
            map[raw] = Some(new as u32);
        }
        let sentences = sentences
            .into_iter()
            .map(|s| s.into_iter().filter_map(|w| map[w as usize]).collect())
            .collect();
        let counts = order.iter().map(|&raw| raw_counts[raw]).collect();
        (Corpus { sentences, counts }, map)
    }

    /// Number of word occurrences.
    pub fn words(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// `clusters` groups of `size` words (raw id `c·size + k`) plus `shared` filler words (raw ids
/// after the clusters): each sentence takes 8 words of one cluster, uniformly, and 2 filler
/// words, shuffled. Returns the corpus and each new id's cluster (`None` for fillers).
pub fn planted_clusters(
    clusters: usize,
    size: usize,
    shared: usize,
    sentences: usize,
    seed: u64,
) -> (Corpus, Vec<Option<usize>>) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let below = |rng: &mut SeededRng, n: usize| (rng.next_u32() as usize) % n;
    let raw: Vec<Vec<u32>> = (0..sentences)
        .map(|_| {
            let c = below(&mut rng, clusters);
            let mut s: Vec<u32> = (0..8)
                .map(|_| (c * size + below(&mut rng, size)) as u32)
                .collect();
            s.extend((0..2).map(|_| (clusters * size + below(&mut rng, shared)) as u32));
            shuffle(&mut s, &mut rng);
            s
        })
        .collect();
    let vocab = clusters * size + shared;
    let (corpus, map) = Corpus::sorted(raw, vocab);
    let mut cluster_of = vec![None; corpus.counts.len()];
    for (raw, new) in map.iter().enumerate() {
        if let (Some(new), true) = (new, raw < clusters * size) {
            cluster_of[*new as usize] = Some(raw / size);
        }
    }
    (corpus, cluster_of)
}

/// A planted relation: `entities` entities, each named by two words, form A and form B (raw ids
/// `2i` and `2i + 1`). A sentence is one name plus 4 of its entity's 3 private context words
/// and 4 of its form's 6 context words, shuffled; so a name's vector is its entity's part plus
/// its form's part, and `B_j − A_j + A_i` points at `B_i`. Returns the corpus and the new ids of
/// `(A_i, B_i)` for every entity.
pub fn planted_analogy(entities: usize, sentences: usize, seed: u64) -> (Corpus, Vec<(u32, u32)>) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let below = |rng: &mut SeededRng, n: usize| (rng.next_u32() as usize) % n;
    let names = 2 * entities;
    let private = |i: usize, k: usize| (names + 3 * i + k) as u32;
    let form_ctx = |f: usize, k: usize| (names + 3 * entities + 6 * f + k) as u32;
    let raw: Vec<Vec<u32>> = (0..sentences)
        .map(|_| {
            let i = below(&mut rng, entities);
            let f = below(&mut rng, 2);
            let mut s = vec![(2 * i + f) as u32];
            s.extend((0..4).map(|_| private(i, below(&mut rng, 3))));
            s.extend((0..4).map(|_| form_ctx(f, below(&mut rng, 6))));
            shuffle(&mut s, &mut rng);
            s
        })
        .collect();
    let vocab = names + 3 * entities + 12;
    let (corpus, map) = Corpus::sorted(raw, vocab);
    let pairs = (0..entities)
        .map(|i| (map[2 * i].unwrap(), map[2 * i + 1].unwrap()))
        .collect();
    (corpus, pairs)
}

fn shuffle(s: &mut [u32], rng: &mut SeededRng) {
    for i in (1..s.len()).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        s.swap(i, j);
    }
}

/// The trained tables and the loss of the last epoch (mean per pair).
pub struct Trained {
    /// Word vectors `[vocab, dim]`.
    pub input: Vec<f32>,
    /// Context or node vectors.
    pub output: Vec<f32>,
    /// Mean loss per pair of the first and the last epoch.
    pub first_loss: f32,
    /// Mean loss per pair of the last epoch.
    pub last_loss: f32,
}

/// Skip-gram over `corpus` for `epochs` epochs with `config` (its `vocab` is set from the
/// corpus) and a negative table of 100 entries per word, seeded: the same seed gives the same
/// bits.
pub fn train(corpus: &Corpus, config: Word2VecConfig, epochs: usize, seed: u64) -> Trained {
    train_with_table(corpus, config, epochs, seed, 100 * corpus.counts.len())
}

/// [`train`] with a negative table of `table_len` entries.
pub fn train_with_table(
    corpus: &Corpus,
    mut config: Word2VecConfig,
    epochs: usize,
    seed: u64,
    table_len: usize,
) -> Trained {
    config.vocab = corpus.counts.len();
    let mut input = vec![0.0; config.input_len().unwrap()];
    let mut output = vec![0.0; config.output_len().unwrap()];
    let mut scratch = vec![0.0; config.dim];
    let mut rng = SeededRng::seed_from_u64(seed);
    let mut table_buf = vec![0u32; table_len];
    let table = NegativeTable::build(&corpus.counts, &mut table_buf).unwrap();
    let mut work = vec![0u64; HuffmanTree::work_len(config.vocab)];
    let mut links = vec![0u32; HuffmanTree::tree_len(config.vocab)];
    let tree = HuffmanTree::build(&corpus.counts, &mut work, &mut links).unwrap();
    let targets = match config.objective {
        Objective::NegativeSampling => Targets::Negative(&table),
        Objective::HierarchicalSoftmax => Targets::Hierarchical(&tree),
    };
    let subsample = Subsampler::new(&corpus.counts, config.sample);
    let schedule = Schedule {
        alpha0: config.alpha,
        total_words: epochs as u64 * corpus.words(),
    };
    let mut w2v = Word2Vec::new(config, &mut input, &mut output, &mut scratch).unwrap();
    w2v.init(&mut rng);
    let longest = corpus.sentences.iter().map(Vec::len).max().unwrap_or(0);
    let mut kept = vec![0u32; longest];
    let (mut first_loss, mut last_loss) = (0.0, 0.0);
    let mut done = 0u64;
    for epoch in 0..epochs {
        let (mut loss, mut pairs) = (0.0f64, 0usize);
        for s in &corpus.sentences {
            let alpha = schedule.alpha(done);
            let stats = w2v
                .train_sentence(s, &mut kept, targets, Some(&subsample), alpha, &mut rng)
                .unwrap();
            done += s.len() as u64;
            loss += stats.loss as f64;
            pairs += stats.pairs;
        }
        let mean = (loss / pairs.max(1) as f64) as f32;
        if epoch == 0 {
            first_loss = mean;
        }
        last_loss = mean;
    }
    Trained {
        input,
        output,
        first_loss,
        last_loss,
    }
}
