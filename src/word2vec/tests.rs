//! Unit tests of the word2vec core against hand-worked cases and f64 re-implementations.

use super::*;
use crate::error::Buffer;
use crate::rng::{RngCore, SeedableRng, SeededRng};

/// `−ln σ(x)` in f64.
fn nls(x: f64) -> f64 {
    (1.0 + (-x).exp()).ln()
}

/// The SGNS loss of `word2vec.c`'s update in f64: `−ln σ(v·u_ctx) − Σ ln σ(−v·u_neg)`.
fn sgns_loss(v: &[f64], ctx: &[f64], negs: &[Vec<f64>]) -> f64 {
    let d = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    nls(d(v, ctx)) + negs.iter().map(|u| nls(-d(v, u))).sum::<f64>()
}

fn random_tables(vocab: usize, dim: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SeededRng::seed_from_u64(seed);
    let input = (0..vocab * dim)
        .map(|_| crate::rng::uniform_range_f32(&mut rng, -0.6, 0.6))
        .collect();
    let output = (0..vocab * dim)
        .map(|_| crate::rng::uniform_range_f32(&mut rng, -0.6, 0.6))
        .collect();
    (input, output)
}

fn row(t: &[f32], r: usize, dim: usize) -> Vec<f64> {
    t[r * dim..(r + 1) * dim]
        .iter()
        .map(|&x| x as f64)
        .collect()
}

#[test]
fn negative_update_is_a_gradient_step_on_the_sgns_loss_by_finite_differences() {
    let (vocab, dim) = (7, 5);
    let (center, context, negs) = (2u32, 5u32, [0u32, 3, 6]);
    let (input, output) = random_tables(vocab, dim, 11);
    let alpha = 1e-3f32;

    // Central differences of the f64 loss at the starting point.
    let v0 = row(&input, center as usize, dim);
    let u = |t: &[f32], w: u32| row(t, w as usize, dim);
    let negs0: Vec<Vec<f64>> = negs.iter().map(|&n| u(&output, n)).collect();
    let h = 1e-6;
    let grad_v: Vec<f64> = (0..dim)
        .map(|k| {
            let (mut p, mut m) = (v0.clone(), v0.clone());
            p[k] += h;
            m[k] -= h;
            (sgns_loss(&p, &u(&output, context), &negs0)
                - sgns_loss(&m, &u(&output, context), &negs0))
                / (2.0 * h)
        })
        .collect();
    let grad_ctx: Vec<f64> = (0..dim)
        .map(|k| {
            let (mut p, mut m) = (u(&output, context), u(&output, context));
            p[k] += h;
            m[k] -= h;
            (sgns_loss(&v0, &p, &negs0) - sgns_loss(&v0, &m, &negs0)) / (2.0 * h)
        })
        .collect();
    let grad_neg0: Vec<f64> = (0..dim)
        .map(|k| {
            let mut p = negs0.clone();
            let mut m = negs0.clone();
            p[0][k] += h;
            m[0][k] -= h;
            (sgns_loss(&v0, &u(&output, context), &p) - sgns_loss(&v0, &u(&output, context), &m))
                / (2.0 * h)
        })
        .collect();
    let loss_want = sgns_loss(&v0, &u(&output, context), &negs0);

    let (mut inp, mut out) = (input.clone(), output.clone());
    let mut scratch = vec![0.0; dim];
    let mut w2v = Word2Vec::new(
        Word2VecConfig::new(vocab, dim),
        &mut inp,
        &mut out,
        &mut scratch,
    )
    .unwrap();
    let loss = w2v.update_negative(center, context, &negs, alpha).unwrap();
    assert!(
        (loss as f64 - loss_want).abs() < 1e-5,
        "{loss} vs {loss_want}"
    );

    // in[c] moves by −α·∂L/∂in[c]; out[ctx] and out[neg] by −α·∂L/∂out.
    for (k, g) in grad_v.iter().enumerate() {
        let moved = (inp[center as usize * dim + k] - input[center as usize * dim + k]) as f64;
        assert!(
            (moved / -alpha as f64 - g).abs() < 2e-3,
            "in[{k}]: {} vs {g}",
            moved / -alpha as f64
        );
    }
    for (k, g) in grad_ctx.iter().enumerate() {
        let i = context as usize * dim + k;
        let moved = (out[i] - output[i]) as f64;
        assert!((moved / -alpha as f64 - g).abs() < 2e-3, "out[ctx][{k}]");
    }
    for (k, g) in grad_neg0.iter().enumerate() {
        let i = negs[0] as usize * dim + k;
        let moved = (out[i] - output[i]) as f64;
        assert!((moved / -alpha as f64 - g).abs() < 2e-3, "out[neg][{k}]");
    }
    // Rows not involved are untouched.
    assert_eq!(&inp[..dim], &input[..dim]);
    assert_eq!(&out[dim..2 * dim], &output[dim..2 * dim]);
}

