//! Error paths of `train::distill`: mismatched widths, wrong buffers, bad labels and settings
//! return the documented error, never panic, and write nothing (parameters and gradients).

mod train_distill_common;

use tinytune::layers::activation::{ActivationConfig, ActivationKind};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::{AnyLayer, Sequential, TrainBuffers};
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::distill::{
    distill_buffer_lens, distill_epoch, distill_step, joint_buffer_lens, joint_epoch, joint_step,
    student_forward, student_scratch_len, write_stacked_params, DistillBuffers, JointConfig,
    KdConfig,
};
use tinytune::train::optim::{Adam, Sgd};
use tinytune::{Buffer, Error, ShapeError};
use train_distill_common::*;

/// An edit of the joint buffers that makes one of them wrong.
type Edit = Box<dyn Fn(&mut JointVecs)>;

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Error {
    ShapeError::Length {
        buffer,
        expected,
        actual,
    }
    .into()
}

/// Every wrong joint buffer, label, setting and batch gives its error; parameters, gradients
/// and optimizer state are unchanged after each.
#[test]
fn joint_step_errors_write_nothing() {
    let mut p = Tiny::random(1);
    let p0 = p.clone();
    let (x, y) = data(2, 3);
    {
        let (mut b, mut t, mut s) = p.build();
        let mut opt = Adam::new(1e-2);
        let lens = joint_buffer_lens(&b, &t, &s, 3, &opt);
        assert_eq!(lens.grads, 25 + 36 + 21 + 18);
        assert_eq!(lens.opt_state, 2 * lens.grads);
        assert_eq!(lens.logit_grads, 3 * 3 * K);
        assert_eq!(lens.hidden_grads, 2 * 3 * HID);
        let mut rng = SeededRng::seed_from_u64(0);
        let good = JointConfig::default();
        let mut run = |edit: &dyn Fn(&mut JointVecs), x: &[f32], y: &[u32], c: &JointConfig| {
            let mut v = JointVecs::new(lens);
            v.grads.fill(7.0);
            edit(&mut v);
            let (g, o) = (v.grads.clone(), v.opt.clone());
            let r = joint_step(
                &mut b,
                &mut t,
                &mut s,
                x,
                y,
                &mut v.bufs(),
                &mut rng,
                c,
                &mut opt,
            );
            assert_eq!((v.grads, v.opt), (g, o), "buffers written on {r:?}");
            r.unwrap_err()
        };
        let none = |_: &mut JointVecs| {};
        let cases: Vec<(Edit, Error)> = vec![
            (
                Box::new(|v| v.cache.pop().map(drop).unwrap()),
                len_err(Buffer::Cache, lens.cache, lens.cache - 1),
            ),
            (
                Box::new(|v| v.logit.pop().map(drop).unwrap()),
                len_err(Buffer::GradOutput, 27, 26),
            ),
            (
                Box::new(|v| v.hidden.pop().map(drop).unwrap()),
                len_err(Buffer::GradInput, 30, 29),
            ),
            (
                Box::new(|v| v.grads.push(7.0)),
                len_err(Buffer::GradParams, 100, 101),
            ),
            (
                Box::new(|v| v.scratch.pop().map(drop).unwrap()),
                len_err(Buffer::Scratch, lens.scratch, lens.scratch - 1),
            ),
            (
                Box::new(|v| v.opt.pop().map(drop).unwrap()),
                len_err(Buffer::OptimizerState, 200, 199),
            ),
        ];
        for (edit, expected) in &cases {
            assert_eq!(run(edit.as_ref(), &x, &y, &good), *expected);
        }
        assert_eq!(
            run(&none, &x[1..], &y, &good),
            len_err(Buffer::Input, 12, 11)
        );
        assert_eq!(run(&none, &[], &[], &good), ShapeError::Dimension.into());
        assert_eq!(
            run(&none, &x, &[0, 3, 1], &good),
            Error::Index {
                position: 1,
                len: 3
            }
        );
        for bad in [
            JointConfig {
                gamma: -0.1,
                kd: None,
            },
            JointConfig {
                gamma: f32::NAN,
                kd: None,
            },
            JointConfig {
                gamma: f32::INFINITY,
                kd: None,
            },
            JointConfig {
                gamma: 0.1,
                kd: Some(KdConfig {
                    temperature: 0.0,
                    alpha: 0.5,
                }),
            },
            JointConfig {
                gamma: 0.1,
                kd: Some(KdConfig {
                    temperature: 2.0,
                    alpha: 1.5,
                }),
            },
            JointConfig {
                gamma: 0.1,
                kd: Some(KdConfig {
                    temperature: f32::NAN,
                    alpha: 0.5,
                }),
            },
        ] {
            assert_eq!(run(&none, &x, &y, &bad), Error::Config);
        }
        // Epoch-level checks.
        let mut v = JointVecs::new(lens);
        let r = joint_epoch(
            &mut b,
            &mut t,
            &mut s,
            &x,
            &y,
            0,
            &mut v.bufs(),
            &mut rng,
            &good,
            &mut opt,
        );
        assert_eq!(r, Err(ShapeError::Dimension.into()));
        let r = joint_epoch(
            &mut b,
            &mut t,
            &mut s,
            &x,
            &y[..2],
            2,
            &mut v.bufs(),
            &mut rng,
            &good,
            &mut opt,
        );
        assert_eq!(r, Err(len_err(Buffer::Input, 8, 12)));
        assert_eq!(opt.step(), 0, "optimizer stepped on error");
    }
    assert_eq!(p, p0, "parameters changed on error");
}

