//! The skip-gram model and its two updates for one (centre, context) pair.

use super::{HuffmanTree, Objective, Score, Word2VecConfig};
use crate::error::{check_len, Buffer, Error, ShapeError};
use crate::rng::{uniform_range_f32, RngCore};

/// A skip-gram model over caller-owned buffers: the word vectors (`input`, `[vocab, dim]`, the
/// embeddings one keeps), the context vectors (`output`: `[vocab, dim]` for negative sampling,
/// `[vocab − 1, dim]` node vectors for the hierarchical softmax) and `dim` floats of scratch.
///
/// The buffers may come from anywhere: fresh ([`init`](Self::init)), or copied from a trained
/// model (a `.ttm` embedding in flash) to keep training on the device.
#[derive(Debug)]
pub struct Word2Vec<'a> {
    config: Word2VecConfig,
    input: &'a mut [f32],
    output: &'a mut [f32],
    /// The update of the centre word's vector, summed over its targets (`word2vec.c`'s `neu1e`).
    grad: &'a mut [f32],
}

impl<'a> Word2Vec<'a> {
    /// A model over the given buffers (their values are kept: call [`init`](Self::init) for a
    /// fresh one).
    ///
    /// # Shapes
    /// - `input`: `[vocab, dim]`
    /// - `output`: `[vocab, dim]` (negative sampling) or `[vocab − 1, dim]` (hierarchical softmax)
    /// - `scratch`: at least `[dim]`
    ///
    /// # Errors
    /// As [`Word2VecConfig::validate`]; [`ShapeError::Length`] with [`Buffer::WordVectors`],
    /// [`Buffer::ContextVectors`] or [`Buffer::Scratch`] for a buffer of the wrong length.
    pub fn new(
        config: Word2VecConfig,
        input: &'a mut [f32],
        output: &'a mut [f32],
        scratch: &'a mut [f32],
    ) -> Result<Self, Error> {
        config.validate()?;
        check_len(Buffer::WordVectors, config.input_len()?, input.len())?;
        check_len(Buffer::ContextVectors, config.output_len()?, output.len())?;
        if scratch.len() < config.dim {
            return Err(ShapeError::Length {
                buffer: Buffer::Scratch,
                expected: config.dim,
                actual: scratch.len(),
            }
            .into());
        }
        let (grad, _) = scratch.split_at_mut(config.dim);
        Ok(Word2Vec {
            config,
            input,
            output,
            grad,
        })
    }

    /// `word2vec.c`'s initialisation: word vectors uniform in `±0.5 / dim`, drawn row by row,
    /// context vectors 0.
    pub fn init<R: RngCore + ?Sized>(&mut self, rng: &mut R) {
        let half = 0.5 / self.config.dim as f32;
        for v in self.input.iter_mut() {
            *v = uniform_range_f32(rng, -half, half);
        }
        self.output.fill(0.0);
    }

    /// The configuration.
    pub fn config(&self) -> &Word2VecConfig {
        &self.config
    }

    /// The vector of `word`, or `None` outside `0..vocab`.
    pub fn vector(&self, word: u32) -> Option<&[f32]> {
        row(self.input, word as usize, self.config.dim)
    }

    /// The word vectors, `[vocab, dim]`.
    pub fn input(&self) -> &[f32] {
        self.input
    }

    /// The context (or node) vectors.
    pub fn output(&self) -> &[f32] {
        self.output
    }

    /// One skip-gram update with negative sampling: centre `center` against `context` (label 1)
    /// and `negatives` (label 0; one equal to `context` is skipped, as in `word2vec.c`), with
    /// learning rate `alpha`. See the [module docs](super) for the equations.
    ///
    /// Returns the loss before the update, `−ln σ(in·out[context]) − Σ ln σ(−in·out[neg])` over
    /// the negatives used (σ not clipped here).
    ///
    /// # Shapes
    /// - `negatives`: any number of word ids
    ///
    /// # Errors
    /// [`Error::Index`] for an id outside `0..vocab` (position 0: `center`, 1: `context`,
    /// `2 + i`: `negatives[i]`); [`Error::Config`] if the model uses the hierarchical softmax.
    /// Nothing is changed on error.
    pub fn update_negative(
        &mut self,
        center: u32,
        context: u32,
        negatives: &[u32],
        alpha: f32,
    ) -> Result<f32, Error> {
        if self.config.objective != Objective::NegativeSampling {
            return Err(Error::Config);
        }
        let vocab = self.config.vocab;
        let ids = [center, context]
            .into_iter()
            .chain(negatives.iter().copied());
        if let Some(position) = ids.clone().position(|w| w as usize >= vocab) {
            return Err(Error::Index {
                position,
                len: vocab,
            });
        }
        let mut loss = self.begin_pair(center, context, alpha);
        for &n in negatives {
            if n != context {
                loss += self.negative_target(center, n, alpha);
            }
        }
        self.finish_pair(center);
        Ok(loss)
    }

