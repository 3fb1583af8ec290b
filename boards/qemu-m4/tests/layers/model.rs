//! A small mixed `Sequential` model on target: inference, one SGD training step, inference again.

use crate::check::close;
use defmt::{assert_eq, unwrap};
use tinytune::kernels::Padding;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::conv::Conv1dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::dropout::DropoutConfig;
use tinytune::layers::pool::{Pool1dConfig, PoolKind};
use tinytune::layers::reshape::ReshapeConfig;
use tinytune::layers::{AnyLayer, Layer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::loss::softmax_cross_entropy;
use tinytune::train::optim::Sgd;
use tinytune_test_vectors::sequential_sgd_step as c;

/// Conv1d (SAME) -> ReLU -> max Pool1d -> Reshape -> Dropout -> Dense, as on the host.
fn model<'a>(conv: &'a mut [f32], dense: &'a mut [f32]) -> Sequential<AnyLayer<'a>, 6> {
    let layers: [AnyLayer<'a>; 6] = [
        unwrap!(Conv1dConfig {
            len: c::LEN,
            in_c: c::IN_C,
            out_c: c::CONV_C,
            kernel: c::KERNEL,
            stride: 1,
            dilation: 1,
            padding: Padding::Same,
            bias: true,
        }
        .init(conv))
        .into(),
        unwrap!(ActivationConfig {
            kind: ActivationKind::Relu,
            len: c::LEN * c::CONV_C,
        }
        .init())
        .into(),
        unwrap!(Pool1dConfig {
            kind: PoolKind::Max,
            len: c::LEN,
            channels: c::CONV_C,
            window: c::WINDOW,
            stride: c::WINDOW,
            padding: Padding::Valid,
        }
        .init())
        .into(),
        unwrap!(ReshapeConfig { len: c::FEATURES }.init()).into(),
        unwrap!(DropoutConfig {
            len: c::FEATURES,
            rate: c::DROPOUT,
        }
        .init())
        .into(),
        unwrap!(DenseConfig {
            in_features: c::FEATURES,
            out_features: c::CLASSES,
            bias: true,
        }
        .init(dense))
        .into(),
    ];
    unwrap!(Sequential::new(layers))
}

/// The output before the step, the loss, every updated parameter and the output after the step
/// match the host's.
pub fn sgd_step() {
    let mut conv = c::CONV_PARAMS;
    let mut dense = c::DENSE_PARAMS;
    let mut m = model(&mut conv, &mut dense);
    let lens = m.train_buffer_lens(c::BATCH);
    assert_eq!(lens.cache, c::CACHE_LEN);
    assert_eq!(lens.grads, c::GRADS_LEN);
    assert_eq!(lens.scratch, c::SCRATCH_LEN);
    let mut scratch = [0f32; c::SCRATCH_LEN];
    let mut output = [0f32; c::OUTPUT_LEN];
    unwrap!(m.forward(c::BATCH, &c::INPUT, &mut output, &mut scratch));
    close("output before the step", &output, &c::OUTPUT);

    let mut cache = [0f32; c::CACHE_LEN];
    let mut grad_output = [0f32; c::GRAD_OUTPUT_LEN];
    let mut grads = [0f32; c::GRADS_LEN];
    let mut bufs = TrainBuffers {
        cache: &mut cache,
        grad_output: &mut grad_output,
        grads: &mut grads,
        scratch: &mut scratch,
        opt_state: &mut [],
    };
    let mut rng = SeededRng::seed_from_u64(c::SEED);
    let loss = unwrap!(m.train_batch(
        c::BATCH,
        &c::INPUT,
        &mut bufs,
        &mut rng,
        |out, grad| softmax_cross_entropy(c::CLASSES, out, &c::LABELS, grad),
        &mut Sgd::new(c::LR),
    ));
    close("loss", &[loss], &[c::LOSS]);
    unwrap!(m.forward(c::BATCH, &c::INPUT, &mut output, &mut scratch));
    close("output after the step", &output, &c::OUTPUT_AFTER);
    close(
        "conv1d parameters",
        m.layers()[0].params(),
        &c::CONV_PARAMS_AFTER,
    );
    close(
        "dense parameters",
        m.layers()[5].params(),
        &c::DENSE_PARAMS_AFTER,
    );
}
