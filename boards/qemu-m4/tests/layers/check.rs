//! Comparison helpers and the common run of an f32 layer case.

use defmt::{assert, unwrap};
use tinytune::layers::Layer;
use tinytune::num::quant::Requantizer;
use tinytune::rng::{SeedableRng, SeededRng};

/// f32 values must be within `1e-5 * (1 + |expected|)` of the host's. The host and the device run
/// the same IEEE single-precision operations in the same order (and the same `libm` code), so in
/// practice they are bit-identical; the bound only leaves room for a compiler choosing a different
/// but equally exact instruction sequence.
pub fn close(what: &str, got: &[f32], want: &[f32]) {
    assert!(
        got.len() == want.len(),
        "{}: length {}, want {}",
        what,
        got.len(),
        want.len()
    );
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{} element {}: got {}, want {}",
            what,
            i,
            g,
            w
        );
    }
}

/// int8 outputs must equal the host's bit for bit.
pub fn exact(got: &[i8], want: &[i8]) {
    assert!(got.len() == want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(g == w, "element {}: got {}, want {}", i, g, w);
    }
}

/// The requantizers of a case from its `(multiplier, shift)` columns.
pub fn requants<const N: usize>(m: &[i32; N], s: &[i32; N]) -> [Requantizer; N] {
    let mut out = [Requantizer::ZERO; N];
    for (r, (&multiplier, &shift)) in out.iter_mut().zip(m.iter().zip(s)) {
        *r = Requantizer { multiplier, shift };
    }
    out
}

/// The inputs and the host's results of an f32 layer case.
pub struct F32Case<'a> {
    pub batch: usize,
    pub seed: u64,
    pub input: &'a [f32],
    pub output: &'a [f32],
    pub output_train: &'a [f32],
    pub grad_output: &'a [f32],
    pub grad_input: &'a [f32],
    pub grad_params: &'a [f32],
}

/// The device buffers of an f32 layer case (sized from the case's `…_LEN` constants).
pub struct F32Buffers<'a> {
    pub output: &'a mut [f32],
    pub cache: &'a mut [f32],
    pub grad_input: &'a mut [f32],
    pub grad_params: &'a mut [f32],
}

/// Runs `layer` as the host did and compares every result: `forward`, then `forward_train` with
/// `SeededRng::seed_from_u64(seed)`, then `backward` of the host's upstream gradient (parameter
/// gradients accumulated into zeros).
pub fn run_f32<L: Layer>(layer: &mut L, c: &F32Case<'_>, b: F32Buffers<'_>) {
    unwrap!(layer.forward(c.batch, c.input, b.output));
    close("forward", b.output, c.output);
    let mut rng = SeededRng::seed_from_u64(c.seed);
    unwrap!(layer.forward_train(c.batch, c.input, b.output, b.cache, &mut rng));
    close("forward_train", b.output, c.output_train);
    b.grad_params.fill(0.0);
    let grad_params = (!b.grad_params.is_empty()).then_some(&mut *b.grad_params);
    unwrap!(layer.backward(
        c.batch,
        c.input,
        b.output,
        b.cache,
        c.grad_output,
        Some(&mut *b.grad_input),
        grad_params,
    ));
    close("grad_input", b.grad_input, c.grad_input);
    close("grad_params", b.grad_params, c.grad_params);
}

/// Runs the f32 case module `$c` of `tinytune_test_vectors` on `$layer` with stack buffers of the
/// case's sizes (see [`run_f32`]).
macro_rules! f32_case {
    ($c:ident, $layer:expr) => {{
        use tinytune_test_vectors::$c as c;
        let mut output = [0f32; c::OUTPUT_LEN];
        let mut cache = [0f32; c::CACHE_LEN];
        let mut grad_input = [0f32; c::GRAD_INPUT_LEN];
        let mut grad_params = [0f32; c::GRAD_PARAMS_LEN];
        $crate::check::run_f32(
            $layer,
            &$crate::check::F32Case {
                batch: c::BATCH,
                seed: c::SEED,
                input: &c::INPUT,
                output: &c::OUTPUT,
                output_train: &c::OUTPUT_TRAIN,
                grad_output: &c::GRAD_OUTPUT,
                grad_input: &c::GRAD_INPUT,
                grad_params: &c::GRAD_PARAMS,
            },
            $crate::check::F32Buffers {
                output: &mut output,
                cache: &mut cache,
                grad_input: &mut grad_input,
                grad_params: &mut grad_params,
            },
        );
    }};
}
pub(crate) use f32_case;