#[test]
fn a_negative_equal_to_the_context_is_skipped() {
    let (vocab, dim) = (4, 3);
    let (input, output) = random_tables(vocab, dim, 2);
    let run = |negs: &[u32]| {
        let (mut i, mut o) = (input.clone(), output.clone());
        let mut s = vec![0.0; dim];
        let mut w = Word2Vec::new(Word2VecConfig::new(vocab, dim), &mut i, &mut o, &mut s).unwrap();
        let loss = w.update_negative(0, 1, negs, 0.1).unwrap();
        (loss, i, o)
    };
    assert_eq!(run(&[2, 1, 1]), run(&[2]));
}

#[test]
fn saturated_scores_give_word2vec_c_gradients() {
    // f = 8 > MAX_EXP for the context word: σ taken as 1, so g = 0 and nothing moves.
    let dim = 2;
    let mut input = vec![2.0, 2.0, 0.0, 0.0];
    let mut output = vec![0.0, 0.0, 2.0, 2.0];
    let mut s = vec![0.0; dim];
    let mut w =
        Word2Vec::new(Word2VecConfig::new(2, dim), &mut input, &mut output, &mut s).unwrap();
    let loss = w.update_negative(0, 1, &[], 0.5).unwrap();
    assert!((loss as f64 - nls(8.0)).abs() < 1e-6);
    assert_eq!(input, [2.0, 2.0, 0.0, 0.0]);
    assert_eq!(output, [0.0, 0.0, 2.0, 2.0]);
}

#[test]
fn hierarchical_update_is_a_gradient_step_along_the_path() {
    let (vocab, dim) = (6, 4);
    let counts = [9u64, 7, 4, 3, 2, 1];
    let mut work = vec![0u64; HuffmanTree::work_len(vocab)];
    let mut links = vec![0u32; HuffmanTree::tree_len(vocab)];
    let tree = HuffmanTree::build(&counts, &mut work, &mut links).unwrap();
    let (input, nodes_all) = random_tables(vocab, dim, 5);
    let nodes = nodes_all[..(vocab - 1) * dim].to_vec();
    let (center, context) = (1u32, 5u32);
    let path: Vec<(u32, u8)> = tree.path(context).collect();
    // Loss along the path in f64: −Σ ln σ((1 − 2·code)·v·node).
    let loss_of = |v: &[f64], nodes: &[f32]| -> f64 {
        path.iter()
            .map(|&(n, code)| {
                let u = row(nodes, n as usize, dim);
                let f: f64 = v.iter().zip(&u).map(|(a, b)| a * b).sum();
                nls(if code == 0 { f } else { -f })
            })
            .sum()
    };
    let v0 = row(&input, center as usize, dim);
    let h = 1e-6;
    let grad_v: Vec<f64> = (0..dim)
        .map(|k| {
            let (mut p, mut m) = (v0.clone(), v0.clone());
            p[k] += h;
            m[k] -= h;
            (loss_of(&p, &nodes) - loss_of(&m, &nodes)) / (2.0 * h)
        })
        .collect();
    let alpha = 1e-3f32;
    let (mut inp, mut out) = (input.clone(), nodes.clone());
    let mut s = vec![0.0; dim];
    let mut config = Word2VecConfig::new(vocab, dim);
    config.objective = Objective::HierarchicalSoftmax;
    let mut w = Word2Vec::new(config, &mut inp, &mut out, &mut s).unwrap();
    let loss = w
        .update_hierarchical(center, context, &tree, alpha)
        .unwrap();
    assert!((loss as f64 - loss_of(&v0, &nodes)).abs() < 1e-5);
    for (k, g) in grad_v.iter().enumerate() {
        let moved = (inp[center as usize * dim + k] - input[center as usize * dim + k]) as f64;
        assert!((moved / -alpha as f64 - g).abs() < 2e-3, "in[{k}]");
    }
    // Only the nodes on the path move.
    for n in 0..vocab - 1 {
        let on_path = path.iter().any(|&(p, _)| p as usize == n);
        let moved = out[n * dim..(n + 1) * dim] != nodes[n * dim..(n + 1) * dim];
        assert_eq!(on_path, moved, "node {n}");
    }
}

