//! safetensors export/import of an owned f32 model (`tinytune_cli::safetensors`): round trips
//! in both layouts, a file built here with the `safetensors` serializer from arrays in PyTorch
//! layout whose values are a known function of their PyTorch index, and the error paths.

mod common_h3;

use common_h3::*;
use safetensors::tensor::{Dtype, TensorView};
use tinytune::layers::activation::ActivationKind;
use tinytune_cli::model::{OwnedModel, OwnedOp};
use tinytune_cli::quantize::{quantize, QuantizeOptions};
use tinytune_cli::safetensors::safetensors_crate as safetensors;
use tinytune_cli::safetensors::{export, import, tensor_specs, Layout};
use tinytune_host_tests::rng::SplitMix64;

/// One op of each kind with parameters (and a parameter-free one between them).
fn full_model(seed: u64) -> OwnedModel {
    let mut rng = SplitMix64::new(seed);
    model(vec![
        conv2d(5, 5, 3, 4, 3, true, &mut rng),
        batch_norm(25, 4, &mut rng),
        act(ActivationKind::Relu, 100),
        depthwise(5, 5, 4, 2, 2, &mut rng),
        dense(128, 6, &mut rng),
        layer_norm(6, &mut rng),
        conv1d(3, 2, 2, 2, &mut rng),
        embedding(7, 3, &mut rng),
    ])
}

/// The model with every parameter and statistic set to zero.
fn zeroed(m: &OwnedModel) -> OwnedModel {
    let mut z = m.clone();
    for op in &mut z.ops {
        match op {
            OwnedOp::Dense(_, p)
            | OwnedOp::Conv1d(_, p)
            | OwnedOp::Conv2d(_, p)
            | OwnedOp::DepthwiseConv2d(_, p)
            | OwnedOp::LayerNorm(_, p)
            | OwnedOp::Embedding(_, p) => p.iter_mut().for_each(|v| *v = 0.0),
            OwnedOp::BatchNorm(_, p, s) => p.iter_mut().chain(s.iter_mut()).for_each(|v| *v = 0.0),
            _ => {}
        }
    }
    z
}

#[test]
fn names_and_shapes_follow_the_documented_scheme() {
    let specs = tensor_specs(&full_model(1)).unwrap();
    let got: Vec<(String, Vec<usize>)> = specs
        .iter()
        .map(|s| (s.name.clone(), s.shape.clone()))
        .collect();
    let want: Vec<(&str, Vec<usize>)> = vec![
        ("layers.0.conv2d.weight", vec![4, 3, 3, 3]),
        ("layers.0.conv2d.bias", vec![4]),
        ("layers.1.batch_norm.gamma", vec![4]),
        ("layers.1.batch_norm.beta", vec![4]),
        ("layers.1.batch_norm.running_mean", vec![4]),
        ("layers.1.batch_norm.running_var", vec![4]),
        ("layers.3.depthwise_conv2d.weight", vec![2, 2, 8]),
        ("layers.3.depthwise_conv2d.bias", vec![8]),
        ("layers.4.dense.weight", vec![6, 128]),
        ("layers.4.dense.bias", vec![6]),
        ("layers.5.layer_norm.gamma", vec![6]),
        ("layers.5.layer_norm.beta", vec![6]),
        ("layers.6.conv1d.weight", vec![2, 2, 2]),
        ("layers.6.conv1d.bias", vec![2]),
        ("layers.7.embedding.table", vec![7, 3]),
    ];
    let want: Vec<(String, Vec<usize>)> =
        want.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
    assert_eq!(got, want);
    assert_eq!(specs[0].shape_in(Layout::Pytorch), [4, 3, 3, 3]);
    assert_eq!(specs[6].shape_in(Layout::Pytorch), [8, 1, 2, 2]);
}

#[test]
fn export_then_import_restores_every_value_in_both_layouts() {
    for layout in [Layout::Tinytune, Layout::Pytorch] {
        let m = full_model(2);
        let bytes = export(&m, layout).unwrap();
        let mut z = zeroed(&m);
        assert_ne!(z, m);
        import(&bytes, &mut z, layout).unwrap();
        assert_eq!(z, m, "{layout:?}");
    }
}

