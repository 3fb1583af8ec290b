//! Sequential plumbing tested with two tiny layers whose gradients are known in closed form:
//! `Scale` (y = w ⊙ x, one trainable weight per feature) and `Square` (y = x²). The layers
//! themselves are tested in the host tests.

use super::*;
use crate::layers::{check_backward, check_io, Params};
use crate::rng::{SeedableRng, SeededRng};

struct Scale<'a>(Params<'a>);

impl Layer for Scale<'_> {
    fn input_len(&self) -> usize {
        self.0.len()
    }
    fn output_len(&self) -> usize {
        self.0.len()
    }
    fn param_len(&self) -> usize {
        self.0.len()
    }
    fn params(&self) -> &[f32] {
        self.0.as_slice()
    }
    fn params_mut(&mut self) -> Option<&mut [f32]> {
        self.0.as_mut_slice()
    }
    fn is_trainable(&self) -> bool {
        self.0.is_trainable()
    }
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.input_len(),
            self.output_len(),
            input.len(),
            output.len(),
        )?;
        let w = self.0.as_slice();
        for (x, y) in input
            .chunks_exact(w.len())
            .zip(output.chunks_exact_mut(w.len()))
        {
            for ((x, y), w) in x.iter().zip(y.iter_mut()).zip(w) {
                *y = x * w;
            }
        }
        Ok(())
    }
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        mut grad_input: Option<&mut [f32]>,
        mut grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        check_backward(
            self,
            batch,
            input.len(),
            output.len(),
            cache.len(),
            grad_output.len(),
            grad_input.as_deref().map(<[f32]>::len),
            grad_params.as_deref().map(<[f32]>::len),
        )?;
        let w = self.0.as_slice();
        let n = w.len();
        for b in 0..batch {
            for j in 0..n {
                let g = grad_output[b * n + j];
                if let Some(gi) = grad_input.as_deref_mut() {
                    gi[b * n + j] = g * w[j];
                }
                if let Some(gp) = grad_params.as_deref_mut() {
                    gp[j] += g * input[b * n + j];
                }
            }
        }
        Ok(())
    }
}

struct Square(usize);

impl Layer for Square {
    fn input_len(&self) -> usize {
        self.0
    }
    fn output_len(&self) -> usize {
        self.0
    }
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(batch, self.0, self.0, input.len(), output.len())?;
        for (x, y) in input.iter().zip(output.iter_mut()) {
            *y = x * x;
        }
        Ok(())
    }
    fn backward(
        &self,
        _batch: usize,
        input: &[f32],
        _output: &[f32],
        _cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        _grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        if let Some(gi) = grad_input {
            for ((gi, g), x) in gi.iter_mut().zip(grad_output).zip(input) {
                *gi = 2.0 * x * g;
            }
        }
        Ok(())
    }
}

enum Either<'a> {
    Scale(Scale<'a>),
    Square(Square),
}

impl Layer for Either<'_> {
    fn input_len(&self) -> usize {
        match self {
            Either::Scale(l) => l.input_len(),
            Either::Square(l) => l.input_len(),
        }
    }
    fn output_len(&self) -> usize {
        match self {
            Either::Scale(l) => l.output_len(),
            Either::Square(l) => l.output_len(),
        }
    }
    fn param_len(&self) -> usize {
        match self {
            Either::Scale(l) => l.param_len(),
            Either::Square(_) => 0,
        }
    }
    fn params_mut(&mut self) -> Option<&mut [f32]> {
        match self {
            Either::Scale(l) => l.params_mut(),
            Either::Square(_) => None,
        }
    }
    fn is_trainable(&self) -> bool {
        matches!(self, Either::Scale(l) if l.is_trainable())
    }
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        match self {
            Either::Scale(l) => l.forward(batch, input, output),
            Either::Square(l) => l.forward(batch, input, output),
        }
    }
    fn backward(
        &self,
        batch: usize,
        input: &[f32],
        output: &[f32],
        cache: &[f32],
        grad_output: &[f32],
        grad_input: Option<&mut [f32]>,
        grad_params: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        match self {
            Either::Scale(l) => l.backward(
                batch,
                input,
                output,
                cache,
                grad_output,
                grad_input,
                grad_params,
            ),
            Either::Square(l) => l.backward(
                batch,
                input,
                output,
                cache,
                grad_output,
                grad_input,
                grad_params,
            ),
        }
    }
}