#[test]
fn huffman_tree_of_a_hand_worked_example() {
    // Merges: {3:1, 2:2} → node 4 (3); node 4 and word 1 (3, the inner node first on a tie, as
    // word2vec.c's strict comparison does) → node 5 (6); word 0 (5) and node 5 → root 6 (11).
    // Codes from the root: word 0 "0", word 1 "11", word 2 "101", word 3 "100".
    let counts = [5u64, 3, 2, 1];
    let mut work = [0u64; 8];
    let mut links = [0u32; 7];
    let tree = HuffmanTree::build(&counts, &mut work, &mut links).unwrap();
    let path = |w| tree.path(w).collect::<Vec<_>>();
    assert_eq!(path(0), [(2, 0)]);
    assert_eq!(path(1), [(1, 1), (2, 1)]);
    assert_eq!(path(2), [(0, 1), (1, 0), (2, 1)]);
    assert_eq!(path(3), [(0, 0), (1, 0), (2, 1)]);
    assert_eq!(path(4), []);
}

#[test]
fn huffman_code_lengths_are_optimal_for_random_counts() {
    // The weighted code length of an optimal prefix code, by the textbook O(n²) Huffman on a
    // list (independent of the two-queue construction).
    fn optimal_cost(counts: &[u64]) -> u64 {
        let mut items: Vec<u64> = counts.to_vec();
        let mut cost = 0;
        while items.len() > 1 {
            items.sort_unstable();
            let s = items[0] + items[1];
            cost += s;
            items.drain(..2);
            items.push(s);
        }
        cost
    }
    let mut rng = SeededRng::seed_from_u64(9);
    for vocab in 2..40 {
        let mut counts: Vec<u64> = (0..vocab)
            .map(|_| 1 + (rng.next_u32() % 1000) as u64)
            .collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        let mut work = vec![0u64; HuffmanTree::work_len(vocab)];
        let mut links = vec![0u32; HuffmanTree::tree_len(vocab)];
        let tree = HuffmanTree::build(&counts, &mut work, &mut links).unwrap();
        let lens: Vec<usize> = (0..vocab as u32).map(|w| tree.path(w).count()).collect();
        let cost: u64 = counts.iter().zip(&lens).map(|(&c, &l)| c * l as u64).sum();
        assert_eq!(cost, optimal_cost(&counts), "vocab {vocab}");
        // Kraft equality: a full binary tree.
        let kraft: f64 = lens.iter().map(|&l| 0.5f64.powi(l as i32)).sum();
        assert!((kraft - 1.0).abs() < 1e-12);
    }
}

#[test]
fn huffman_rejects_unsorted_counts_and_short_buffers() {
    let mut work = [0u64; 6];
    let mut links = [0u32; 5];
    assert_eq!(
        HuffmanTree::build(&[1, 2, 3], &mut work, &mut links).err(),
        Some(Error::Config)
    );
    assert_eq!(
        HuffmanTree::build(&[3], &mut work, &mut links[..1]).err(),
        Some(ShapeError::Dimension.into())
    );
    assert_eq!(
        HuffmanTree::build(&[3, 2, 1], &mut work, &mut links[..4]).err(),
        Some(
            ShapeError::Length {
                buffer: Buffer::Table,
                expected: 5,
                actual: 4
            }
            .into()
        )
    );
}

#[test]
fn negative_table_shares_follow_count_to_the_three_quarters() {
    let counts = [8u64, 4, 0, 2, 1];
    let mut table = vec![0u32; 10_000];
    let t = NegativeTable::build(&counts, &mut table).unwrap();
    let w: Vec<f64> = counts.iter().map(|&c| (c as f64).powf(0.75)).collect();
    let total: f64 = w.iter().sum();
    for (word, wi) in w.iter().enumerate() {
        let n = t.entries().iter().filter(|&&e| e as usize == word).count();
        let want = wi / total * 10_000.0;
        assert!(
            (n as f64 - want).abs() <= 1.0,
            "word {word}: {n} entries, {want:.1} expected"
        );
    }
    // Draws follow the table.
    let mut rng = SeededRng::seed_from_u64(4);
    let mut hits = [0u32; 5];
    for _ in 0..100_000 {
        hits[t.sample(&mut rng) as usize] += 1;
    }
    assert_eq!(hits[2], 0);
    for (word, wi) in w.iter().enumerate() {
        let p = wi / total;
        let sd = (100_000.0 * p * (1.0 - p)).sqrt();
        assert!(
            (hits[word] as f64 - 100_000.0 * p).abs() < 5.0 * sd + 1.0,
            "word {word}"
        );
    }
}

