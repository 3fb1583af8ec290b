//! A small mixed [`Sequential`] model and one SGD training step on the host.

use super::{dims, scalar_f32};
use crate::emit::Emitter;
use crate::rng::SplitMix64;
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

const BATCH: usize = 3;
const LEN: usize = 8;
const IN_C: usize = 2;
const CONV_C: usize = 3;
const KERNEL: usize = 3;
const WINDOW: usize = 2;
const FEATURES: usize = LEN / WINDOW * CONV_C;
const CLASSES: usize = 4;
const DROPOUT: f32 = 0.25;
const LR: f32 = 0.1;

/// Conv1d (SAME) -> ReLU -> max Pool1d -> Reshape -> Dropout -> Dense, over `conv` and `dense`.
fn model<'a>(conv: &'a mut [f32], dense: &'a mut [f32]) -> Sequential<AnyLayer<'a>, 6> {
    let layers: [AnyLayer<'a>; 6] = [
        Conv1dConfig {
            len: LEN,
            in_c: IN_C,
            out_c: CONV_C,
            kernel: KERNEL,
            stride: 1,
            dilation: 1,
            padding: Padding::Same,
            bias: true,
        }
        .init(conv)
        .expect("valid conv1d")
        .into(),
        ActivationConfig {
            kind: ActivationKind::Relu,
            len: LEN * CONV_C,
        }
        .init()
        .expect("valid relu")
        .into(),
        Pool1dConfig {
            kind: PoolKind::Max,
            len: LEN,
            channels: CONV_C,
            window: WINDOW,
            stride: WINDOW,
            padding: Padding::Valid,
        }
        .init()
        .expect("valid pool1d")
        .into(),
        ReshapeConfig { len: FEATURES }
            .init()
            .expect("valid reshape")
            .into(),
        DropoutConfig {
            len: FEATURES,
            rate: DROPOUT,
        }
        .init()
        .expect("valid dropout")
        .into(),
        DenseConfig {
            in_features: FEATURES,
            out_features: CLASSES,
            bias: true,
        }
        .init(dense)
        .expect("valid dense")
        .into(),
    ];
    Sequential::new(layers).expect("layers chain")
}

/// Appends the model case to `e`.
pub fn emit(e: &mut Emitter, rng: &mut SplitMix64) {
    let mut conv = rng.f32_vec(CONV_C * KERNEL * IN_C + CONV_C, -0.8, 0.8);
    let mut dense = rng.f32_vec(FEATURES * CLASSES + CLASSES, -0.8, 0.8);
    let (conv_before, dense_before) = (conv.clone(), dense.clone());
    let input = rng.f32_vec(BATCH * LEN * IN_C, -1.0, 1.0);
    let labels: Vec<u32> = (0..BATCH)
        .map(|_| rng.range_i64(0, CLASSES as i64 - 1) as u32)
        .collect();
    let seed = rng.next_u64();

    let mut m = model(&mut conv, &mut dense);
    let lens = m.train_buffer_lens(BATCH);
    let mut scratch = vec![0.0; lens.scratch];
    let mut output = vec![0.0; BATCH * CLASSES];
    m.forward(BATCH, &input, &mut output, &mut scratch)
        .expect("valid forward");
    let (mut cache, mut grad_output, mut grads) = (
        vec![0.0; lens.cache],
        vec![0.0; lens.grad_output],
        vec![0.0; lens.grads],
    );
    let mut bufs = TrainBuffers {
        cache: &mut cache,
        grad_output: &mut grad_output,
        grads: &mut grads,
        scratch: &mut scratch,
        opt_state: &mut [],
    };
    let mut layer_rng = SeededRng::seed_from_u64(seed);
    let loss = m
        .train_batch(
            BATCH,
            &input,
            &mut bufs,
            &mut layer_rng,
            |out, grad| softmax_cross_entropy(CLASSES, out, &labels, grad),
            &mut Sgd::new(LR),
        )
        .expect("valid training step");
    let mut output_after = vec![0.0; BATCH * CLASSES];
    m.forward(BATCH, &input, &mut output_after, &mut scratch)
        .expect("valid forward");
    let conv_after = m.layers()[0].params().to_vec();
    let dense_after = m.layers()[5].params().to_vec();

    e.open(
        "sequential_sgd_step",
        "Sequential Conv1d(8x2 -> 3, kernel 3, SAME) -> ReLU -> max Pool1d(2) -> Reshape(12) -> \
         Dropout(0.25) -> Dense(12 -> 4); one train_batch step (batch 3, softmax cross-entropy, \
         SGD lr 0.1, dropout mask from SeededRng(SEED))",
    );
    dims(
        e,
        &[
            ("BATCH", BATCH),
            ("LEN", LEN),
            ("IN_C", IN_C),
            ("CONV_C", CONV_C),
            ("KERNEL", KERNEL),
            ("WINDOW", WINDOW),
            ("FEATURES", FEATURES),
            ("CLASSES", CLASSES),
            ("CACHE_LEN", lens.cache),
            ("GRAD_OUTPUT_LEN", lens.grad_output),
            ("GRADS_LEN", lens.grads),
            ("SCRATCH_LEN", lens.scratch),
        ],
    );
    scalar_f32(e, "DROPOUT", DROPOUT);
    scalar_f32(e, "LR", LR);
    e.scalar("SEED", "u64", seed);
    e.array_f32("INPUT", &input);
    e.array("LABELS", "u32", &labels);
    e.array_f32("CONV_PARAMS", &conv_before);
    e.array_f32("DENSE_PARAMS", &dense_before);
    e.array_f32("OUTPUT", &output);
    scalar_f32(e, "LOSS", loss);
    e.array_f32("CONV_PARAMS_AFTER", &conv_after);
    e.array_f32("DENSE_PARAMS_AFTER", &dense_after);
    e.array_f32("OUTPUT_AFTER", &output_after);
    e.close();
}
