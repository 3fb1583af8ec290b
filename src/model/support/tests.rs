//! The op kinds of this build: what the reader and the writer accept, and what they refuse
//! with [`FormatError::Unsupported`]. The expectations come from the features the test itself
//! was built with (a table of what each kind needs, written here), so the same tests check
//! both sides: run with the default features (every kind accepted) and with
//! `--no-default-features` (every optional kind refused, the int8 MLP path still running).

use crate::error::{FormatError, OpFeature};
use crate::kernels::ActivationS8;
use crate::layers::dense::DenseConfig;
use crate::layers::s8::DenseS8Config;
use crate::model::format::record::tag;
use crate::model::format::{file_crc, CRC_OFFSET};
use crate::model::{encoded_len, write, Meta, Model, Op, TensorsS8};
use crate::num::quant::{QuantParams, Requantizer};

const IN: QuantParams = QuantParams {
    scale: 0.5,
    zero_point: 0,
};
/// `[2 out, 2 in]`.
const WEIGHTS: [i8; 4] = [1, 2, -1, 1];
/// The requantizer of the real multiplier `in_scale · w_scale / out_scale = 0.5 · 1 / 0.5 = 1`
/// as `(multiplier, shift)`: `2^30 · 2^1 / 2^31 = 1`.
const REQUANT: [i32; 2] = [1 << 30, 1];

/// Quantize 2 → int8 dense 2 → 2 with a fused ReLU → dequantize: the ops every build runs.
fn int8_mlp() -> [Op<'static>; 3] {
    [
        Op::Quantize { len: 2, params: IN },
        Op::DenseS8(
            DenseS8Config {
                in_features: 2,
                out_features: 2,
                input: IN,
                output: IN,
                // ReLU in the output's domain: zero point 0 and up.
                act: ActivationS8 { min: 0, max: 127 },
            },
            TensorsS8 {
                weights: &WEIGHTS,
                bias: None,
                requant: &REQUANT,
            },
        ),
        Op::Dequantize { len: 2, params: IN },
    ]
}