/// y = (w2 ⊙ (w1 ⊙ x)²); with L = Σ g y by hand: dL/dw2 = g (w1 x)², dL/dw1 = g w2 2 (w1 x) x.
#[test]
fn forward_and_backward_match_hand_derivatives() {
    let mut w1 = [0.5f32, -1.5];
    let mut w2 = [2.0f32, 0.25];
    let mut model = Sequential::new([
        Either::Scale(Scale(Params::Trainable(&mut w1))),
        Either::Square(Square(2)),
        Either::Scale(Scale(Params::Trainable(&mut w2))),
    ])
    .unwrap();
    assert_eq!(model.param_len(), 4);
    assert_eq!(model.cache_len(3), 18);
    assert_eq!(model.scratch_len(3), 12);

    let x = [1.0f32, 2.0, -1.0, 0.5, 3.0, -2.0];
    let g = [1.0f32, -1.0, 0.5, 2.0, -0.25, 1.0];
    let mut out = [0.0f32; 6];
    let mut scratch = [0.0f32; 12];
    model.forward(3, &x, &mut out, &mut scratch).unwrap();
    let want_y = |b: usize, j: usize| {
        let w1 = [0.5f32, -1.5];
        let w2 = [2.0f32, 0.25];
        let h = w1[j] * x[b * 2 + j];
        w2[j] * h * h
    };
    for b in 0..3 {
        for j in 0..2 {
            assert_eq!(out[b * 2 + j], want_y(b, j));
        }
    }

    let mut cache = [0.0f32; 18];
    let mut rng = SeededRng::seed_from_u64(0);
    let y = model.forward_train(3, &x, &mut cache, &mut rng).unwrap();
    assert_eq!(y, &out[..]);
    let mut grads = [0.0f32; 4];
    model
        .backward(3, &x, &cache, &g, &mut grads, &mut scratch)
        .unwrap();
    let (w1v, w2v) = ([0.5f32, -1.5], [2.0f32, 0.25]);
    let mut want = [0.0f32; 4];
    for b in 0..3 {
        for j in 0..2 {
            let xv = x[b * 2 + j];
            let h = w1v[j] * xv;
            want[j] += g[b * 2 + j] * w2v[j] * 2.0 * h * xv;
            want[2 + j] += g[b * 2 + j] * h * h;
        }
    }
    for (a, b) in grads.iter().zip(want) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn frozen_layers_get_no_gradient_slot_and_stop_the_backward_pass() {
    let w1 = [0.5f32, -1.5];
    let mut w2 = [2.0f32, 0.25];
    let mut model = Sequential::new([
        Either::Scale(Scale(Params::Frozen(&w1))),
        Either::Square(Square(2)),
        Either::Scale(Scale(Params::Trainable(&mut w2))),
    ])
    .unwrap();
    assert_eq!(model.param_len(), 2);
    let x = [1.0f32, 2.0];
    let mut cache = [0.0f32; 6];
    let mut rng = SeededRng::seed_from_u64(0);
    model.forward_train(1, &x, &mut cache, &mut rng).unwrap();
    let mut grads = [0.0f32; 2];
    let mut scratch = [0.0f32; 4];
    model
        .backward(1, &x, &cache, &[1.0, 1.0], &mut grads, &mut scratch)
        .unwrap();
    assert_eq!(grads, [0.25, 9.0]);
    model
        .update_params(&grads, |p, g| {
            p.iter_mut().zip(g).for_each(|(p, g)| *p -= g)
        })
        .unwrap();
    let Either::Scale(last) = &model.layers()[2] else {
        unreachable!()
    };
    assert_eq!(last.params(), &[1.75, -8.75]);
}

#[test]
fn mismatched_chain_names_the_layer() {
    let w = [1.0f32; 3];
    let err = Sequential::new([
        Either::Square(Square(2)),
        Either::Scale(Scale(Params::Frozen(&w))),
    ])
    .err();
    assert_eq!(
        err,
        Some(Error::Chain {
            layer: 1,
            expected: 2,
            actual: 3
        })
    );
}

#[test]
fn short_buffers_are_errors_not_panics() {
    let mut w = [1.0f32, 2.0];
    let mut model = Sequential::new([
        Either::Square(Square(2)),
        Either::Scale(Scale(Params::Trainable(&mut w))),
    ])
    .unwrap();
    let x = [1.0f32, 2.0];
    let mut out = [0.0f32; 2];
    let mut short = [0.0f32; 3];
    assert!(matches!(
        model.forward(1, &x, &mut out, &mut short),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Scratch,
            expected: 4,
            actual: 3
        }))
    ));
    let mut rng = SeededRng::seed_from_u64(0);
    assert!(matches!(
        model.forward_train(1, &x, &mut short, &mut rng),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Cache,
            ..
        }))
    ));
    assert!(matches!(
        model.forward(0, &[], &mut [], &mut short),
        Err(Error::Shape(ShapeError::Dimension))
    ));
}