fn dense(i: usize, o: usize, p: &mut [f32]) -> AnyLayer<'_> {
    DenseConfig {
        in_features: i,
        out_features: o,
        bias: true,
    }
    .init(p)
    .unwrap()
    .into()
}

/// Heads that do not read the bottom's width give `Error::Chain` (layer = the bottom's
/// length); heads of different class counts give `Length { Input2 }`; the stacked forward and
/// parameter writer check the same and their buffers.
#[test]
fn mismatched_widths_are_reported() {
    let mut p = Tiny::random(4);
    let (mut b, mut t, mut s) = p.build();
    let (mut w6, mut w4) = (vec![0.1f32; 6 * 3 + 3], vec![0.1f32; 5 * 4 + 4]);
    let mut wide = Sequential::new([dense(6, 3, &mut w6)]).unwrap(); // reads 6, bottom gives 5
    let mut four = Sequential::new([dense(5, 4, &mut w4)]).unwrap(); // 4 classes vs teacher's 3
    let (x, y) = data(1, 2);
    let mut opt = Sgd::new(0.1);
    let mut rng = SeededRng::seed_from_u64(0);
    let c = JointConfig::default();
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &wide, 2, &opt));
    let r = joint_step(
        &mut b,
        &mut t,
        &mut wide,
        &x,
        &y,
        &mut v.bufs(),
        &mut rng,
        &c,
        &mut opt,
    );
    assert_eq!(
        r,
        Err(Error::Chain {
            layer: 2,
            expected: HID,
            actual: 6
        })
    );
    let r = joint_step(
        &mut b,
        &mut wide,
        &mut s,
        &x,
        &y,
        &mut v.bufs(),
        &mut rng,
        &c,
        &mut opt,
    );
    assert_eq!(
        r,
        Err(Error::Chain {
            layer: 2,
            expected: HID,
            actual: 6
        })
    );
    let mut v = JointVecs::new(joint_buffer_lens(&b, &t, &four, 2, &opt));
    let r = joint_step(
        &mut b,
        &mut t,
        &mut four,
        &x,
        &y,
        &mut v.bufs(),
        &mut rng,
        &c,
        &mut opt,
    );
    assert_eq!(r, Err(len_err(Buffer::Input2, 4, 3)));

    let mut out = vec![0.0; 2 * K];
    let mut scratch = vec![0.0; 64];
    let r = student_forward(&b, &wide, 2, &x, &mut out, &mut scratch);
    assert_eq!(
        r,
        Err(Error::Chain {
            layer: 2,
            expected: HID,
            actual: 6
        })
    );
    let need = student_scratch_len(&b, &s, 2);
    let r = student_forward(&b, &s, 2, &x, &mut out, &mut scratch[..need - 1]);
    assert_eq!(r, Err(len_err(Buffer::Scratch, need, need - 1)));
    let r = student_forward(&b, &s, 2, &x, &mut out[1..], &mut scratch);
    assert_eq!(r, Err(len_err(Buffer::Output, 6, 5)));
    let r = student_forward(&b, &s, 2, &x[1..], &mut out, &mut scratch);
    assert_eq!(r, Err(len_err(Buffer::Input, 8, 7)));
    let mut flat = vec![9.0; 43];
    assert_eq!(
        write_stacked_params(&b, &wide, &mut flat),
        Err(Error::Chain {
            layer: 2,
            expected: 5,
            actual: 6
        })
    );
    assert_eq!(
        write_stacked_params(&b, &s, &mut flat[1..]),
        Err(len_err(Buffer::Params, 43, 42))
    );
    assert!(flat.iter().all(|&v| v == 9.0));
    let _ = (&mut t, &mut s);
}

