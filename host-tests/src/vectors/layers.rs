//! Vectors for the on-target layer tests: every f32 layer's forward, training forward and
//! backward, every int8 layer's forward, and one training step of a small [`Sequential`] model.
//!
//! Unlike the kernel vectors, these expected values are **the host's own results** of the same
//! tinytune layer code: the layers are built with the public API, run on the host, and their
//! outputs, gradients and updated parameters are written out. The host tests establish that those
//! results are right (f64 references, finite-difference gradient checks, exact int8 references);
//! the on-target tests then prove that the device computes what the host computes. f32 results
//! are expected to be bit-identical on the two ISAs (the same IEEE single-precision operations in
//! the same order, and the same `libm` code for the transcendental functions); the board allows
//! `1e-5 * (1 + |expected|)` per element. int8 results must be bit-exact.
//!
//! The cases draw from their own [`SplitMix64`] seed, so the kernel vectors before them do not
//! shift when a case is added here.
//!
//! [`Sequential`]: tinytune::layers::Sequential

mod float;
mod int8;
mod model;

use crate::emit::{format_f32, Emitter};
use crate::rng::SplitMix64;
use tinytune::layers::Layer;
use tinytune::rng::{SeedableRng, SeededRng};

/// Seed of the layer cases' data.
const SEED: u64 = 0x1A7E_5EED;

/// Appends every layer case to `e`.
pub fn emit(e: &mut Emitter) {
    let mut rng = SplitMix64::new(SEED);
    float::emit(e, &mut rng);
    int8::emit(e, &mut rng);
    model::emit(e, &mut rng);
}

/// What one f32 layer computed on the host for a case.
struct F32Run {
    /// `forward` (inference) output.
    output: Vec<f32>,
    /// `forward_train` output.
    output_train: Vec<f32>,
    /// The random upstream gradient given to `backward`.
    grad_output: Vec<f32>,
    /// `backward`'s input gradient.
    grad_input: Vec<f32>,
    /// `backward`'s parameter gradient, accumulated into zeros (empty without parameters).
    grad_params: Vec<f32>,
    /// Length of the `forward_train` cache.
    cache_len: usize,
}

/// Runs `layer` on the host as the device test will: `forward`, then `forward_train` with a
/// [`SeededRng`] seeded with `seed`, then `backward` of a random `grad_output` in `[-1, 1)`.
fn run_f32<L: Layer>(
    layer: &mut L,
    batch: usize,
    input: &[f32],
    seed: u64,
    rng: &mut SplitMix64,
) -> F32Run {
    let n_out = batch * layer.output_len();
    let mut output = vec![0.0; n_out];
    layer
        .forward(batch, input, &mut output)
        .expect("valid forward");
    let cache_len = layer.cache_len(batch);
    let mut cache = vec![0.0; cache_len];
    let mut output_train = vec![0.0; n_out];
    let mut layer_rng = SeededRng::seed_from_u64(seed);
    layer
        .forward_train(batch, input, &mut output_train, &mut cache, &mut layer_rng)
        .expect("valid forward_train");
    let grad_output = rng.f32_vec(n_out, -1.0, 1.0);
    let mut grad_input = vec![0.0; input.len()];
    let mut grad_params = vec![0.0; layer.param_len()];
    let gp = (!grad_params.is_empty()).then_some(grad_params.as_mut_slice());
    layer
        .backward(
            batch,
            input,
            &output_train,
            &cache,
            &grad_output,
            Some(&mut grad_input),
            gp,
        )
        .expect("valid backward");
    F32Run {
        output,
        output_train,
        grad_output,
        grad_input,
        grad_params,
        cache_len,
    }
}

/// Writes the common arrays of an f32 case: `BATCH`, `SEED`, `CACHE_LEN`, `INPUT`, `PARAMS`
/// (the parameters before the run; empty without any) and the results of [`run_f32`].
fn emit_f32_run(
    e: &mut Emitter,
    batch: usize,
    seed: u64,
    input: &[f32],
    params: &[f32],
    r: &F32Run,
) {
    e.scalar("BATCH", "usize", batch);
    e.scalar("SEED", "u64", seed);
    e.scalar("CACHE_LEN", "usize", r.cache_len);
    e.array_f32("INPUT", input);
    e.array_f32("PARAMS", params);
    e.array_f32("OUTPUT", &r.output);
    e.array_f32("OUTPUT_TRAIN", &r.output_train);
    e.array_f32("GRAD_OUTPUT", &r.grad_output);
    e.array_f32("GRAD_INPUT", &r.grad_input);
    e.array_f32("GRAD_PARAMS", &r.grad_params);
}

/// `pub const NAME: f32 = value;`, written exactly.
fn scalar_f32(e: &mut Emitter, name: &str, v: f32) {
    e.scalar(name, "f32", format_f32(v));
}

/// `pub const NAME: usize = value;` for each pair.
fn dims(e: &mut Emitter, pairs: &[(&str, usize)]) {
    for &(name, v) in pairs {
        e.scalar(name, "usize", v);
    }
}