/// The file of `ops` in an 8-byte aligned buffer (as `u64`s, viewed as bytes).
fn file(ops: &[Op<'_>]) -> Vec<u64> {
    let meta = Meta::default();
    let len = encoded_len(ops, &meta).expect("valid ops");
    let mut buf = vec![0u64; len.div_ceil(8)];
    let n = write(ops, &meta, bytemuck::cast_slice_mut(&mut buf)).expect("valid ops");
    assert_eq!(n, len);
    buf
}

#[test]
fn every_build_runs_an_int8_mlp() {
    let buf = file(&int8_mlp());
    let model = Model::from_bytes(bytemuck::cast_slice(&buf)).expect("an int8 MLP loads");
    assert_eq!(model.len(), 3);
    let mut arena = vec![0u8; model.arena_len(2).unwrap()];
    let mut requant = vec![Requantizer::ZERO; model.requant_len()];
    let mut out = [0f32; 4];
    // Worked by hand: x / 0.5 → int8; y = W·x (exact: multiplier 1); ReLU; y · 0.5.
    // [1, 2] → [2, 4] → [1·2 + 2·4, −2 + 4] = [10, 2] → [5, 1].
    // [3, −1] → [6, −2] → [6 − 4, −6 − 2] = [2, −8] → ReLU [2, 0] → [1, 0].
    model
        .run(
            2,
            &[1.0, 2.0, 3.0, -1.0],
            &mut arena,
            &mut requant,
            &mut out,
        )
        .expect("runs");
    assert_eq!(out, [5.0, 1.0, 1.0, 0.0]);
}

/// What a record of kind `t` (activation function `code` for the two activation kinds) needs,
/// in the order the reader asks: the family's feature, `ops-f32` for an f32 kind, then
/// `ops-exp-activations` for sigmoid, tanh, GELU and softmax.
fn needs(t: u32, code: u32) -> Vec<(OpFeature, bool)> {
    let conv = (OpFeature::Conv, cfg!(feature = "ops-conv"));
    let pool = (OpFeature::Pool, cfg!(feature = "ops-pool"));
    let norm = (OpFeature::Norm, cfg!(feature = "ops-norm"));
    let embedding = (OpFeature::Embedding, cfg!(feature = "ops-embedding"));
    let attention = (OpFeature::Attention, cfg!(feature = "ops-attention"));
    let activation = (OpFeature::Activation, cfg!(feature = "ops-activation"));
    let exp = (
        OpFeature::ExpActivations,
        cfg!(feature = "ops-exp-activations"),
    );
    let f32 = (OpFeature::F32, cfg!(feature = "ops-f32"));
    let mut v = match t {
        tag::DENSE => vec![f32],
        tag::CONV2D => vec![conv, f32],
        tag::CONV2D_S8 => vec![conv],
        tag::POOL2D => vec![pool, f32],
        tag::POOL2D_S8 => vec![pool],
        tag::BATCH_NORM => vec![norm, f32],
        tag::EMBEDDING => vec![embedding, f32],
        tag::TRANSFORMER_ENCODER => vec![attention, f32],
        tag::POSITIONAL_ADD_S8 => vec![attention],
        tag::ACTIVATION => vec![activation, f32],
        tag::ACTIVATION_S8 => vec![activation],
        _ => vec![],
    };
    if matches!(t, tag::ACTIVATION | tag::ACTIVATION_S8) && (3..=6).contains(&code) {
        v.push(exp);
    }
    v
}

/// The int8 MLP's file with the dense record (layer 1) turned into kind `t` (for an activation
/// kind, with function `code`: the record's second word), and the CRC redone.
fn patched(t: u32, code: u32) -> Vec<u64> {
    let mut buf = file(&int8_mlp());
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
    let word = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let (record_len, table) = (word(bytes, 28) as usize, word(bytes, 32) as usize);
    let rec = table + record_len;
    bytes[rec..rec + 4].copy_from_slice(&t.to_le_bytes());
    if matches!(t, tag::ACTIVATION | tag::ACTIVATION_S8) {
        bytes[rec + 8..rec + 12].copy_from_slice(&code.to_le_bytes());
    }
    let crc = file_crc(bytes);
    bytes[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_le_bytes());
    buf
}

#[test]
fn the_reader_refuses_a_left_out_kind_by_its_feature() {
    let cases = [
        (tag::DENSE, 0),
        (tag::CONV2D, 0),
        (tag::CONV2D_S8, 0),
        (tag::POOL2D, 0),
        (tag::POOL2D_S8, 0),
        (tag::BATCH_NORM, 0),
        (tag::EMBEDDING, 0),
        (tag::TRANSFORMER_ENCODER, 0),
        (tag::POSITIONAL_ADD_S8, 0),
        (tag::ACTIVATION, 0),
        (tag::ACTIVATION, 2),
        (tag::ACTIVATION, 3),
        (tag::ACTIVATION, 6),
        (tag::ACTIVATION_S8, 1),
        (tag::ACTIVATION_S8, 4),
        (tag::ACTIVATION_S8, 5),
    ];
    for (t, code) in cases {
        let buf = patched(t, code);
        let got = Model::from_bytes(bytemuck::cast_slice(&buf));
        let first_missing = needs(t, code).into_iter().find(|&(_, on)| !on);
        match first_missing {
            Some((feature, _)) => assert_eq!(
                got.err(),
                Some(FormatError::Unsupported {
                    layer: 1,
                    tag: t,
                    feature
                }),
                "kind {t}, function {code}"
            ),
            // Built in: the record is read as that kind (its fields, which belong to a dense
            // layer, then pass or fail that kind's checks), never refused as left out.
            None => assert!(
                !matches!(got, Err(FormatError::Unsupported { .. })),
                "kind {t}, function {code}: {:?}",
                got.err()
            ),
        }
    }
}

#[test]
fn an_unknown_kind_is_still_unknown() {
    let buf = patched(99, 0);
    assert_eq!(
        Model::from_bytes(bytemuck::cast_slice(&buf)).err(),
        Some(FormatError::LayerKind { layer: 1, tag: 99 })
    );
}

#[test]
fn the_writer_refuses_a_left_out_kind_built_in_code() {
    let params = [1.0f32, 2.0, 3.0, 4.0, 0.5, -0.5];
    let dense = Op::Dense(
        DenseConfig {
            in_features: 2,
            out_features: 2,
            bias: true,
        },
        &params,
    );
    let meta = Meta::default();
    let mut out = vec![0u8; 1024];
    let got = write(&[dense], &meta, &mut out);
    if cfg!(feature = "ops-f32") {
        assert!(got.is_ok(), "{got:?}");
    } else {
        let err = got.unwrap_err();
        assert_eq!(
            err,
            FormatError::Unsupported {
                layer: 0,
                tag: tag::DENSE,
                feature: OpFeature::F32
            }
        );
        // The message names the feature to turn on.
        assert!(err.to_string().contains("`ops-f32`"), "{err}");
    }
}

#[test]
fn every_feature_named_in_errors_is_one_of_the_crate() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("the crate's Cargo.toml");
    let all = [
        OpFeature::F32,
        OpFeature::Activation,
        OpFeature::ExpActivations,
        OpFeature::Conv,
        OpFeature::Pool,
        OpFeature::Norm,
        OpFeature::Embedding,
        OpFeature::Attention,
    ];
    for f in all {
        let declared = format!("\n{} = [", f.name());
        assert!(manifest.contains(&declared), "{f} is not a feature");
        // And `ops-all` (the default) turns it on.
        let ops_all = manifest
            .lines()
            .find(|l| l.starts_with("ops-all = ["))
            .expect("ops-all");
        assert!(ops_all.contains(&format!("\"{}\"", f.name())), "{f}");
    }
}
