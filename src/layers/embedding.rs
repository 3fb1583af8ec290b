//! Embedding: a lookup table from token ids to learned vectors.

use super::weighted::layer_params;
use super::{check_backward, check_io, Layer, Params};
use crate::error::{check_len, product, Buffer, Error, ShapeError};
use crate::rng::RngCore;
use crate::train::init::{Fans, Init};

/// Configuration of an [`Embedding`] layer.
///
/// # Buffers
/// - parameters (`vocab * dim`): the table `[vocab, dim]`, one row per token id
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EmbeddingConfig {
    /// Number of token ids (rows of the table).
    pub vocab: usize,
    /// Length of each embedding vector.
    pub dim: usize,
    /// Token ids per sample (as a [`Layer`]).
    pub seq_len: usize,
}

impl EmbeddingConfig {
    /// Number of parameters, `vocab * dim`.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] on overflow.
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(product(&[self.vocab, self.dim])?)
    }

    /// Validates the configuration and borrows the table.
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if a dimension is zero or a size overflows;
    /// [`ShapeError::Length`] with [`Buffer::Params`] if the table is not `vocab * dim` long.
    pub fn init<'a>(self, params: impl Into<Params<'a>>) -> Result<Embedding<'a>, Error> {
        if self.vocab == 0 || self.dim == 0 || self.seq_len == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let output_len = product(&[self.seq_len, self.dim])?;
        let table = params.into();
        check_len(Buffer::Params, self.param_len()?, table.len())?;
        Ok(Embedding {
            config: self,
            output_len,
            table,
        })
    }
}

/// An embedding layer: `output[s] = table[ids[s]]`.
///
/// As a [`Layer`] its input is `seq_len` token ids per sample stored as f32 (exact for ids below
/// 2^24); each must be an integer in `0..vocab`, or the call returns [`Error::Index`] with the
/// position of the first bad value in the input buffer (batch included) and writes nothing.
/// [`forward_ids`](Embedding::forward_ids) and [`backward_ids`](Embedding::backward_ids) take the
/// ids as `u32` directly.
///
/// The ids are not differentiable: backward fills `grad_input` (when given) with zeros, and adds
/// each output gradient row into the table row of its id (only the rows of used ids change;
/// repeated ids accumulate).
#[derive(Debug)]
pub struct Embedding<'a> {
    config: EmbeddingConfig,
    /// `seq_len * dim`, validated not to overflow.
    output_len: usize,
    table: Params<'a>,
}

/// The id an f32 input value stands for, if it is an integer in `0..vocab`.
fn id_of(value: f32, vocab: usize) -> Option<usize> {
    // The comparisons reject NaN; below 2^32 the cast is exact for integers on every target.
    if !(0.0..4_294_967_296.0).contains(&value) {
        return None;
    }
    let id = value as usize;
    (id as f32 == value && id < vocab).then_some(id)
}

impl<'a> Embedding<'a> {
    /// The validated configuration.
    pub fn config(&self) -> &EmbeddingConfig {
        &self.config
    }

    /// The table, `[vocab, dim]`.
    pub fn table(&self) -> &[f32] {
        self.table.as_slice()
    }

    /// Checks every id against the vocabulary: the first bad one is [`Error::Index`].
    fn check_ids(&self, ids: impl Iterator<Item = Option<usize>>) -> Result<(), Error> {
        let len = self.config.vocab;
        match ids.enumerate().find(|(_, id)| id.is_none()) {
            Some((position, _)) => Err(Error::Index { position, len }),
            None => Ok(()),
        }
    }

    fn row(&self, id: usize) -> &[f32] {
        self.table
            .as_slice()
            .chunks_exact(self.config.dim)
            .nth(id)
            .unwrap_or(&[])
    }

    /// Looks up `ids` (any number of them, not tied to `seq_len`).
    ///
    /// # Shapes
    /// - `ids`: `[n]`
    /// - `output`: `[n, dim]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `n * dim` overflows; [`ShapeError::Length`] with
    /// [`Buffer::Output`] for a wrong output length; [`Error::Index`] for the first id
    /// `>= vocab`. Nothing is written on error.
    pub fn forward_ids(&self, ids: &[u32], output: &mut [f32]) -> Result<(), Error> {
        let vocab = self.config.vocab;
        let n_out = product(&[ids.len(), self.config.dim])?;
        check_len(Buffer::Output, n_out, output.len())?;
        let as_id = |&id: &u32| usize::try_from(id).ok().filter(|&i| i < vocab);
        self.check_ids(ids.iter().map(as_id))?;
        self.gather(ids.iter().filter_map(as_id), output);
        Ok(())
    }

