//! The parser validates an int8 encoder block through the `init`s of its parts (it has no
//! memory to rebuild the block's requantizers in): on thousands of mutated blocks it must give
//! exactly the block's own `init` result.

mod model_common;
mod model_transformer_common;

use model_common::*;
use model_transformer_common::*;
use tinytune::layers::s8::attention::{EncoderS8Params, TransformerEncoderS8Config};
use tinytune::model::{EncoderTensorsS8, FormatError, Meta, Model, Op};
use tinytune::num::quant::{QuantParams, Requantizer};
use tinytune::Error;
use tinytune_host_tests::rng::SplitMix64;

fn rq(pairs: &[i32]) -> Vec<Requantizer> {
    pairs
        .chunks(2)
        .map(|p| Requantizer {
            multiplier: p[0],
            shift: p[1],
        })
        .collect()
}

/// Zero weights and offsets, valid requantizers, with the lengths `c` asks for.
fn tensors_for(c: &TransformerEncoderS8Config) -> Option<EncoderTensorsS8<'static>> {
    let lens = c.params_len().ok()?;
    if lens.weights > 1 << 20 || lens.bias > 1 << 16 {
        return None;
    }
    Some(EncoderTensorsS8 {
        weights: leak(vec![1; lens.weights]),
        bias: leak(vec![0; lens.bias]),
        requant: leak([1 << 30, -3].repeat(lens.bias)),
        ln_multiplier: leak(vec![1 << 20; lens.ln]),
        ln_offset: leak(vec![0; lens.ln]),
    })
}

fn to_format(layer: usize, e: Error) -> FormatError {
    match e {
        Error::Shape(error) => FormatError::Shape { layer, error },
        Error::Quant(error) => FormatError::Quant { layer, error },
        _ => FormatError::Config { layer },
    }
}

/// The parser cannot build the int8 block's requantizers, so it validates the block through
/// the `init`s of its parts; on 4000 mutated blocks it gives exactly the block's own `init`
/// result (the same error), and the written file of every accepted block reads back.
#[test]
fn the_parsers_int8_encoder_check_agrees_with_the_blocks_own_init() {
    let mut rng = SplitMix64::new(29);
    let (base, base_t, _) = encoder_s8(&mut rng, SMALL);
    let pick = |rng: &mut SplitMix64, xs: &[usize]| xs[rng.next_u64() as usize % xs.len()];
    let (mut accepted, mut rejected) = (0, 0);
    for i in 0..4000 {
        let mut c = base;
        let mut reshape = false;
        for _ in 0..1 + i % 3 {
            match rng.next_u64() % 10 {
                0 => {
                    c.seq = pick(&mut rng, &[0, 1, 3, 4, 9, 65536, 65537, usize::MAX]);
                }
                1 => {
                    c.width = pick(&mut rng, &[0, 1, 2, 6, 8, 12, 70000, usize::MAX / 2]);
                    reshape = true;
                }
                2 => c.heads = pick(&mut rng, &[0, 1, 2, 3, 4, 8, 16]),
                3 => {
                    c.ff = pick(&mut rng, &[0, 1, 12, 13, usize::MAX / 4]);
                    reshape = true;
                }
                4 => {
                    c.eps = [f32::NAN, -1.0, 0.0, 1e-30, 1e30, f32::INFINITY]
                        [rng.next_u64() as usize % 6]
                }
                5 => c.ln1_shift = [0, 1, 30, 62, 63, u32::MAX][rng.next_u64() as usize % 6],
                6 => c.ln2_shift = [0, 1, 30, 62, 63, u32::MAX][rng.next_u64() as usize % 6],
                7 => c.causal = !c.causal,
                _ => {
                    // One of the 13 quantizations.
                    let nasty = [
                        QuantParams {
                            scale: 0.0,
                            zero_point: 0,
                        },
                        QuantParams {
                            scale: f32::NAN,
                            zero_point: 0,
                        },
                        QuantParams {
                            scale: 1e-30,
                            zero_point: 0,
                        },
                        QuantParams {
                            scale: 1e30,
                            zero_point: 0,
                        },
                        QuantParams {
                            scale: 0.05,
                            zero_point: 128,
                        },
                        QuantParams {
                            scale: 0.05,
                            zero_point: -7,
                        },
                        QuantParams {
                            scale: 5.0,
                            zero_point: 0,
                        },
                    ][rng.next_u64() as usize % 7];
                    let q = &mut c.quant;
                    let fields = [
                        &mut q.input,
                        &mut q.ln1,
                        &mut q.q,
                        &mut q.k,
                        &mut q.v,
                        &mut q.attn,
                        &mut q.mha,
                        &mut q.resid,
                        &mut q.ln2,
                        &mut q.ff1,
                        &mut q.gelu,
                        &mut q.ff2,
                        &mut q.output,
                    ];
                    *fields
                        .into_iter()
                        .nth(rng.next_u64() as usize % 13)
                        .unwrap() = nasty;
                }
            }
        }
        let mut t = if reshape {
            tensors_for(&c).unwrap_or(base_t)
        } else {
            base_t
        };
        if i % 7 == 0 {
            // A tensor one value short.
            match rng.next_u64() % 4 {
                0 => t.weights = &t.weights[t.weights.len().min(1)..],
                1 => t.bias = &t.bias[t.bias.len().min(1)..],
                2 => t.ln_multiplier = &t.ln_multiplier[t.ln_multiplier.len().min(1)..],
                _ => t.ln_offset = &t.ln_offset[t.ln_offset.len().min(1)..],
            }
        }
        let r = rq(t.requant);
        let own = c.init(EncoderS8Params {
            weights: t.weights,
            bias: t.bias,
            requant: &r,
            ln_multiplier: t.ln_multiplier,
            ln_offset: t.ln_offset,
        });
        let params = QuantParams {
            scale: 0.05,
            zero_point: 0,
        };
        let Some(len) = c.seq.checked_mul(c.width).filter(|&n| n > 0) else {
            assert!(own.is_err());
            continue;
        };
        let ops = [
            Op::Quantize { len, params },
            Op::TransformerEncoderS8(c, t),
            Op::Dequantize { len, params },
        ];
        let parsed = tinytune::model::encoded_len(&ops, &Meta::default());
        match (&own, parsed) {
            (Ok(_), Ok(_)) => {
                accepted += 1;
                let file = encode(&ops, &Meta::default());
                let m = Model::from_bytes(file.bytes()).unwrap();
                assert_eq!(m.ops().nth(1), Some(ops[1]));
            }
            (Err(e), Err(p)) => {
                rejected += 1;
                assert_eq!(p, to_format(1, *e), "{c:?}");
            }
            (own, parsed) => panic!("init {own:?}, parser {parsed:?} for {c:?}"),
        }
    }
    // Both outcomes occur often.
    eprintln!("accepted {accepted}, rejected {rejected}");
    assert!(accepted > 300 && rejected > 1500, "{accepted} {rejected}");
}
