//! The `.ttm` format: round trips over every op kind, the spec's example bytes, compatibility
//! rules, and every `FormatError` variant with its message.

mod model_common;

use model_common::*;
use tinytune::kernels::generic::activation::LeakyReluParamsS8;
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::s8::{ActivationKindS8, ActivationS8Config};
use tinytune::model::{crc32, FormatError, Meta, Model, Op, OpSummary};
use tinytune_host_tests::rng::SplitMix64;

const NAMES: [&str; 4] = ["cat", "dog", "", "émeu"];

fn meta_full(rng: &mut SplitMix64) -> Meta<'static> {
    Meta {
        scaler: Some(scaler(rng, 32)),
        num_classes: 4,
        class_names: &NAMES,
    }
}

/// Recomputes the CRC after a mutation, so that the structural checks are reached.
fn fix_crc(bytes: &mut [u8]) {
    bytes[16..20].fill(0);
    let c = crc32(bytes);
    bytes[16..20].copy_from_slice(&c.to_le_bytes());
}

fn put(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// Byte offset of configuration word `w` of layer `layer`.
fn word(layer: usize, w: usize) -> usize {
    48 + 96 * layer + 4 + 4 * w
}

/// Byte offset of tensor reference `slot` (offset; count at +4) of layer `layer`.
fn tref(layer: usize, slot: usize) -> usize {
    48 + 96 * layer + 68 + 8 * slot
}

fn parse_mutated(base: &AlignedBuf, f: impl FnOnce(&mut [u8])) -> FormatError {
    let mut b = AlignedBuf::from(base.bytes());
    f(b.bytes_mut());
    fix_crc(b.bytes_mut());
    Model::from_bytes(b.bytes()).expect_err("mutation must be rejected")
}

#[test]
fn round_trip_gives_back_every_op_kind_with_identical_configs_and_tensors() {
    let ops = all_kinds(1);
    let mut rng = SplitMix64::new(2);
    let meta = meta_full(&mut rng);
    let file = encode(&ops, &meta);
    let model = Model::from_bytes(file.bytes()).unwrap();
    let back: Vec<Op> = model.ops().collect();
    assert_eq!(back, ops);
    assert_eq!(model.len(), ops.len());
    assert_eq!((model.input_len(), model.output_len()), (32, 4));
    assert_eq!(model.num_classes(), 4);
    assert_eq!(model.class_names().collect::<Vec<_>>(), NAMES);
    let s = model.scaler().unwrap();
    assert_eq!(s.params(), meta.scaler.unwrap().params());
    assert_eq!(s.kind(), meta.scaler.unwrap().kind());
    // The tensors are read in place: the weights of the first op point into the file.
    let Op::Conv2d(_, w) = back[0] else { panic!() };
    let range = file.bytes().as_ptr_range();
    assert!(range.contains(&(w.as_ptr() as *const u8)));

    let emb = embedding_model(3);
    let file2 = encode(&emb, &Meta::default());
    let model2 = Model::from_bytes(file2.bytes()).unwrap();
    assert_eq!(model2.ops().collect::<Vec<_>>(), emb);
    assert!(model2.scaler().is_none());
    assert_eq!(model2.class_names().count(), 0);

    // Every Op variant is in one of the two models.
    let mut kinds: Vec<&str> = ops
        .iter()
        .chain(&emb)
        .map(|o| OpSummary::of(o).kind_name)
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds.len(), 22, "{kinds:?}");
}

#[test]
fn every_tensor_is_8_byte_aligned_and_the_length_matches_encoded_len() {
    let ops = all_kinds(4);
    let file = encode(&ops, &Meta::default());
    assert_eq!(file.len % 8, 0);
    let n = ops.len();
    for layer in 0..n {
        for slot in 0..3 {
            let at = tref(layer, slot);
            let off = u32::from_le_bytes(file.bytes()[at..at + 4].try_into().unwrap());
            assert_eq!(off % 8, 0, "layer {layer} slot {slot}");
        }
    }
    // Writing into a buffer one byte short fails and leaves it untouched.
    let mut short = vec![7u8; file.len - 1];
    let e = tinytune::model::write(&ops, &Meta::default(), &mut short).unwrap_err();
    assert_eq!(
        e,
        FormatError::OutputTooSmall {
            needed: file.len,
            len: file.len - 1
        }
    );
    assert!(short.iter().all(|&b| b == 7));
}

