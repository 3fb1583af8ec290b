//! word2vec on generated corpora with planted structure (fixed seeds): clusters of words that
//! share contexts, and a relation between two forms of each entity. The structure is known by
//! construction, so the checks are independent of the trainer: the thresholds are stated in the
//! test names.

use tinytune::word2vec::{analogy, cosine, most_similar, Neighbor, Objective, Word2VecConfig};
use tinytune_host_tests::word2vec::{planted_analogy, planted_clusters, train, Corpus, Trained};

const DIM: usize = 20;

fn config(objective: Objective) -> Word2VecConfig {
    Word2VecConfig {
        objective,
        sample: 0.0,
        ..Word2VecConfig::new(0, DIM)
    }
}

fn vector(t: &Trained, w: usize) -> &[f32] {
    &t.input[w * DIM..(w + 1) * DIM]
}

/// Mean cosine within clusters, mean across, and the share of each clustered word's
/// `size − 1` nearest words that are in its cluster.
fn cluster_scores(t: &Trained, cluster_of: &[Option<usize>], size: usize) -> (f64, f64, f64) {
    let (mut same, mut n_same, mut cross, mut n_cross) = (0.0, 0, 0.0, 0);
    let (mut hits, mut total) = (0, 0);
    let mut out = vec![
        Neighbor {
            word: 0,
            similarity: 0.0
        };
        size - 1
    ];
    for (a, ca) in cluster_of.iter().enumerate() {
        let Some(ca) = ca else { continue };
        for (b, cb) in cluster_of.iter().enumerate().skip(a + 1) {
            let Some(cb) = cb else { continue };
            let c = cosine(vector(t, a), vector(t, b)) as f64;
            if ca == cb {
                same += c;
                n_same += 1;
            } else {
                cross += c;
                n_cross += 1;
            }
        }
        let n = most_similar(&t.input, DIM, vector(t, a), &[a as u32], &mut out).unwrap();
        hits += out[..n]
            .iter()
            .filter(|nb| cluster_of[nb.word as usize] == Some(*ca))
            .count();
        total += size - 1;
    }
    (
        same / n_same as f64,
        cross / n_cross as f64,
        hits as f64 / total as f64,
    )
}

#[test]
fn sgns_planted_clusters_gap_above_0_4_and_neighbours_95_percent_in_cluster() {
    let (corpus, cluster_of) = planted_clusters(4, 10, 5, 3_000, 1);
    let t = train(&corpus, config(Objective::NegativeSampling), 5, 7);
    let (same, cross, recovery) = cluster_scores(&t, &cluster_of, 10);
    eprintln!(
        "sgns: same {same:.3} cross {cross:.3} recovery {recovery:.3} loss {:.3} -> {:.3}",
        t.first_loss, t.last_loss
    );
    assert!(same - cross > 0.4, "same {same} cross {cross}");
    assert!(recovery >= 0.95, "recovery {recovery}");
    assert!(t.last_loss < t.first_loss);
}

#[test]
fn hierarchical_softmax_planted_clusters_gap_above_0_3_and_neighbours_90_percent_in_cluster() {
    let (corpus, cluster_of) = planted_clusters(4, 10, 5, 3_000, 1);
    let t = train(&corpus, config(Objective::HierarchicalSoftmax), 5, 7);
    let (same, cross, recovery) = cluster_scores(&t, &cluster_of, 10);
    eprintln!(
        "hs: same {same:.3} cross {cross:.3} recovery {recovery:.3} loss {:.3} -> {:.3}",
        t.first_loss, t.last_loss
    );
    assert!(same - cross > 0.3, "same {same} cross {cross}");
    assert!(recovery >= 0.9, "recovery {recovery}");
    assert!(t.last_loss < t.first_loss);
}

#[test]
fn subsampled_training_still_separates_clusters_gap_above_0_3() {
    // word2vec.c's default threshold drops most occurrences of a 45-word vocabulary's words.
    let (corpus, cluster_of) = planted_clusters(4, 10, 5, 3_000, 2);
    let cfg = Word2VecConfig {
        sample: 1e-3,
        ..config(Objective::NegativeSampling)
    };
    let t = train(&corpus, cfg, 5, 3);
    let (same, cross, recovery) = cluster_scores(&t, &cluster_of, 10);
    eprintln!("subsampled: same {same:.3} cross {cross:.3} recovery {recovery:.3}");
    assert!(same - cross > 0.3, "same {same} cross {cross}");
}

#[test]
fn planted_analogy_b_j_minus_a_j_plus_a_i_finds_b_i_top1_in_80_percent() {
    let (corpus, pairs) = planted_analogy(8, 6_000, 4);
    let t = train(&corpus, config(Objective::NegativeSampling), 5, 5);
    let (mut right, mut total) = (0, 0);
    let mut scratch = [0.0; DIM];
    let mut out = [Neighbor {
        word: 0,
        similarity: 0.0,
    }];
    for (i, &(a_i, b_i)) in pairs.iter().enumerate() {
        for (j, &(a_j, b_j)) in pairs.iter().enumerate() {
            if i == j {
                continue;
            }
            analogy(&t.input, DIM, [b_j, a_j, a_i], &mut scratch, &mut out).unwrap();
            right += usize::from(out[0].word == b_i);
            total += 1;
        }
    }
    let accuracy = right as f64 / total as f64;
    eprintln!("analogy: {right}/{total} = {accuracy:.3}");
    assert!(accuracy >= 0.8, "{right}/{total}");
}

#[test]
fn training_is_reproducible_from_the_seed_bit_for_bit() {
    let (corpus, _) = planted_clusters(3, 6, 3, 300, 9);
    let hs = |o| train(&corpus, config(o), 2, 11);
    for objective in [Objective::NegativeSampling, Objective::HierarchicalSoftmax] {
        let (a, b) = (hs(objective), hs(objective));
        assert_eq!(a.input, b.input);
        assert_eq!(a.output, b.output);
        let c = train(&corpus, config(objective), 2, 12);
        assert_ne!(a.input, c.input);
    }
}

#[test]
fn corpus_ids_run_by_descending_count() {
    let (corpus, _): (Corpus, _) = planted_clusters(4, 10, 5, 500, 1);
    assert!(corpus.counts.windows(2).all(|w| w[0] >= w[1]));
    let mut recount = vec![0u64; corpus.counts.len()];
    for s in &corpus.sentences {
        for &w in s {
            recount[w as usize] += 1;
        }
    }
    assert_eq!(recount, corpus.counts);
}
