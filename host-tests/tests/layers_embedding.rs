//! Embedding: lookups equal table rows exactly, the table gradient touches only the rows of used
//! ids (all others stay exactly 0) and matches central differences of an f64 lookup, repeated ids
//! accumulate, and bad ids are rejected with their position.

use tinytune::layers::embedding::EmbeddingConfig;
use tinytune::layers::{Layer, Params};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::Init;
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::gradcheck::{assert_close, numeric_grad, to_f64, weighted_sum};
use tinytune_host_tests::rng::SplitMix64;

fn rng() -> SeededRng {
    SeededRng::seed_from_u64(0)
}

/// f64 reference lookup.
fn lookup(dim: usize, table: &[f64], ids: &[usize]) -> Vec<f64> {
    ids.iter()
        .flat_map(|&i| table[i * dim..(i + 1) * dim].to_vec())
        .collect()
}

#[test]
fn lookup_equals_table_rows() {
    let mut r = SplitMix64::new(1);
    let (vocab, dim, seq_len, batch) = (7, 3, 4, 2);
    let mut table = r.f32_vec(vocab * dim, -1.0, 1.0);
    let cfg = EmbeddingConfig {
        vocab,
        dim,
        seq_len,
    };
    let emb = cfg.init(&mut table[..]).unwrap();
    let ids = [0usize, 6, 3, 3, 5, 1, 0, 2];
    let input: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let mut y = vec![0.0f32; batch * seq_len * dim];
    emb.forward(batch, &input, &mut y).unwrap();
    for (s, &id) in ids.iter().enumerate() {
        assert_eq!(
            &y[s * dim..(s + 1) * dim],
            &emb.table()[id * dim..(id + 1) * dim]
        );
    }
    let ids_u32: Vec<u32> = ids.iter().map(|&i| i as u32).collect();
    let mut y2 = vec![0.0f32; y.len()];
    emb.forward_ids(&ids_u32, &mut y2).unwrap();
    assert_eq!(y, y2);
    // forward_ids is not tied to seq_len; -0.0 is id 0.
    let mut one = [0.0f32; 3];
    emb.forward_ids(&[4], &mut one).unwrap();
    assert_eq!(&one[..], &emb.table()[12..15]);
    let mut row = vec![0.0f32; seq_len * dim];
    emb.forward(1, &[-0.0, 0.0, 1.0, 2.0], &mut row).unwrap();
    assert_eq!(&row[..3], &emb.table()[..3]);
}

#[test]
fn table_gradient_touches_only_used_rows_and_matches_f64() {
    let mut r = SplitMix64::new(2);
    let (vocab, dim, seq_len, batch) = (10, 4, 3, 2);
    let mut table = r.f32_vec(vocab * dim, -1.0, 1.0);
    let table64 = to_f64(&table);
    let emb = EmbeddingConfig {
        vocab,
        dim,
        seq_len,
    }
    .init(&mut table[..])
    .unwrap();
    let ids = [4usize, 1, 4, 8, 4, 1]; // 4 three times, 1 twice, 8 once
    let input: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
    let g = r.f32_vec(batch * seq_len * dim, -1.0, 1.0);
    let y = vec![0.0f32; g.len()];
    let mut gx = vec![5.0f32; input.len()];
    let mut gt = vec![0.0f32; vocab * dim];
    emb.backward(batch, &input, &y, &[], &g, Some(&mut gx), Some(&mut gt))
        .unwrap();
    assert_eq!(gx, vec![0.0; input.len()], "ids are not differentiable");
    for (row, grad) in gt.chunks(dim).enumerate() {
        if ![1, 4, 8].contains(&row) {
            assert!(
                grad.iter().all(|&v| v == 0.0),
                "unused row {row} changed: {grad:?}"
            );
        }
    }
    let numeric = numeric_grad(&table64, |t| weighted_sum(&g, &lookup(dim, t, &ids)));
    assert_close("embedding dtable", &gt, &numeric);

    // Repeated ids accumulate: row 4 is the sum of output rows 0, 2 and 4.
    for j in 0..dim {
        let want = g[j] as f64 + g[2 * dim + j] as f64 + g[4 * dim + j] as f64;
        assert!((gt[4 * dim + j] as f64 - want).abs() < 1e-6);
    }

    // backward_ids agrees, and both accumulate into what is there.
    let ids_u32: Vec<u32> = ids.iter().map(|&i| i as u32).collect();
    let mut gt2 = gt.clone();
    emb.backward_ids(&ids_u32, &g, &mut gt2).unwrap();
    let doubled: Vec<f64> = gt.iter().map(|&v| 2.0 * v as f64).collect();
    assert_close("accumulated dtable", &gt2, &doubled);
    emb.backward(batch, &input, &y, &[], &g, None, Some(&mut gt))
        .unwrap();
    assert_eq!(gt, gt2);
}

