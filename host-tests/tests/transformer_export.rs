//! The command line's transformer exported as a deployable model (`Spec::to_model`): the
//! operations, their configurations and their parameter slices, and the f32 model computing
//! the training code's logits.

use tinytune::kernels::Padding;
use tinytune::rng::{RngCore, SeedableRng, SeededRng};
use tinytune_cli::model::OwnedOp;
use tinytune_host_tests::transformer::Spec;

/// A 2-block model on 6 positions of 4 features, with training dropout (which the export must
/// drop), and its fresh parameters.
fn model() -> (Spec, Vec<f32>) {
    let spec = Spec {
        seq: 6,
        features: 4,
        width: 8,
        heads: 2,
        ff: 12,
        blocks: 2,
        dropout: 0.2,
        classes: 3,
    };
    let params = spec.init_params(5).unwrap();
    (spec, params)
}

#[test]
fn export_lists_the_five_kinds_of_operations_with_the_parameter_slices() {
    let (spec, params) = model();
    let m = spec.to_model(&params).unwrap();
    let kinds: Vec<&str> = m.ops.iter().map(OwnedOp::kind_name).collect();
    assert_eq!(
        kinds,
        [
            "conv1d",
            "sinusoidal_encoding",
            "transformer_encoder",
            "transformer_encoder",
            "global_avg_pool",
            "dense"
        ]
    );
    // Lengths by hand: embedding 8·4 + 8 = 40; block 4·8 + 4·(64 + 8) + 2·12·8 + 12 + 8 =
    // 532; head 3·8 + 3 = 27.
    let (embed, rest) = params.split_at(40);
    let (b1, rest) = rest.split_at(532);
    let (b2, head) = rest.split_at(532);
    assert_eq!(head.len(), 27);
    match &m.ops[0] {
        OwnedOp::Conv1d(c, p) => {
            assert_eq!(
                (c.len, c.in_c, c.out_c, c.kernel, c.stride, c.dilation),
                (6, 4, 8, 1, 1, 1)
            );
            assert_eq!(c.padding, Padding::Valid);
            assert!(c.bias);
            assert_eq!(p.as_slice(), embed);
        }
        op => panic!("op 0 is {op:?}"),
    }
    match &m.ops[1] {
        OwnedOp::SinusoidalEncoding(c) => assert_eq!((c.seq, c.width), (6, 8)),
        op => panic!("op 1 is {op:?}"),
    }
    for (op, block) in m.ops[2..4].iter().zip([b1, b2]) {
        match op {
            OwnedOp::TransformerEncoder(c, p) => {
                assert_eq!((c.seq, c.width, c.heads, c.ff), (6, 8, 2, 12));
                assert_eq!(c.dropout, 0.0, "the deployed blocks have no dropout");
                assert!(!c.causal);
                assert_eq!(p.as_slice(), block);
            }
            op => panic!("block op is {op:?}"),
        }
    }
    match &m.ops[4] {
        OwnedOp::GlobalAvgPool(c) => assert_eq!((c.positions, c.channels), (6, 8)),
        op => panic!("op 4 is {op:?}"),
    }
    match &m.ops[5] {
        OwnedOp::Dense(c, p) => {
            assert_eq!((c.in_features, c.out_features, c.bias), (8, 3, true));
            assert_eq!(p.as_slice(), head);
        }
        op => panic!("op 5 is {op:?}"),
    }
    assert!(
        spec.to_model(&params[1..]).is_err(),
        "a short vector is refused"
    );
}

/// The exported f32 model run by `OwnedModel::forward_f32` gives the logits of the training
/// code's own forward pass (the core's layers chained by hand) on random inputs.
#[test]
fn exported_f32_model_computes_the_training_logits() {
    let (spec, params) = model();
    let mut rng = SeededRng::seed_from_u64(11);
    let n = 5;
    let x: Vec<f32> = (0..n * 24)
        .map(|_| (rng.next_u32() as f32 / u32::MAX as f32) * 4.0 - 2.0)
        .collect();
    let expected = spec.logits_of(&params, &x).unwrap();
    let got = spec.to_model(&params).unwrap().forward_f32(n, &x).unwrap();
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{g} vs {e}");
    }
}
