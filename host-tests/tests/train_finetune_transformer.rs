//! On-device fine-tuning of a transformer's head: the backbone (embedding, positional
//! encoding, encoder block, pooling) runs frozen through `Model::run_prefix`, the dense head
//! learns.

mod model_common;
mod model_transformer_common;

use model_common::encode;
use model_transformer_common::{f32_model, s8_model, MAIN};
use tinytune::model::{Meta, Model};
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::{FineTuner, FinetuneConfig, Trainable};
use tinytune_host_tests::rng::SplitMix64;

fn meta() -> Meta<'static> {
    Meta {
        num_classes: 10,
        ..Meta::default()
    }
}

struct Bufs {
    arena: Vec<u8>,
    requant: Vec<Requantizer>,
    params: Vec<f32>,
    state: Vec<f32>,
    scratch: Vec<f32>,
}

fn bufs(model: &Model<'_>, config: &FinetuneConfig) -> Bufs {
    let lens = FineTuner::lens(model, config).unwrap();
    Bufs {
        arena: vec![0; model.arena_len(1).unwrap()],
        requant: vec![
            Requantizer {
                multiplier: 0,
                shift: 0
            };
            model.requant_len()
        ],
        params: vec![0.0; lens.params],
        state: vec![0.0; lens.state],
        scratch: vec![0.0; lens.scratch],
    }
}

/// With a learning rate of 0 an update changes nothing, but it switches the tuner to its own
/// path: the backbone through `run_prefix` (the encoder with its scratch) and the f32 head. On
/// the f32 model that must give the model's own logits.
#[test]
fn tuned_path_through_the_encoder_prefix_equals_the_model_on_f32() {
    let buf = encode(&f32_model(21, MAIN, false), &meta());
    let model = Model::from_bytes(buf.bytes()).unwrap();
    let mut config = FinetuneConfig::new(Trainable::LastLayer, 0.0);
    config.threshold.margin = 1.0;
    let mut b = bufs(&model, &config);
    let mut tuner =
        FineTuner::new(model, config, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    let mut rng = SplitMix64::new(22);
    let x = rng.f32_vec(64, -2.0, 2.0);
    let out = tuner.learn(&x, 3, &mut b.arena, &mut b.requant).unwrap();
    assert!(out.updated && tuner.is_tuned());
    let model = Model::from_bytes(buf.bytes()).unwrap();
    let mut arena = vec![0u8; model.arena_len(1).unwrap()];
    for _ in 0..8 {
        let x = rng.f32_vec(64, -2.0, 2.0);
        let (mut want, mut got) = ([0f32; 10], [0f32; 10]);
        model.run(1, &x, &mut arena, &mut [], &mut want).unwrap();
        tuner
            .logits(&x, &mut b.arena, &mut b.requant, &mut got)
            .unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{got:?} {want:?}");
        }
    }
}

/// Learning one labelled sample over and over raises its true-class probability on the int8
/// transformer (int8 backbone, f32 head).
#[test]
fn learning_a_sample_raises_its_probability_on_the_int8_transformer() {
    let buf = encode(&s8_model(23, MAIN), &meta());
    let model = Model::from_bytes(buf.bytes()).unwrap();
    let mut config = FinetuneConfig::new(Trainable::LastLayer, 0.05);
    config.threshold.margin = 1.0;
    let mut b = bufs(&model, &config);
    let mut tuner =
        FineTuner::new(model, config, &mut b.params, &mut b.state, &mut b.scratch).unwrap();
    let x = SplitMix64::new(24).f32_vec(64, -2.0, 2.0);
    let first = tuner.learn(&x, 7, &mut b.arena, &mut b.requant).unwrap();
    let mut last = first;
    for _ in 0..20 {
        last = tuner.learn(&x, 7, &mut b.arena, &mut b.requant).unwrap();
    }
    assert!(
        last.p_true > first.p_true + 0.1,
        "{} -> {}",
        first.p_true,
        last.p_true
    );
}

/// Two trainable layers reach into the encoder block, which the head cannot train through:
/// refused with a configuration error, not a panic.
#[test]
fn a_head_reaching_into_the_encoder_is_a_config_error() {
    for ops in [f32_model(25, MAIN, false), s8_model(26, MAIN)] {
        let buf = encode(&ops, &meta());
        let model = Model::from_bytes(buf.bytes()).unwrap();
        let config = FinetuneConfig::new(Trainable::LastLayers(2), 0.01);
        assert_eq!(
            FineTuner::lens(&model, &config).unwrap_err(),
            tinytune::Error::Config
        );
    }
}
