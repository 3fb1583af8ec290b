//! The int8 MLP student of `data/mlp.ttm` (64 → 32 → 10, ReLU; Quantize, two DenseS8,
//! Dequantize) on one digit: `Model::from_bytes` validates the file, `Model::run` runs the
//! sample, and the firmware exits 0 only if the predicted class and the CRC-32 of the output
//! values are the host's (`data/expected.txt`, from `tinytune eval`). Nothing else is linked:
//! its flash minus the `.ttm` is what the model runtime costs (`cargo xtask size`).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use tinytune::model::{crc32_update, Model};
use tinytune::num::quant::Requantizer;
use tinytune_size_mlp::{exit, print, print_u32, EXIT_FAILURE};

include!(concat!(env!("OUT_DIR"), "/sample.rs"));

/// The arena: `tinytune inspect data/mlp.ttm` gives 515 bytes for one sample.
const ARENA: usize = 520;
/// Requantizers: the widest layer's 32 (per output channel).
const REQUANT: usize = 32;
/// Outputs: one per class.
const CLASSES: usize = 10;

/// Runs the sample; returns the predicted class and the CRC-32 of the output values.
fn run() -> Option<(u32, u32)> {
    let model = Model::from_bytes(tinytune::include_model!("../../data/mlp.ttm")).ok()?;
    let mut input = [0f32; PIXELS.len()];
    for (x, &p) in input.iter_mut().zip(PIXELS.iter()) {
        *x = f32::from(p);
    }
    let mut arena = [0u8; ARENA];
    let mut requant = [Requantizer::ZERO; REQUANT];
    let mut output = [0f32; CLASSES];
    model
        .run(1, &input, &mut arena, &mut requant, &mut output)
        .ok()?;
    // The largest output (as `Model::predict`; the outputs are never NaN here).
    let mut class = 0;
    for (i, &v) in output.iter().enumerate() {
        if output.get(class).is_some_and(|&best| v > best) {
            class = i;
        }
    }
    let crc = output
        .iter()
        .fold(0xFFFF_FFFF, |c, v| crc32_update(c, &v.to_le_bytes()));
    Some((class as u32, !crc))
}

#[entry]
fn main() -> ! {
    let Some((class, crc)) = run() else {
        print(c"size-mlp: the model failed\n");
        exit(EXIT_FAILURE)
    };
    print(c"size-mlp: class ");
    print_u32(class);
    print(c" (label ");
    print_u32(LABEL);
    print(c", host ");
    print_u32(EXPECTED_CLASS);
    print(c"), outputs crc32 ");
    print(if crc == EXPECTED_CRC {
        c"as the host's\n"
    } else {
        c"differs from the host's\n"
    });
    exit(if class == EXPECTED_CLASS && crc == EXPECTED_CRC {
        0
    } else {
        EXIT_FAILURE
    })
}