#[test]
fn negative_table_errors() {
    assert_eq!(
        NegativeTable::build(&[0, 0], &mut [0; 4]).err(),
        Some(Error::Config)
    );
    assert_eq!(
        NegativeTable::build(&[], &mut [0; 4]).err(),
        Some(ShapeError::Dimension.into())
    );
    assert!(matches!(
        NegativeTable::build(&[1], &mut []).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Table,
            ..
        }))
    ));
}

#[test]
fn subsampling_keeps_words_with_word2vec_c_probability() {
    let counts = [10_000u64, 1_000, 10];
    let n = 11_010.0f64;
    let s = Subsampler::new(&counts, 1e-3);
    for (w, &c) in counts.iter().enumerate() {
        let r = 1e-3 * n / c as f64;
        let want = r.sqrt() + r;
        assert!((s.keep_probability(w as u32) as f64 - want).abs() < 1e-5 * want.max(1.0));
    }
    // Unknown ids and a zero threshold keep everything.
    assert_eq!(s.keep_probability(9), 1.0);
    assert_eq!(Subsampler::new(&counts, 0.0).keep_probability(0), 1.0);
    let mut rng = SeededRng::seed_from_u64(1);
    let kept = (0..20_000).filter(|_| s.keep(0, &mut rng)).count() as f64 / 20_000.0;
    let p = s.keep_probability(0) as f64;
    assert!((kept - p).abs() < 0.015, "{kept} vs {p}");
}

#[test]
fn schedule_decays_linearly_to_its_floor() {
    let s = Schedule {
        alpha0: 0.025,
        total_words: 999,
    };
    assert_eq!(s.alpha(0), 0.025);
    assert!((s.alpha(500) as f64 - 0.025 * 0.5).abs() < 1e-9);
    assert!((s.alpha(2_000) as f64 - 0.025e-4).abs() < 1e-12);
}

#[test]
fn most_similar_and_analogy_on_hand_made_vectors() {
    // 0: (1, 0), 1: (0.9, 0.1), 2: (0, 1), 3: (-1, 0), 4: (0, 0)
    let table = [1.0, 0.0, 0.9, 0.1, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0];
    let mut out = [Neighbor {
        word: 99,
        similarity: 9.0,
    }; 3];
    let n = most_similar(&table, 2, &[1.0, 0.0], &[0], &mut out).unwrap();
    assert_eq!(n, 3);
    assert_eq!(out.map(|o| o.word), [1, 2, 4]);
    assert!((out[0].similarity - 0.9 / (0.82f32).sqrt()).abs() < 1e-6);
    assert_eq!(out[1].similarity, 0.0);
    // 0 − 3 + 2 = (2, 1) normalised first: nearest of the others is 1 (0.9, 0.1).
    let mut scratch = [0.0; 2];
    let n = analogy(&table, 2, [0, 3, 2], &mut scratch, &mut out[..1]).unwrap();
    assert_eq!((n, out[0].word), (1, 1));
    assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
    assert_eq!(cosine(&[0.0, 0.0], &[2.0, 4.0]), 0.0);
    assert_eq!(
        analogy(&table, 2, [0, 7, 2], &mut scratch, &mut out).err(),
        Some(Error::Index {
            position: 1,
            len: 5
        })
    );
    assert_eq!(
        most_similar(&table, 3, &[1.0, 0.0, 0.0], &[], &mut out).err(),
        Some(ShapeError::Dimension.into())
    );
}

#[test]
fn bad_ids_and_buffers_change_nothing() {
    let (vocab, dim) = (5, 3);
    let (input, output) = random_tables(vocab, dim, 3);
    let (mut i, mut o) = (input.clone(), output.clone());
    let mut s = vec![0.0; dim];
    let config = Word2VecConfig::new(vocab, dim);
    let mut w = Word2Vec::new(config, &mut i, &mut o, &mut s).unwrap();
    assert_eq!(
        w.update_negative(0, 1, &[2, 5], 0.1).err(),
        Some(Error::Index {
            position: 3,
            len: 5
        })
    );
    let mut counts_table = [0u32; 16];
    let table = NegativeTable::build(&[5, 4, 3, 2, 1], &mut counts_table).unwrap();
    let mut kept = [0u32; 4];
    let mut rng = SeededRng::seed_from_u64(0);
    assert_eq!(
        w.train_sentence(
            &[0, 1, 9, 2],
            &mut kept,
            Targets::Negative(&table),
            None,
            0.1,
            &mut rng
        )
        .err(),
        Some(Error::Index {
            position: 2,
            len: 5
        })
    );
    assert!(matches!(
        w.train_sentence(
            &[0, 1, 2, 3, 4],
            &mut kept,
            Targets::Negative(&table),
            None,
            0.1,
            &mut rng
        )
        .err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::Scratch,
            ..
        }))
    ));
    assert_eq!((i, o), (input, output));
    // Wrong lengths and configurations.
    let (mut i, mut o, mut s) = (vec![0.0; 15], vec![0.0; 14], vec![0.0; 3]);
    assert!(matches!(
        Word2Vec::new(config, &mut i, &mut o, &mut s).err(),
        Some(Error::Shape(ShapeError::Length {
            buffer: Buffer::ContextVectors,
            ..
        }))
    ));
    let bad = Word2VecConfig {
        window: 0,
        ..config
    };
    let mut o = vec![0.0; 15];
    assert_eq!(
        Word2Vec::new(bad, &mut i, &mut o, &mut s).err(),
        Some(Error::Config)
    );
}