/// Two-stage errors: bad settings, class-count and input-width mismatch, every wrong buffer
/// and label; the student's parameters and gradients are unchanged.
#[test]
fn distill_step_errors_write_nothing() {
    let mut r = tinytune_host_tests::rng::SplitMix64::new(3);
    let (mut t1, mut t2) = (
        r.f32_vec(IN * THID + THID, -1.0, 1.0),
        r.f32_vec(THID * K + K, -1.0, 1.0),
    );
    let (mut s1, mut s2) = (
        r.f32_vec(IN * HID + HID, -1.0, 1.0),
        r.f32_vec(HID * K + K, -1.0, 1.0),
    );
    let mut w4 = vec![0.1f32; 6 * 4 + 4];
    let mut w5 = [0.1f32; 5 * 6 + 6];
    let s_before = [s1.clone(), s2.clone()].concat();
    let relu = |len| -> AnyLayer<'static> {
        ActivationConfig {
            kind: ActivationKind::Relu,
            len,
        }
        .init()
        .unwrap()
        .into()
    };
    {
        let teacher = Sequential::new([
            dense(IN, THID, &mut t1),
            relu(THID),
            dense(THID, K, &mut t2),
        ])
        .unwrap();
        let mut student =
            Sequential::new([dense(IN, HID, &mut s1), relu(HID), dense(HID, K, &mut s2)]).unwrap();
        let (x, y) = data(5, 2);
        let kd = KdConfig {
            temperature: 2.0,
            alpha: 0.5,
        };
        let lens = distill_buffer_lens(&teacher, &student, 2);
        let mut opt = Sgd::new(0.1).with_momentum(0.9);
        let mut rng = SeededRng::seed_from_u64(0);
        let mut run = |shrink: usize, x: &[f32], y: &[u32], kd: &KdConfig| {
            let l = lens.train;
            let mut bufs: Vec<Vec<f32>> = [
                l.cache,
                l.grad_output,
                l.grads,
                l.scratch,
                l.grads,
                lens.teacher_logits,
            ]
            .iter()
            .map(|&n| vec![3.0; n])
            .collect();
            if shrink < 6 {
                bufs[shrink].pop();
            }
            let before = (bufs[2].clone(), bufs[4].clone());
            let [c, go, g, sc, os, tl] = &mut bufs[..] else {
                unreachable!()
            };
            let mut d = DistillBuffers {
                train: TrainBuffers {
                    cache: c,
                    grad_output: go,
                    grads: g,
                    scratch: sc,
                    opt_state: os,
                },
                teacher_logits: tl,
            };
            let res = distill_step(&teacher, &mut student, x, y, kd, &mut d, &mut rng, &mut opt);
            assert_eq!(
                (bufs[2].clone(), bufs[4].clone()),
                before,
                "written on {res:?}"
            );
            res.unwrap_err()
        };
        let l = lens.train;
        assert_eq!(
            run(0, &x, &y, &kd),
            len_err(Buffer::Cache, l.cache, l.cache - 1)
        );
        assert_eq!(run(1, &x, &y, &kd), len_err(Buffer::GradOutput, 6, 5));
        assert_eq!(
            run(2, &x, &y, &kd),
            len_err(Buffer::GradParams, l.grads, l.grads - 1)
        );
        assert_eq!(
            run(3, &x, &y, &kd),
            len_err(Buffer::Scratch, l.scratch, l.scratch - 1)
        );
        assert_eq!(
            run(4, &x, &y, &kd),
            len_err(Buffer::OptimizerState, l.grads, l.grads - 1)
        );
        assert_eq!(run(5, &x, &y, &kd), len_err(Buffer::Output, 6, 5));
        assert_eq!(run(9, &x[1..], &y, &kd), len_err(Buffer::Input, 8, 7));
        assert_eq!(
            run(9, &x, &[2, 5], &kd),
            Error::Index {
                position: 1,
                len: 3
            }
        );
        assert_eq!(run(9, &[], &[], &kd), ShapeError::Dimension.into());
        for bad in [
            KdConfig {
                temperature: -1.0,
                alpha: 0.5,
            },
            KdConfig {
                temperature: f32::INFINITY,
                alpha: 0.5,
            },
            KdConfig {
                temperature: 2.0,
                alpha: -0.1,
            },
            KdConfig {
                temperature: 2.0,
                alpha: f32::NAN,
            },
        ] {
            assert_eq!(run(9, &x, &y, &bad), Error::Config);
        }
        let mut tl = vec![0.0; 2 * 4];
        let mut sm = [
            vec![0.0; 64],
            vec![0.0; 64],
            vec![0.0; l.grads],
            vec![0.0; 64],
            vec![0.0; l.grads],
        ];
        let [c, go, g, sc, os] = &mut sm;
        let mut d = DistillBuffers {
            train: TrainBuffers {
                cache: c,
                grad_output: go,
                grads: g,
                scratch: sc,
                opt_state: os,
            },
            teacher_logits: &mut tl,
        };
        // A teacher with 4 classes against a 3-class student.
        let t4 = Sequential::new([
            dense(IN, THID, &mut w5[..IN * THID + THID]),
            relu(THID),
            dense(THID, 4, &mut w4),
        ])
        .unwrap();
        let res = distill_step(&t4, &mut student, &x, &y, &kd, &mut d, &mut rng, &mut opt);
        assert_eq!(res, Err(len_err(Buffer::Input2, 3, 4)));
        // A teacher reading 5 values per sample.
        let mut w55 = vec![0.1f32; 5 * 3 + 3];
        let t5 = Sequential::new([dense(5, K, &mut w55)]).unwrap();
        let res = distill_step(&t5, &mut student, &x, &y, &kd, &mut d, &mut rng, &mut opt);
        assert_eq!(res, Err(len_err(Buffer::Input, 10, 8)));
        let res = distill_epoch(
            &teacher,
            &mut student,
            &x,
            &y,
            0,
            &kd,
            &mut d,
            &mut rng,
            &mut opt,
        );
        assert_eq!(res, Err(ShapeError::Dimension.into()));
    }
    assert_eq!([s1, s2].concat(), s_before, "student changed on error");
}