    /// Adds each row of `grad_output` into the row of `grad_table` of its id.
    ///
    /// # Shapes
    /// - `ids`: `[n]`
    /// - `grad_output`: `[n, dim]`
    /// - `grad_table`: `[vocab, dim]` (accumulated)
    ///
    /// # Errors
    /// [`Error::Frozen`] if the table is frozen; [`ShapeError::Dimension`] if `n * dim`
    /// overflows; [`ShapeError::Length`] with [`Buffer::GradOutput`] or [`Buffer::GradParams`]
    /// for a wrong length; [`Error::Index`] for the first id `>= vocab`. Nothing is written on
    /// error.
    pub fn backward_ids(
        &self,
        ids: &[u32],
        grad_output: &[f32],
        grad_table: &mut [f32],
    ) -> Result<(), Error> {
        if !self.table.is_trainable() {
            return Err(Error::Frozen);
        }
        let vocab = self.config.vocab;
        let n_out = product(&[ids.len(), self.config.dim])?;
        check_len(Buffer::GradOutput, n_out, grad_output.len())?;
        check_len(Buffer::GradParams, self.table.len(), grad_table.len())?;
        let as_id = |&id: &u32| usize::try_from(id).ok().filter(|&i| i < vocab);
        self.check_ids(ids.iter().map(as_id))?;
        self.scatter_add(ids.iter().filter_map(as_id), grad_output, grad_table);
        Ok(())
    }

    /// Copies the table row of each (valid) id into consecutive rows of `output`.
    fn gather(&self, ids: impl Iterator<Item = usize>, output: &mut [f32]) {
        for (out, id) in output.chunks_exact_mut(self.config.dim).zip(ids) {
            out.copy_from_slice(self.row(id));
        }
    }

    /// Adds consecutive rows of `grad_output` into the rows of `grad_table` of the (valid) ids.
    fn scatter_add(
        &self,
        ids: impl Iterator<Item = usize>,
        grad_output: &[f32],
        grad_table: &mut [f32],
    ) {
        let dim = self.config.dim;
        for (g, id) in grad_output.chunks_exact(dim).zip(ids) {
            if let Some(row) = grad_table.chunks_exact_mut(dim).nth(id) {
                row.iter_mut().zip(g).for_each(|(t, &g)| *t += g);
            }
        }
    }
}

impl Layer for Embedding<'_> {
    fn input_len(&self) -> usize {
        self.config.seq_len
    }

    fn output_len(&self) -> usize {
        self.output_len
    }

    layer_params!(table);

    /// Looks up the ids (stored as f32) of each sample.
    ///
    /// # Shapes
    /// - `input`: `[batch, seq_len]` token ids as f32
    /// - `output`: `[batch, seq_len, dim]`
    ///
    /// # Errors
    /// [`ShapeError::Dimension`] if `batch == 0` or a size overflows; [`ShapeError::Length`] for
    /// a wrong input or output length; [`Error::Index`] with the position (in `input`) of the
    /// first value that is not an integer in `0..vocab` (negative, too large, fractional, NaN).
    /// Nothing is written on error.
    fn forward(&self, batch: usize, input: &[f32], output: &mut [f32]) -> Result<(), Error> {
        check_io(
            batch,
            self.config.seq_len,
            self.output_len,
            input.len(),
            output.len(),
        )?;
        let vocab = self.config.vocab;
        self.check_ids(input.iter().map(|&v| id_of(v, vocab)))?;
        self.gather(input.iter().filter_map(|&v| id_of(v, vocab)), output);
        Ok(())
    }

    /// Fills `grad_input` with zeros (ids are not differentiable) and adds each row of
    /// `grad_output` into the table row of its id in `grad_params`.
    ///
    /// # Shapes
    /// - `input`: `[batch, seq_len]`, `grad_input`: `[batch, seq_len]`
    /// - `output`, `grad_output`: `[batch, seq_len, dim]`
    /// - `cache`: empty
    /// - `grad_params`: `[vocab, dim]` (accumulated)
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong buffer length or `batch == 0`; [`Error::Frozen`] if
    /// `grad_params` is given for a frozen table; [`Error::Index`] as
    /// [`forward`](Layer::forward). Nothing is written on error.
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
        let vocab = self.config.vocab;
        self.check_ids(input.iter().map(|&v| id_of(v, vocab)))?;
        if let Some(gi) = grad_input {
            gi.fill(0.0);
        }
        if let Some(gt) = grad_params {
            self.scatter_add(
                input.iter().filter_map(|&v| id_of(v, vocab)),
                grad_output,
                gt,
            );
        }
        Ok(())
    }

    /// Fills the table with `init`, with fans `(1, dim)`: the lookup is a product with a one-hot
    /// vector, so each output value sums exactly one input (the `1`) and each id feeds `dim`
    /// outputs. `Init::LeCunNormal` thus gives N(0, 1), PyTorch's default for embeddings.
    ///
    /// # Errors
    /// [`Error::Frozen`] if the table is frozen; [`Error::Config`] as [`Init::fill`].
    fn init_params<R: RngCore + ?Sized>(&mut self, init: Init, rng: &mut R) -> Result<(), Error> {
        let fans = Fans {
            fan_in: 1,
            fan_out: self.config.dim,
        };
        let table = self.table.as_mut_slice().ok_or(Error::Frozen)?;
        init.fill(table, fans, rng)
    }
}