/// The example of `docs/ttm-format.md`: one `Reshape { len: 4 }`, no metadata.
#[test]
fn the_spec_example_header_bytes_match() {
    let ops = [Op::Reshape(ReshapeConfig { len: 4 })];
    let file = encode(&ops, &Meta::default());
    let b = file.bytes();
    assert_eq!(b.len(), 184);
    #[rustfmt::skip]
    let header: [u8; 48] = [
        0x54, 0x54, 0x4D, 0x00, // magic "TTM\0"
        0x01, 0x00, 0x00, 0x00, // version 1.0
        0x00, 0x00, 0x00, 0x00, // flags
        0xB8, 0x00, 0x00, 0x00, // file length 184
        b[16], b[17], b[18], b[19], // CRC (checked below)
        0x30, 0x00, 0x00, 0x00, // header length 48
        0x01, 0x00, 0x00, 0x00, // 1 layer
        0x60, 0x00, 0x00, 0x00, // record length 96
        0x30, 0x00, 0x00, 0x00, // table at 48
        0x90, 0x00, 0x00, 0x00, // metadata at 144
        0x28, 0x00, 0x00, 0x00, // metadata length 40
        0xB8, 0x00, 0x00, 0x00, // data at 184
    ];
    assert_eq!(&b[..48], &header);
    assert_eq!(&b[16..20], &SPEC_EXAMPLE_CRC.to_le_bytes());
    // The record: tag 11 (Reshape), word 0 = len 4, the rest zero.
    assert_eq!(&b[48..56], &[11, 0, 0, 0, 4, 0, 0, 0]);
    assert!(b[56..144].iter().all(|&x| x == 0));
    // Metadata: input_len 4, output_len 4, the rest zero.
    assert_eq!(&b[144..152], &[4, 0, 0, 0, 4, 0, 0, 0]);
    assert!(b[152..184].iter().all(|&x| x == 0));
}

/// The CRC printed in the spec's example (computed independently with Python's `zlib.crc32`).
const SPEC_EXAMPLE_CRC: u32 = 0x3FDA_5742;

#[test]
fn same_major_newer_minor_and_unknown_flags_are_read_other_majors_are_not() {
    let ops = all_kinds(5);
    let file = encode(&ops, &Meta::default());
    let mut b = AlignedBuf::from(file.bytes());
    b.bytes_mut()[6] = 7; // minor 7
    b.bytes_mut()[10] = 0x80; // unknown flag bit 23
    fix_crc(b.bytes_mut());
    assert_eq!(
        Model::from_bytes(b.bytes())
            .unwrap()
            .ops()
            .collect::<Vec<_>>(),
        ops
    );
    b.bytes_mut()[4] = 2;
    fix_crc(b.bytes_mut());
    assert_eq!(
        Model::from_bytes(b.bytes()).unwrap_err(),
        FormatError::UnsupportedVersion { major: 2, minor: 7 }
    );
    // Bytes after the declared length are ignored (a model in a larger flash region).
    let mut long = AlignedBuf::zeroed(file.len + 100);
    long.bytes_mut()[..file.len].copy_from_slice(file.bytes());
    assert_eq!(
        Model::from_bytes(long.bytes()).unwrap().flash_len(),
        file.len
    );
}

#[test]
fn a_misaligned_buffer_is_an_error() {
    let file = encode(&all_kinds(6), &Meta::default());
    let mut b = AlignedBuf::zeroed(file.len + 1);
    b.bytes_mut()[1..].copy_from_slice(file.bytes());
    assert_eq!(
        Model::from_bytes(&b.bytes()[1..]).unwrap_err(),
        FormatError::Misaligned
    );
    assert!(Model::from_bytes(&b.bytes()[1..])
        .unwrap_err()
        .to_string()
        .contains("aligned"));
}

#[test]
fn include_model_gives_an_8_byte_aligned_static() {
    let bytes: &'static [u8] = tinytune::include_model!("model_format.rs");
    assert_eq!(bytes.as_ptr() as usize % 8, 0);
    assert!(bytes.starts_with(b"//! The `.ttm` format"));
}