#[test]
fn pytorch_layout_export_stores_conv_weights_as_oihw() {
    let m = full_model(3);
    let bytes = export(&m, Layout::Pytorch).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = file.tensor("layers.0.conv2d.weight").unwrap();
    assert_eq!(w.shape(), [4, 3, 3, 3]);
    let vals: Vec<f32> = w
        .data()
        .chunks(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let OwnedOp::Conv2d(_, p) = &m.ops[0] else {
        panic!()
    };
    // PyTorch [o, i, kh, kw] == ours [o, kh, kw, i].
    for o in 0..4 {
        for i in 0..3 {
            for kh in 0..3 {
                for kw in 0..3 {
                    let pt = vals[((o * 3 + i) * 3 + kh) * 3 + kw];
                    let ours = p[((o * 3 + kh) * 3 + kw) * 3 + i];
                    assert_eq!(pt, ours);
                }
            }
        }
    }
}

/// Little-endian bytes of f32 values.
fn le(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// A file in PyTorch layout built here with the `safetensors` serializer, each value a known
/// function of its PyTorch index, imports to the same values at the transposed positions.
#[test]
fn hand_built_pytorch_file_imports_to_the_right_values() {
    let mut rng = SplitMix64::new(4);
    let mut m = model(vec![
        conv2d(4, 4, 2, 3, 2, true, &mut rng), // weight [3, 2, 2, 2] OIHW
        depthwise(3, 3, 3, 2, 2, &mut rng),    // weight [6, 1, 2, 2]
        conv1d(4, 2, 3, 2, &mut rng),          // weight [3, 2, 2] OIK
        dense(5, 2, &mut rng),                 // weight [2, 5]
        batch_norm(1, 2, &mut rng),
    ]);
    let f4 = |a: usize, b: usize, c: usize, d: usize| (a * 1000 + b * 100 + c * 10 + d) as f32;
    let conv_w: Vec<f32> = (0..3)
        .flat_map(|o| {
            (0..2).flat_map(move |i| (0..2).flat_map(move |h| (0..2).map(move |w| f4(o, i, h, w))))
        })
        .collect();
    let dw_w: Vec<f32> = (0..6)
        .flat_map(|c| (0..2).flat_map(move |h| (0..2).map(move |w| f4(c, 0, h, w))))
        .collect();
    let c1_w: Vec<f32> = (0..3)
        .flat_map(|o| (0..2).flat_map(move |i| (0..2).map(move |k| f4(o, i, k, 0))))
        .collect();
    let d_w: Vec<f32> = (0..10).map(|j| j as f32 * 0.5).collect();
    let tensors: Vec<(&str, Vec<usize>, Vec<f32>)> = vec![
        ("layers.0.conv2d.weight", vec![3, 2, 2, 2], conv_w),
        ("layers.0.conv2d.bias", vec![3], vec![1.0, 2.0, 3.0]),
        ("layers.1.depthwise_conv2d.weight", vec![6, 1, 2, 2], dw_w),
        ("layers.1.depthwise_conv2d.bias", vec![6], vec![-1.0; 6]),
        ("layers.2.conv1d.weight", vec![3, 2, 2], c1_w),
        ("layers.2.conv1d.bias", vec![3], vec![0.25; 3]),
        ("layers.3.dense.weight", vec![2, 5], d_w),
        ("layers.3.dense.bias", vec![2], vec![7.0, 8.0]),
        ("layers.4.batch_norm.gamma", vec![2], vec![1.5, 2.5]),
        ("layers.4.batch_norm.beta", vec![2], vec![0.1, 0.2]),
        ("layers.4.batch_norm.running_mean", vec![2], vec![0.3, 0.4]),
        ("layers.4.batch_norm.running_var", vec![2], vec![0.5, 0.6]),
        (
            "layers.4.batch_norm.num_batches_tracked",
            vec![1],
            vec![0.0],
        ),
    ];
    let data: Vec<Vec<u8>> = tensors.iter().map(|t| le(&t.2)).collect();
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .zip(&data)
        .map(|(t, d)| (t.0, TensorView::new(Dtype::F32, t.1.clone(), d).unwrap()))
        .collect();
    let bytes = safetensors::serialize(views, &None).unwrap();
    import(&bytes, &mut m, Layout::Pytorch).unwrap();

    let OwnedOp::Conv2d(_, p) = &m.ops[0] else {
        panic!()
    };
    for o in 0..3 {
        for h in 0..2 {
            for w in 0..2 {
                for i in 0..2 {
                    assert_eq!(p[((o * 2 + h) * 2 + w) * 2 + i], f4(o, i, h, w));
                }
            }
        }
    }
    assert_eq!(&p[24..], [1.0, 2.0, 3.0]);
    let OwnedOp::DepthwiseConv2d(_, p) = &m.ops[1] else {
        panic!()
    };
    for h in 0..2 {
        for w in 0..2 {
            for c in 0..6 {
                assert_eq!(p[(h * 2 + w) * 6 + c], f4(c, 0, h, w));
            }
        }
    }
    let OwnedOp::Conv1d(_, p) = &m.ops[2] else {
        panic!()
    };
    for o in 0..3 {
        for k in 0..2 {
            for i in 0..2 {
                assert_eq!(p[(o * 2 + k) * 2 + i], f4(o, i, k, 0));
            }
        }
    }
    let OwnedOp::Dense(_, p) = &m.ops[3] else {
        panic!()
    };
    assert_eq!(
        p[..10],
        (0..10).map(|j| j as f32 * 0.5).collect::<Vec<_>>()[..]
    );
    assert_eq!(p[10..], [7.0, 8.0]);
    let OwnedOp::BatchNorm(_, p, s) = &m.ops[4] else {
        panic!()
    };
    assert_eq!(p[..], [1.5, 2.5, 0.1, 0.2]);
    assert_eq!(s[..], [0.3, 0.4, 0.5, 0.6]);
}

/// Serializes `(name, dtype, shape, bytes)` tensors.
fn file(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(&str, TensorView)> = tensors
        .iter()
        .map(|t| (t.0, TensorView::new(t.1, t.2.clone(), &t.3).unwrap()))
        .collect();
    safetensors::serialize(views, &None).unwrap()
}

#[test]
fn import_errors_name_the_tensor_and_leave_the_model_unchanged() {
    let mut rng = SplitMix64::new(5);
    let m = model(vec![dense(3, 2, &mut rng)]);
    let good_w = le(&[0.5; 6]);
    let good_b = le(&[0.5; 2]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Missing bias.
        (
            file(&[(
                "layers.0.dense.weight",
                Dtype::F32,
                vec![2, 3],
                good_w.clone(),
            )]),
            "tensor layers.0.dense.bias: is missing",
        ),
        // Wrong dtype.
        (
            file(&[
                ("layers.0.dense.weight", Dtype::F64, vec![2, 3], vec![0; 48]),
                ("layers.0.dense.bias", Dtype::F32, vec![2], good_b.clone()),
            ]),
            "tensor layers.0.dense.weight: has dtype F64, expected F32",
        ),
        // Wrong shape (transposed).
        (
            file(&[
                (
                    "layers.0.dense.weight",
                    Dtype::F32,
                    vec![3, 2],
                    good_w.clone(),
                ),
                ("layers.0.dense.bias", Dtype::F32, vec![2], good_b.clone()),
            ]),
            "tensor layers.0.dense.weight: has shape [3, 2], expected [2, 3]",
        ),
        // An extra tensor.
        (
            file(&[
                (
                    "layers.0.dense.weight",
                    Dtype::F32,
                    vec![2, 3],
                    good_w.clone(),
                ),
                ("layers.0.dense.bias", Dtype::F32, vec![2], good_b.clone()),
                ("layers.1.dense.weight", Dtype::F32, vec![2], good_b.clone()),
            ]),
            "tensor layers.1.dense.weight: is not a parameter of the model",
        ),
        // Not safetensors at all.
        (vec![1, 2, 3], "safetensors: not readable"),
        (Vec::new(), "safetensors: not readable"),
    ];
    for (bytes, want) in cases {
        let mut target = m.clone();
        let e = import(&bytes, &mut target, Layout::Tinytune).unwrap_err();
        assert!(e.to_string().starts_with(want), "{e} (wanted {want})");
        assert_eq!(target, m, "unchanged after {want}");
    }
    // num_batches_tracked is only ignored in the PyTorch layout.
    let extra = file(&[
        (
            "layers.0.dense.weight",
            Dtype::F32,
            vec![2, 3],
            good_w.clone(),
        ),
        ("layers.0.dense.bias", Dtype::F32, vec![2], good_b.clone()),
        (
            "layers.0.dense.num_batches_tracked",
            Dtype::F32,
            vec![1],
            le(&[1.0]),
        ),
    ]);
    let mut target = m.clone();
    assert!(import(&extra, &mut target, Layout::Tinytune).is_err());
    import(&extra, &mut target, Layout::Pytorch).unwrap();
    let OwnedOp::Dense(_, p) = &target.ops[0] else {
        panic!()
    };
    assert_eq!(p[..], [0.5; 8]);
}

#[test]
fn int8_models_and_inconsistent_buffers_are_export_errors() {
    let mut rng = SplitMix64::new(6);
    let m = model(vec![dense(3, 2, &mut rng)]);
    let calib = uniform(&mut rng, 30, -1.0, 1.0);
    let (q, _) = quantize(&m, &calib, QuantizeOptions::default()).unwrap();
    let e = export(&q, Layout::Tinytune).unwrap_err();
    assert!(e.to_string().starts_with("op 0 (quantize)"), "{e}");
    let mut short = m.clone();
    if let OwnedOp::Dense(_, p) = &mut short.ops[0] {
        p.pop();
    }
    let e = export(&short, Layout::Tinytune).unwrap_err();
    assert!(e.to_string().starts_with("op 0 (dense)"), "{e}");
    let mut target = short.clone();
    assert!(import(
        &export(&m, Layout::Tinytune).unwrap(),
        &mut target,
        Layout::Tinytune
    )
    .is_err());
}

#[test]
fn files_round_trip_and_a_missing_file_is_an_io_error_naming_it() {
    use tinytune_cli::model::PipelineError;
    use tinytune_cli::safetensors::{export_file, import_file};
    let m = full_model(7);
    let path = std::env::temp_dir().join(format!(
        "cli_safetensors_{}.safetensors",
        std::process::id()
    ));
    export_file(&m, Layout::Pytorch, &path).unwrap();
    let mut z = zeroed(&m);
    import_file(&path, &mut z, Layout::Pytorch).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(z, m);
    match import_file(&path, &mut z, Layout::Pytorch) {
        Err(PipelineError::Io { path: p, .. }) => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }
}