/// Fits y = 3x elementwise with the training loop and plain gradient descent on the squared
/// error; the weights must converge to 3.
#[test]
fn train_epoch_fits_a_linear_scale() {
    let mut w = [0.0f32, 0.0];
    let mut model = Sequential::<_, 1>::new([Scale(Params::Trainable(&mut w))]).unwrap();
    let inputs = [1.0f32, -1.0, 0.5, 2.0, -0.5, 1.5, 2.0, 0.25];
    let targets: [f32; 8] = core::array::from_fn(|i| 3.0 * inputs[i]);
    let lens = model.train_buffer_lens(3);
    let (mut cache, mut go, mut grads, mut scratch) =
        ([0.0f32; 6], [0.0f32; 6], [0.0f32; 2], [0.0f32; 0]);
    assert_eq!(
        (lens.cache, lens.grad_output, lens.grads, lens.scratch),
        (6, 6, 2, 0)
    );
    let mut bufs = TrainBuffers {
        cache: &mut cache,
        grad_output: &mut go,
        grads: &mut grads,
        scratch: &mut scratch,
        opt_state: &mut [],
    };
    let mut rng = SeededRng::seed_from_u64(0);
    let mut last = f32::INFINITY;
    for _ in 0..200 {
        last = model
            .train_epoch(
                &inputs,
                &targets,
                3,
                &mut bufs,
                &mut rng,
                |out, t, grad| {
                    let mut sum = 0.0;
                    for ((o, t), g) in out.iter().zip(t).zip(grad.iter_mut()) {
                        sum += (o - t) * (o - t);
                        *g = 2.0 * (o - t) / out.len() as f32;
                    }
                    Ok(sum / out.len() as f32)
                },
                &mut |p: &mut [f32], g: &[f32]| {
                    p.iter_mut().zip(g).for_each(|(p, g)| *p -= 0.1 * g)
                },
            )
            .unwrap();
    }
    assert!(last < 1e-6, "loss {last}");
    let w = model.layers()[0].params();
    assert!(
        (w[0] - 3.0).abs() < 1e-3 && (w[1] - 3.0).abs() < 1e-3,
        "{w:?}"
    );
}

/// y = w2 ⊙ (w1 ⊙ x)²: dL/dx = g · w2 · 2 (w1 x) · w1, also through a frozen first layer.
#[test]
fn input_gradient_reaches_through_every_layer() {
    let w1 = [0.5f32, -1.5];
    let mut w2 = [2.0f32, 0.25];
    let mut model = Sequential::new([
        Either::Scale(Scale(Params::Frozen(&w1))),
        Either::Square(Square(2)),
        Either::Scale(Scale(Params::Trainable(&mut w2))),
    ])
    .unwrap();
    let x = [1.0f32, 2.0, -1.0, 0.5];
    let g = [1.0f32, -1.0, 0.5, 2.0];
    let mut cache = [0.0f32; 12];
    let mut rng = SeededRng::seed_from_u64(0);
    model.forward_train(2, &x, &mut cache, &mut rng).unwrap();
    let (mut grads, mut scratch, mut gx) = ([0.0f32; 2], [0.0f32; 8], [9.0f32; 4]);
    model
        .backward_with_input_grad(2, &x, &cache, &g, &mut grads, &mut scratch, &mut gx)
        .unwrap();
    let w2v = [2.0f32, 0.25];
    for i in 0..4 {
        let j = i % 2;
        let want = g[i] * w2v[j] * 2.0 * (w1[j] * x[i]) * w1[j];
        assert!(
            (gx[i] - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{i}: {} vs {want}",
            gx[i]
        );
    }
    assert!(matches!(
        model.backward_with_input_grad(2, &x, &cache, &g, &mut grads, &mut scratch, &mut [0.0; 3]),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::GradInput,
            ..
        }))
    ));
}