#[test]
fn bad_ids_are_index_errors_with_their_position() {
    let mut table = [0.5f32; 5 * 2];
    let emb = EmbeddingConfig {
        vocab: 5,
        dim: 2,
        seq_len: 3,
    }
    .init(&mut table[..])
    .unwrap();
    let cases: [(f32, usize); 6] = [
        (-1.0, 0),
        (5.0, 1),
        (1.5, 2),
        (f32::NAN, 4),
        (f32::INFINITY, 5),
        (-0.5, 3),
    ];
    for (bad, position) in cases {
        let mut input = [1.0f32, 2.0, 3.0, 4.0, 0.0, 1.0];
        input[position] = bad;
        let mut y = [9.0f32; 12];
        let want = Err(Error::Index { position, len: 5 });
        assert_eq!(emb.forward(2, &input, &mut y), want, "id {bad}");
        assert_eq!(y, [9.0; 12], "nothing written for id {bad}");
        let (mut gx, mut gt) = ([9.0f32; 6], [9.0f32; 10]);
        let e = emb.backward(2, &input, &y, &[], &y, Some(&mut gx), Some(&mut gt));
        assert_eq!(e, want, "backward, id {bad}");
        assert_eq!((gx, gt), ([9.0; 6], [9.0; 10]));
    }
    let mut y = [9.0f32; 6];
    let e = emb.forward_ids(&[0, 4, 5], &mut y);
    assert_eq!(
        e,
        Err(Error::Index {
            position: 2,
            len: 5
        })
    );
    assert_eq!(y, [9.0; 6]);
    let mut gt = [9.0f32; 10];
    let e = emb.backward_ids(&[7, 0], &[1.0; 4], &mut gt);
    assert_eq!(
        e,
        Err(Error::Index {
            position: 0,
            len: 5
        })
    );
    assert_eq!(gt, [9.0; 10]);
}

#[test]
fn shape_config_and_frozen_errors() {
    let len = |buffer, expected, actual| {
        Error::Shape(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    };
    let table = [0.0f32; 6];
    let cfg = EmbeddingConfig {
        vocab: 3,
        dim: 2,
        seq_len: 2,
    };
    assert_eq!(cfg.param_len(), Ok(6));
    assert_eq!(cfg.init(&table[..5]).err(), Some(len(Buffer::Params, 6, 5)));
    let dim = Some(Error::Shape(ShapeError::Dimension));
    for bad in [
        EmbeddingConfig { vocab: 0, ..cfg },
        EmbeddingConfig { dim: 0, ..cfg },
        EmbeddingConfig { seq_len: 0, ..cfg },
    ] {
        assert_eq!(bad.init(&table[..0]).err(), dim);
    }
    let mut frozen = cfg.init(&table[..]).unwrap();
    let mut y = [0.0f32; 4];
    frozen.forward(1, &[0.0, 2.0], &mut y).unwrap();
    assert_eq!(
        frozen.forward(1, &[0.0], &mut y),
        Err(len(Buffer::Input, 2, 1))
    );
    assert_eq!(
        frozen.forward(1, &[0.0, 1.0], &mut y[..3]),
        Err(len(Buffer::Output, 4, 3))
    );
    assert_eq!(
        frozen.forward_ids(&[0, 1], &mut y[..3]),
        Err(len(Buffer::Output, 4, 3))
    );
    let mut gt = [0.0f32; 6];
    let e = frozen.backward(1, &[0.0, 1.0], &y, &[], &y, None, Some(&mut gt));
    assert_eq!(e, Err(Error::Frozen));
    assert_eq!(
        frozen.backward_ids(&[0, 1], &y, &mut gt),
        Err(Error::Frozen)
    );
    assert_eq!(
        frozen.init_params(Init::Zeros, &mut rng()),
        Err(Error::Frozen)
    );
    // Without grad_params, a frozen table is fine.
    let mut gx = [1.0f32; 2];
    frozen
        .backward(1, &[0.0, 1.0], &y, &[], &y, Some(&mut gx), None)
        .unwrap();
    assert_eq!(gx, [0.0; 2]);

    let mut t = [0.0f32; 6];
    let emb = cfg.init(Params::Trainable(&mut t)).unwrap();
    let e = emb.backward_ids(&[0, 1], &y[..3], &mut gt);
    assert_eq!(e, Err(len(Buffer::GradOutput, 4, 3)));
    let e = emb.backward_ids(&[0, 1], &y, &mut gt[..5]);
    assert_eq!(e, Err(len(Buffer::GradParams, 6, 5)));
    let e = emb.backward(1, &[0.0, 1.0], &y, &[], &y, None, Some(&mut gt[..5]));
    assert_eq!(e, Err(len(Buffer::GradParams, 6, 5)));
}

/// `Init::LeCunNormal` with the embedding's fans (1, dim) draws N(0, 1), PyTorch's default:
/// over 5000 values the sample variance is within 0.1 of 1 (standard error ≈ 0.02).
#[test]
fn lecun_normal_init_gives_unit_variance_within_0_1() {
    let mut table = vec![0.0f32; 100 * 50];
    let mut emb = EmbeddingConfig {
        vocab: 100,
        dim: 50,
        seq_len: 1,
    }
    .init(&mut table[..])
    .unwrap();
    emb.init_params(Init::LeCunNormal, &mut rng()).unwrap();
    let n = emb.table().len() as f64;
    let mean = emb.table().iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = emb
        .table()
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    assert!(
        mean.abs() < 0.1 && (var - 1.0).abs() < 0.1,
        "mean {mean}, variance {var}"
    );
}