/// Each variant, the mutation that produces it, and words its message must contain.
#[test]
fn every_format_error_variant_is_reachable_and_names_what_and_where() {
    let ops = all_kinds(7);
    let mut rng = SplitMix64::new(8);
    let meta = meta_full(&mut rng);
    let file = encode(&ops, &meta);
    let len = file.len;
    let mut cases: Vec<(FormatError, &[&str])> = Vec::new();

    cases.push((parse_mutated(&file, |b| b[0] = b'X'), &["magic"]));
    cases.push((parse_mutated(&file, |b| b[4] = 9), &["version 9.0"]));
    let t = Model::from_bytes(&file.bytes()[..100]).unwrap_err();
    assert_eq!(
        t,
        FormatError::Truncated {
            needed: len,
            len: 100
        }
    );
    cases.push((t, &["truncated", "100"]));
    let mut b = AlignedBuf::from(file.bytes());
    b.bytes_mut()[len - 1] ^= 1;
    cases.push((Model::from_bytes(b.bytes()).unwrap_err(), &["CRC"]));
    cases.push((FormatError::Misaligned, &["aligned"]));
    cases.push((parse_mutated(&file, |b| put(b, 32, 49)), &["table"]));
    cases.push((
        parse_mutated(&file, |b| put(b, word(3, 0) - 4, 99)),
        &["layer 3", "99"],
    ));
    cases.push((
        parse_mutated(&file, |b| put(b, word(0, 10), 2)),
        &["layer 0", "padding"],
    ));
    cases.push((
        parse_mutated(&file, |b| put(b, tref(1, 0), (len - 8) as u32)),
        &["layer 1", "outside"],
    ));
    cases.push((
        parse_mutated(&file, |b| put(b, tref(1, 0), 4)),
        &["layer 1", "aligned"],
    ));
    // Dense (layer 13): one weight fewer.
    cases.push((
        parse_mutated(&file, |b| {
            let at = tref(13, 0) + 4;
            let n = u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
            put(b, at, n - 1);
        }),
        &["layer 13", "parameters"],
    ));
    // Quantize (layer 15): scale 0.
    cases.push((
        parse_mutated(&file, |b| put(b, word(15, 1), 0)),
        &["layer 15", "scale"],
    ));
    // BatchNorm (layer 2): negative eps.
    cases.push((
        parse_mutated(&file, |b| put(b, word(2, 2), (-1.0f32).to_bits())),
        &["layer 2", "configuration"],
    ));
    // Reshape (layer 8) of 12 values given 13.
    cases.push((
        parse_mutated(&file, |b| put(b, word(8, 0), 13)),
        &["layer 8", "12"],
    ));
    // Quantize (layer 15) turned into a Reshape: Conv2dS8 receives f32.
    cases.push((
        parse_mutated(&file, |b| put(b, word(15, 0) - 4, 11)),
        &["layer 16", "int8", "f32"],
    ));
    cases.push((parse_mutated(&file, |b| put(b, 24, 0)), &["no layers"]));
    cases.push((
        parse_mutated(&file, |b| {
            let meta_at = u32::from_le_bytes(b[36..40].try_into().unwrap()) as usize;
            put(b, meta_at + 8, 3);
        }),
        &["num_classes"],
    ));
    // Writer-side errors.
    let huge = [Op::Reshape(ReshapeConfig { len: 1 << 32 })];
    let e = tinytune::model::encoded_len(&huge, &Meta::default()).unwrap_err();
    cases.push((e, &["layer 0", "u32"]));
    let e = tinytune::model::write(&ops, &meta, &mut [0u8; 10]).unwrap_err();
    cases.push((e, &["10 bytes"]));

    let mut seen = Vec::new();
    for (e, words) in &cases {
        let text = e.to_string();
        for w in *words {
            assert!(text.contains(w), "{e:?}: {text:?} lacks {w:?}");
        }
        let name = format!("{e:?}");
        seen.push(name.split([' ', '{', '(']).next().unwrap().to_string());
    }
    seen.sort();
    seen.dedup();
    let all = [
        "BadMagic",
        "Chain",
        "Config",
        "Crc",
        "DType",
        "Empty",
        "Field",
        "LayerKind",
        "Meta",
        "Misaligned",
        "OutputTooSmall",
        "Quant",
        "Section",
        "Shape",
        "TensorMisaligned",
        "TensorOutOfBounds",
        "TooLarge",
        "Truncated",
        "UnsupportedVersion",
    ];
    assert_eq!(seen, all);
}

/// An int8 leaky ReLU is stored as its zero points and two requantizers and read back equal;
/// parts outside their ranges are a field error.
#[test]
fn int8_leaky_relu_round_trips_and_bad_parameters_are_rejected() {
    let leaky = LeakyReluParamsS8::new(0.1, 3, 0.2, 0.05, -4).unwrap();
    let q = q(0.1, 3);
    let ops = [
        Op::Quantize { len: 2, params: q },
        Op::ActivationS8(ActivationS8Config {
            len: 2,
            kind: ActivationKindS8::LeakyRelu(leaky),
        }),
        Op::Dequantize {
            len: 2,
            params: tinytune::num::quant::QuantParams::new(0.05, -4).unwrap(),
        },
    ];
    let file = encode(&ops, &Meta::default());
    let model = Model::from_bytes(file.bytes()).unwrap();
    let back: Vec<Op> = model.ops().collect();
    assert_eq!(back[1], ops[1]);
    assert!(LeakyReluParamsS8::from_parts(
        3,
        -4,
        tinytune::num::quant::Requantizer {
            multiplier: 5,
            shift: 0
        },
        leaky.alpha()
    )
    .is_err());
    assert!(LeakyReluParamsS8::from_parts(200, -4, leaky.identity(), leaky.alpha()).is_err());
}

#[test]
fn the_writer_rejects_what_the_reader_would() {
    let ops = all_kinds(9);
    // The chain is checked: drop the Quantize op.
    let mut broken = ops.clone();
    broken.remove(15);
    assert!(matches!(
        tinytune::model::encoded_len(&broken, &Meta::default()),
        Err(FormatError::DType { layer: 15, .. })
    ));
    // Metadata: a scaler of the wrong width, class names without a class count.
    let mut rng = SplitMix64::new(10);
    let bad = Meta {
        scaler: Some(scaler(&mut rng, 31)),
        ..Meta::default()
    };
    assert_eq!(
        tinytune::model::encoded_len(&ops, &bad),
        Err(FormatError::Meta { field: "scaler" })
    );
    let bad = Meta {
        class_names: &NAMES,
        ..Meta::default()
    };
    assert_eq!(
        tinytune::model::encoded_len(&ops, &bad),
        Err(FormatError::Meta {
            field: "class_names"
        })
    );
    assert_eq!(
        tinytune::model::encoded_len(&[], &Meta::default()),
        Err(FormatError::Empty)
    );
}
