//! `dense_f32` against a plain loop.

use crate::gen::{same_bits, Rng, Values};
use defmt::unwrap;
use tinytune::kernels::generic::dense::{dense_f32, DenseShape};
use tinytune::kernels::ActivationF32;

const MAX_IN: usize = 37;
const MAX_OUT: usize = 11;
const MAX_BATCH: usize = 3;

/// The clamps the cases cycle through.
const ACTS: [ActivationF32; 4] = [
    ActivationF32::NONE,
    ActivationF32::RELU,
    ActivationF32::RELU6,
    ActivationF32 {
        min: -0.5,
        max: 0.25,
    },
];

/// `output[b, o] = act(bias[o] + sum_i input[b, i] * weights[o, i])`, one output at a time
/// in increasing `i`.
fn plain(
    shape: DenseShape,
    input: &[f32],
    weights: &[f32],
    bias: Option<&[f32]>,
    act: ActivationF32,
    output: &mut [f32],
) {
    let (n_in, n_out) = (shape.in_features, shape.out_features);
    for b in 0..shape.batch {
        for o in 0..n_out {
            let mut acc = match bias {
                Some(bias) => bias[o],
                None => 0.0,
            };
            for i in 0..n_in {
                acc += input[b * n_in + i] * weights[o * n_in + i];
            }
            output[b * n_out + o] = act.clamp(acc);
        }
    }
}

/// Runs both on one shape and compares.
fn case(shape: DenseShape, rng: &mut Rng, values: Values, with_bias: bool, act: ActivationF32) {
    let mut input = [0.0f32; MAX_BATCH * MAX_IN];
    let mut weights = [0.0f32; MAX_OUT * MAX_IN];
    let mut bias = [0.0f32; MAX_OUT];
    let input = &mut input[..shape.batch * shape.in_features];
    let weights = &mut weights[..shape.out_features * shape.in_features];
    let bias = &mut bias[..shape.out_features];
    rng.fill(input, values);
    rng.fill(weights, values);
    rng.fill(bias, values);
    let bias = with_bias.then_some(&bias[..]);
    let n = shape.batch * shape.out_features;
    // Different fill values, so an output left unwritten cannot match.
    let mut got = [1.5f32; MAX_BATCH * MAX_OUT];
    let mut want = [-2.5f32; MAX_BATCH * MAX_OUT];
    unwrap!(dense_f32(shape, input, weights, bias, act, &mut got[..n]));
    plain(shape, input, weights, bias, act, &mut want[..n]);
    same_bits(&got[..n], &want[..n], "dense_f32");
}

/// Every shape of the suite; returns the number of cases.
pub fn every_shape(values: Values) -> u32 {
    let mut rng = Rng::new(0xF32D_0001);
    let mut cases = 0u32;
    for batch in 1..=MAX_BATCH {
        for in_features in 1..=MAX_IN {
            for out_features in 1..=MAX_OUT {
                let shape = DenseShape {
                    batch,
                    in_features,
                    out_features,
                };
                let with_bias = rng.below(4) != 0;
                let act = ACTS[rng.below(4) as usize];
                case(shape, &mut rng, values, with_bias, act);
                cases += 1;
            }
        }
    }
    cases
}

/// Rows of a few hundred inputs (long assembly loops), a tail of 3, some outputs left over.
pub fn long_rows() {
    const N_IN: usize = 643;
    const N_OUT: usize = 9;
    const BATCH: usize = 2;
    let shape = DenseShape {
        batch: BATCH,
        in_features: N_IN,
        out_features: N_OUT,
    };
    let mut rng = Rng::new(0xF32D_0002);
    let mut input = [0.0f32; BATCH * N_IN];
    let mut weights = [0.0f32; N_OUT * N_IN];
    let mut bias = [0.0f32; N_OUT];
    rng.fill(&mut input, Values::Moderate);
    rng.fill(&mut weights, Values::Moderate);
    rng.fill(&mut bias, Values::Moderate);
    let mut got = [0.0f32; BATCH * N_OUT];
    let mut want = [0.0f32; BATCH * N_OUT];
    let act = ActivationF32::NONE;
    unwrap!(dense_f32(
        shape,
        &input,
        &weights,
        Some(&bias),
        act,
        &mut got
    ));
    plain(shape, &input, &weights, Some(&bias), act, &mut want);
    same_bits(&got, &want, "dense_f32 643 inputs");
}