    /// One skip-gram update with the hierarchical softmax: centre `center` against the inner
    /// nodes on `context`'s path in `tree`, label `1 − code` at each, with learning rate
    /// `alpha`. A node where `|in·node| > 6` is skipped, as in `word2vec.c`.
    ///
    /// Returns the loss before the update, `−Σ ln σ((1 − 2·code)·in·node)` along the path.
    ///
    /// # Shapes
    /// - `tree`: over the model's `vocab` words
    ///
    /// # Errors
    /// [`Error::Index`] for an id outside `0..vocab` (position 0: `center`, 1: `context`);
    /// [`Error::Config`] if the model uses negative sampling or `tree` is over another number of
    /// words. Nothing is changed on error.
    pub fn update_hierarchical(
        &mut self,
        center: u32,
        context: u32,
        tree: &HuffmanTree<'_>,
        alpha: f32,
    ) -> Result<f32, Error> {
        let vocab = self.config.vocab;
        if self.config.objective != Objective::HierarchicalSoftmax || tree.vocab() != vocab {
            return Err(Error::Config);
        }
        if let Some(position) = [center, context].iter().position(|&w| w as usize >= vocab) {
            return Err(Error::Index {
                position,
                len: vocab,
            });
        }
        self.grad.fill(0.0);
        let dim = self.config.dim;
        let mut loss = 0.0;
        if let Some(v) = row(self.input, center as usize, dim) {
            for (node, code) in tree.path(context) {
                let Some(out) = row_mut(self.output, node as usize, dim) else {
                    continue;
                };
                let f = dot(v, out);
                let score = Score::of(f);
                loss += if code == 0 {
                    score.loss_positive
                } else {
                    score.loss_negative
                };
                if !(-super::MAX_EXP..=super::MAX_EXP).contains(&f) {
                    continue;
                }
                let g = (1.0 - code as f32 - score.clipped) * alpha;
                axpy(self.grad, g, out);
                axpy(out, g, v);
            }
        }
        self.apply(center);
        Ok(loss)
    }

    /// Starts a negative-sampling update: clears the centre's update and does the context word
    /// (label 1). Returns its loss. The ids were checked.
    #[inline]
    pub(super) fn begin_pair(&mut self, center: u32, context: u32, alpha: f32) -> f32 {
        self.grad.fill(0.0);
        self.step(center, context, 1.0, alpha)
    }

    /// One negative (label 0) of the update begun by [`begin_pair`](Self::begin_pair).
    #[inline]
    pub(super) fn negative_target(&mut self, center: u32, negative: u32, alpha: f32) -> f32 {
        self.step(center, negative, 0.0, alpha)
    }

    /// Ends the update: `in[center] += e`.
    #[inline]
    pub(super) fn finish_pair(&mut self, center: u32) {
        self.apply(center);
    }

    /// One target of negative sampling: updates `out[target]`, adds to the centre's update, and
    /// returns the target's loss. The ids were checked.
    #[inline]
    fn step(&mut self, center: u32, target: u32, label: f32, alpha: f32) -> f32 {
        let dim = self.config.dim;
        let (Some(v), Some(out)) = (
            row(self.input, center as usize, dim),
            row_mut(self.output, target as usize, dim),
        ) else {
            return 0.0;
        };
        let score = Score::of(dot(v, out));
        let g = (label - score.clipped) * alpha;
        axpy(self.grad, g, out);
        axpy(out, g, v);
        if label > 0.5 {
            score.loss_positive
        } else {
            score.loss_negative
        }
    }

    /// `in[center] += e`.
    #[inline]
    fn apply(&mut self, center: u32) {
        if let Some(v) = row_mut(self.input, center as usize, self.config.dim) {
            for (v, e) in v.iter_mut().zip(self.grad.iter()) {
                *v += e;
            }
        }
    }
}

/// Row `r` of a `[_, dim]` table.
#[inline]
fn row(table: &[f32], r: usize, dim: usize) -> Option<&[f32]> {
    table.get(r.checked_mul(dim)?..)?.get(..dim)
}

/// Row `r` of a `[_, dim]` table, mutable.
#[inline]
fn row_mut(table: &mut [f32], r: usize, dim: usize) -> Option<&mut [f32]> {
    table.get_mut(r.checked_mul(dim)?..)?.get_mut(..dim)
}

/// `a · b` for slices of equal length, in four interleaved partial sums (element `i` goes to
/// sum `i % 4`) added pairwise at the end: independent sums let the host vectorise the loop (a
/// single running sum is a serial chain of dependent additions), and the order is fixed, so
/// every target computes the same bits.
#[inline]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ac, ar) = a.as_chunks::<4>();
    let (bc, br) = b.as_chunks::<4>();
    let (mut s0, mut s1, mut s2, mut s3) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
    for (x, y) in ac.iter().zip(bc) {
        s0 += x[0] * y[0];
        s1 += x[1] * y[1];
        s2 += x[2] * y[2];
        s3 += x[3] * y[3];
    }
    let tail = ar.iter().zip(br).fold(0.0f32, |t, (x, y)| t + x * y);
    ((s0 + s2) + (s1 + s3)) + tail
}

/// `y += a · x`.
#[inline]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}
