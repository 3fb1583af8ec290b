//! Trains a 4-layer MLP from scratch with tinytune's layer API, on the host: three interleaved
//! spirals in the plane (a problem no linear model solves), 2 → 32 → 32 → 32 → 3 with ReLU,
//! softmax cross-entropy, mini-batch SGD, He initialisation.
//!
//! ```sh
//! cargo run --release --example train_mlp
//! ```
//!
//! The same code runs on a microcontroller: nothing below allocates; the `Vec`s here are only
//! the host's way of providing the buffers (a board uses `static` arrays of the same lengths).
//! `host-tests/tests/train_mlp.rs` runs this file's `run` and checks its accuracy.

use tinytune::data::sample::shuffle_rows;
use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Sequential, TrainBuffers};
use tinytune::rng::{normal_f32, uniform_f32, SeedableRng, SeededRng};
use tinytune::train::init::{FanMode, Init};
use tinytune::train::loss::{argmax, softmax_cross_entropy};
use tinytune::train::optim::Sgd;
use tinytune::Error;

/// Classes (spiral arms).
pub const CLASSES: usize = 3;
/// Width of the hidden layers.
pub const HIDDEN: usize = 32;

/// What a training run achieved.
#[derive(Debug)]
pub struct Report {
    /// Accuracy on the training points.
    pub train_accuracy: f32,
    /// Accuracy on held-out points drawn from the same spirals.
    pub test_accuracy: f32,
    /// Mean loss of the last epoch.
    pub final_loss: f32,
    /// Number of parameters.
    pub params: usize,
    /// Bytes of the training buffers (cache, output gradient, gradients, scratch) for one batch.
    pub train_buffer_bytes: usize,
}

/// `n` points per arm of three spirals: radius r uniform in [0.05, 1], angle
/// `2πk/3 + 4r + N(0, 0.15²)` for arm k. Returns the points `[3n, 2]` and the labels `[3n]`.
pub fn spirals(n: usize, rng: &mut SeededRng) -> (Vec<f32>, Vec<u32>) {
    let mut points = Vec::with_capacity(CLASSES * n * 2);
    let mut labels = Vec::with_capacity(CLASSES * n);
    for _ in 0..n {
        for k in 0..CLASSES {
            let r = 0.05 + 0.95 * uniform_f32(rng);
            let t = core::f32::consts::TAU * k as f32 / CLASSES as f32
                + 4.0 * r
                + 0.15 * normal_f32(rng);
            points.extend([r * t.cos(), r * t.sin()]);
            labels.push(k as u32);
        }
    }
    (points, labels)
}

/// Accuracy of `model` on `points` / `labels`.
fn accuracy<const N: usize>(
    model: &Sequential<AnyLayer<'_>, N>,
    points: &[f32],
    labels: &[u32],
) -> Result<f32, Error> {
    let batch = labels.len();
    let mut logits = vec![0.0f32; batch * CLASSES];
    let mut scratch = vec![0.0f32; model.scratch_len(batch)];
    model.forward(batch, points, &mut logits, &mut scratch)?;
    let correct = logits
        .chunks_exact(CLASSES)
        .zip(labels)
        .filter(|(z, &y)| argmax(z) == y as usize)
        .count();
    Ok(correct as f32 / batch as f32)
}

/// Trains the MLP for `epochs` epochs with weights initialised by `init` (biases zero) and
/// returns its accuracies. `log(epoch, loss)` is called after every epoch.
pub fn run(
    seed: u64,
    init: Init,
    epochs: usize,
    mut log: impl FnMut(usize, f32),
) -> Result<Report, Error> {
    let mut rng = SeededRng::seed_from_u64(seed);
    let (mut train_x, mut train_y) = spirals(200, &mut rng);
    let (test_x, test_y) = spirals(100, &mut rng);

    let dense = |i, o| DenseConfig {
        in_features: i,
        out_features: o,
        bias: true,
    };
    let layers = [
        dense(2, HIDDEN),
        dense(HIDDEN, HIDDEN),
        dense(HIDDEN, HIDDEN),
        dense(HIDDEN, CLASSES),
    ];
    let relu = ActivationConfig {
        kind: ActivationKind::Relu,
        len: HIDDEN,
    };
    // One parameter buffer, split between the four dense layers.
    let lens: Vec<usize> = layers
        .iter()
        .map(|c| c.param_len())
        .collect::<Result<_, _>>()?;
    let mut params = vec![0.0f32; lens.iter().sum()];
    let (p0, rest) = params.split_at_mut(lens[0]);
    let (p1, rest) = rest.split_at_mut(lens[1]);
    let (p2, p3) = rest.split_at_mut(lens[2]);
    let mut model = Sequential::new([
        AnyLayer::from(layers[0].init(p0)?),
        relu.init()?.into(),
        layers[1].init(p1)?.into(),
        relu.init()?.into(),
        layers[2].init(p2)?.into(),
        relu.init()?.into(),
        layers[3].init(p3)?.into(),
    ])?;
    model.init_params(init, &mut rng)?;

    let batch = 16;
    let lens = model.train_buffer_lens(batch);
    let (mut cache, mut grad_output, mut grads, mut scratch) = (
        vec![0.0f32; lens.cache],
        vec![0.0f32; lens.grad_output],
        vec![0.0f32; lens.grads],
        vec![0.0f32; lens.scratch],
    );
    let mut bufs = TrainBuffers {
        cache: &mut cache,
        grad_output: &mut grad_output,
        grads: &mut grads,
        scratch: &mut scratch,
        opt_state: &mut [],
    };
    let mut final_loss = f32::NAN;
    for epoch in 0..epochs {
        shuffle_rows(&mut rng, &mut train_x, 2, &mut train_y)?;
        let lr = if epoch < epochs * 3 / 4 { 0.1 } else { 0.02 };
        final_loss = model.train_epoch(
            &train_x,
            &train_y,
            batch,
            &mut bufs,
            &mut rng,
            |logits, labels, grad| softmax_cross_entropy(CLASSES, logits, labels, grad),
            &mut Sgd::new(lr),
        )?;
        log(epoch, final_loss);
    }
    Ok(Report {
        train_accuracy: accuracy(&model, &train_x, &train_y)?,
        test_accuracy: accuracy(&model, &test_x, &test_y)?,
        final_loss,
        params: model.param_len(),
        train_buffer_bytes: 4 * lens.total(),
    })
}

#[allow(dead_code)]
fn main() -> Result<(), Error> {
    let report = run(1, Init::HeNormal(FanMode::FanIn), 300, |epoch, loss| {
        if epoch % 50 == 49 {
            println!("epoch {:>3}: loss {loss:.4}", epoch + 1);
        }
    })?;
    println!(
        "final loss {:.4}, train accuracy {:.1} %, held-out accuracy {:.1} %, {} parameters, {} B of training buffers",
        report.final_loss,
        100.0 * report.train_accuracy,
        100.0 * report.test_accuracy,
        report.params,
        report.train_buffer_bytes
    );
    Ok(())
}
