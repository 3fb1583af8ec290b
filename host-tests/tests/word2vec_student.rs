//! A student that starts from word2vec vectors: `tinytune word2vec --ttm` on an unlabelled
//! corpus, then a bag-of-embeddings text classifier whose embedding table is the `.ttm`'s,
//! read in place and frozen (`Embedding` → `GlobalAvgPool` → `Dense`), trained on a few
//! labelled sentences. The topics are planted by construction (fixed seeds), so the labels are
//! independent of the code under test; the threshold is in the test name.

use std::path::PathBuf;

use clap::Parser;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::pool::GlobalAvgPoolConfig;
use tinytune::layers::{AnyLayer, Sequential, TrainBuffers};
use tinytune::model::Op;
use tinytune::rng::{uniform_range_f32, RngCore, SeedableRng, SeededRng};
use tinytune::train::optim::Sgd;
use tinytune_cli::app::args::Cli;
use tinytune_cli::ttm::AlignedBytes;

const TOPICS: usize = 4;
const TOPIC_WORDS: usize = 10;
const LEN: usize = 8;
const DIM: usize = 16;

/// A sentence of `LEN` words: 6 of topic `t` (`t{t}w{k}`) and 2 fillers, shuffled.
fn sentence(t: usize, rng: &mut SeededRng) -> Vec<String> {
    let fillers = ["the", "a", "of", "and"];
    let mut words: Vec<String> = (0..6)
        .map(|_| format!("t{t}w{}", rng.next_u32() as usize % TOPIC_WORDS))
        .collect();
    words.extend((0..2).map(|_| fillers[rng.next_u32() as usize % fillers.len()].to_string()));
    for i in (1..words.len()).rev() {
        words.swap(i, rng.next_u32() as usize % (i + 1));
    }
    words
}

fn labelled(n: usize, seed: u64) -> Vec<(Vec<String>, u32)> {
    let mut rng = SeededRng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let t = i % TOPICS;
            (sentence(t, &mut rng), t as u32)
        })
        .collect()
}

/// The word2vec vectors of an unlabelled corpus of 2,000 sentences, through the command line:
/// the vocabulary (line order of the text file) and the `.ttm` bytes.
fn word2vec_files() -> (Vec<String>, AlignedBytes) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("tinytune-w2v-student-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = SeededRng::seed_from_u64(1);
    let corpus: String = (0..2_000)
        .map(|_| sentence(rng.next_u32() as usize % TOPICS, &mut rng).join(" ") + "\n")
        .collect();
    let (c, v, t) = (dir.join("corpus.txt"), dir.join("v.txt"), dir.join("v.ttm"));
    std::fs::write(&c, corpus).unwrap();
    let args = [
        "tinytune",
        "word2vec",
        "--corpus",
        c.to_str().unwrap(),
        "--out",
        v.to_str().unwrap(),
        "--ttm",
        t.to_str().unwrap(),
        "--dim",
        "16",
        "--epochs",
        "5",
        "--min-count",
        "1",
        "--sample",
        "0",
        "--seed",
        "0",
    ];
    tinytune_cli::app::run(Cli::parse_from(args)).unwrap();
    let words = std::fs::read_to_string(&v)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let bytes = std::fs::read(&t).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (words, AlignedBytes::new(&bytes))
}

/// Test accuracy of `Embedding(table, frozen) → GlobalAvgPool → Dense` trained on 40 labelled
/// sentences (10 per topic), measured on 1,000 others.
fn accuracy(table: &[f32], vocab: &[String]) -> f64 {
    let ids = |s: &[String]| -> Vec<f32> {
        s.iter()
            .map(|w| vocab.iter().position(|v| v == w).unwrap() as f32)
            .collect()
    };
    let train = labelled(40, 2);
    let test = labelled(1_000, 3);
    let x: Vec<f32> = train.iter().flat_map(|(s, _)| ids(s)).collect();
    let y: Vec<u32> = train.iter().map(|&(_, l)| l).collect();
    let mut head = vec![0.0f32; DIM * TOPICS + TOPICS];
    let mut rng = SeededRng::seed_from_u64(4);
    for w in &mut head[..DIM * TOPICS] {
        *w = uniform_range_f32(&mut rng, -0.1, 0.1);
    }
    let embedding = EmbeddingConfig {
        vocab: vocab.len(),
        dim: DIM,
        seq_len: LEN,
    };
    let mut model = Sequential::new([
        AnyLayer::from(embedding.init(table).unwrap()),
        AnyLayer::from(
            GlobalAvgPoolConfig {
                positions: LEN,
                channels: DIM,
            }
            .init()
            .unwrap(),
        ),
        AnyLayer::from(
            DenseConfig {
                in_features: DIM,
                out_features: TOPICS,
                bias: true,
            }
            .init(&mut head[..])
            .unwrap(),
        ),
    ])
    .unwrap();
    let batch = 8;
    let lens = model.train_buffer_lens(batch);
    let (mut c, mut go, mut gr, mut s) = (
        vec![0.0; lens.cache],
        vec![0.0; lens.grad_output],
        vec![0.0; lens.grads],
        vec![0.0; lens.scratch],
    );
    let mut bufs = TrainBuffers {
        cache: &mut c,
        grad_output: &mut go,
        grads: &mut gr,
        scratch: &mut s,
        opt_state: &mut [],
    };
    for _ in 0..100 {
        model
            .train_epoch(
                &x,
                &y,
                batch,
                &mut bufs,
                &mut rng,
                |z, y, g| tinytune::train::loss::softmax_cross_entropy(TOPICS, z, y, g),
                &mut Sgd::new(0.5),
            )
            .unwrap();
    }
    let mut out = vec![0.0; TOPICS];
    let mut scratch = vec![0.0; model.scratch_len(1)];
    let right = test
        .iter()
        .filter(|(s, label)| {
            model.forward(1, &ids(s), &mut out, &mut scratch).unwrap();
            let best = (0..TOPICS)
                .max_by(|&a, &b| out[a].total_cmp(&out[b]))
                .unwrap();
            best as u32 == *label
        })
        .count();
    right as f64 / test.len() as f64
}

#[test]
fn bag_of_embeddings_student_from_the_word2vec_ttm_reaches_95_percent_with_40_labels_5_points_above_a_random_table(
) {
    let (vocab, file) = word2vec_files();
    let model = file.model().unwrap();
    let table = match model.ops().next() {
        Some(Op::Embedding(c, t)) => {
            assert_eq!((c.vocab, c.dim, c.seq_len), (vocab.len(), DIM, 1));
            t
        }
        other => panic!("expected one Embedding op, got {other:?}"),
    };
    let from_word2vec = accuracy(table, &vocab);
    // The same classifier on a random frozen table of the same scale (word2vec.c's
    // initialisation range, ±0.5/dim scaled to the trained vectors' mean magnitude).
    let scale = table.iter().map(|v| v.abs()).sum::<f32>() / table.len() as f32;
    let mut rng = SeededRng::seed_from_u64(5);
    let random: Vec<f32> = (0..table.len())
        .map(|_| uniform_range_f32(&mut rng, -2.0 * scale, 2.0 * scale))
        .collect();
    let from_random = accuracy(&random, &vocab);
    eprintln!(
        "held-out accuracy: word2vec table {from_word2vec:.3}, random table {from_random:.3}"
    );
    assert!(from_word2vec >= 0.95, "{from_word2vec}");
    assert!(
        from_word2vec >= from_random + 0.05,
        "{from_word2vec} vs {from_random}"
    );
}