#[test]
fn train_sentence_visits_every_pair_within_the_drawn_windows() {
    // Window 1: each word's window is exactly 1, so a sentence of n words has 2(n − 1) pairs.
    let (vocab, dim) = (6, 4);
    let (mut i, mut o) = (vec![0.0; vocab * dim], vec![0.0; vocab * dim]);
    let mut s = vec![0.0; dim];
    let config = Word2VecConfig {
        window: 1,
        negative: 2,
        ..Word2VecConfig::new(vocab, dim)
    };
    let mut w = Word2Vec::new(config, &mut i, &mut o, &mut s).unwrap();
    let mut rng = SeededRng::seed_from_u64(3);
    w.init(&mut rng);
    let mut t = [0u32; 64];
    let table = NegativeTable::build(&[6, 5, 4, 3, 2, 1], &mut t).unwrap();
    let mut kept = [0u32; 5];
    let stats = w
        .train_sentence(
            &[0, 1, 2, 3, 4],
            &mut kept,
            Targets::Negative(&table),
            None,
            0.025,
            &mut rng,
        )
        .unwrap();
    assert_eq!((stats.words, stats.pairs), (5, 8));
    // Every pair starts near zero score: loss ≈ (1 + negatives used) · ln 2 each.
    assert!(
        stats.loss > 8.0 * 0.69 && stats.loss < 8.0 * 3.0 * 0.7,
        "{}",
        stats.loss
    );
}

#[test]
fn init_is_uniform_within_half_over_dim_and_zero_outputs() {
    let (vocab, dim) = (50, 20);
    let (mut i, mut o) = (vec![0.0; vocab * dim], vec![1.0; vocab * dim]);
    let mut s = vec![0.0; dim];
    let mut w = Word2Vec::new(Word2VecConfig::new(vocab, dim), &mut i, &mut o, &mut s).unwrap();
    w.init(&mut SeededRng::seed_from_u64(8));
    assert!(i.iter().all(|&x| x.abs() <= 0.5 / dim as f32));
    let mean = i.iter().map(|&x| x as f64).sum::<f64>() / i.len() as f64;
    let var = i.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / i.len() as f64;
    let want_var = (1.0 / dim as f64).powi(2) / 12.0;
    assert!(
        mean.abs() < 0.002 && (var / want_var - 1.0).abs() < 0.1,
        "{mean} {var}"
    );
    assert!(o.iter().all(|&x| x == 0.0));
}

#[test]
fn training_bytes_add_up_the_documented_buffers() {
    // 42 words of 16 dimensions, 512 entries, sentences of 10: the device showcase's budget
    // less its sentence buffer (2,688 + 2,688 + 64 + 2,048 + 336 + 40).
    let c = Word2VecConfig::new(42, 16);
    assert_eq!(c.training_bytes(512, 10), 7_864);
    // The module docs' example: 200 words, 16 dimensions, 1,024 entries, 20-word sentences.
    assert_eq!(
        Word2VecConfig::new(200, 16).training_bytes(1_024, 20),
        12_800 + 12_800 + 64 + 4_096 + 1_600 + 80
    );
    let hs = Word2VecConfig {
        objective: Objective::HierarchicalSoftmax,
        ..c
    };
    // 41 node vectors and an 83-entry tree instead of 42 context vectors and the table.
    assert_eq!(
        hs.training_bytes(512, 10),
        2_688 + 41 * 64 + 64 + 83 * 4 + 336 + 40
    );
    assert_eq!(
        Word2VecConfig::new(usize::MAX, 16).training_bytes(1, 1),
        usize::MAX
    );
}
