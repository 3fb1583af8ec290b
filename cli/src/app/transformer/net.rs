//! The transformer's layers over one parameter vector, chained by hand: forward (inference or
//! training) and backward.

use tinytune::layers::attention::{
    MeanPool, PoolConfig, SinusoidalEncoding, SinusoidalEncodingConfig, TransformerEncoder,
};
use tinytune::layers::dense::Dense;
use tinytune::layers::Layer;
use tinytune::rng::SeededRng;
use tinytune::{Error, ShapeError};

use super::spec::Spec;

/// The pieces built over a parameter vector.
pub(super) struct Layers<'a> {
    spec: Spec,
    pub(super) embed: Dense<'a>,
    pe: SinusoidalEncoding,
    pub(super) blocks: Vec<TransformerEncoder<'a>>,
    pool: MeanPool,
    pub(super) head: Dense<'a>,
    /// Scratch values of the block passes (the blocks work sample by sample).
    pub(super) scratch: usize,
}

/// The activations of one batch, kept for backward.
pub(super) struct Acts {
    /// Embedded rows `[batch·seq, width]`.
    embedded: Vec<f32>,
    /// Block inputs and the last output: `hidden[k]` is block k's input, `[batch, seq, width]`.
    hidden: Vec<Vec<f32>>,
    /// Each block's training cache.
    caches: Vec<Vec<f32>>,
    /// Pooled `[batch, width]`.
    pooled: Vec<f32>,
    /// `[batch, classes]`.
    pub(super) logits: Vec<f32>,
}

impl Acts {
    /// Zeroed activations for `batch` samples.
    pub(super) fn new(spec: &Spec, batch: usize) -> Self {
        let sw = batch * spec.seq * spec.width;
        Acts {
            embedded: vec![0.0; sw],
            hidden: vec![vec![0.0; sw]; spec.blocks + 1],
            caches: Vec::new(),
            pooled: vec![0.0; batch * spec.width],
            logits: vec![0.0; batch * spec.classes],
        }
    }
}

impl<'a> Layers<'a> {
    /// Assembles the pieces (the positional encoding and the pooling have no parameters).
    pub(super) fn new(
        spec: Spec,
        embed: Dense<'a>,
        blocks: Vec<TransformerEncoder<'a>>,
        head: Dense<'a>,
    ) -> Result<Self, Error> {
        let pe = SinusoidalEncodingConfig {
            seq: spec.seq,
            width: spec.width,
        }
        .init()?;
        let pool = PoolConfig {
            seq: spec.seq,
            width: spec.width,
        }
        .mean()?;
        let scratch = blocks.first().map_or(0, |b| b.scratch_len(1));
        Ok(Layers {
            spec,
            embed,
            pe,
            blocks,
            pool,
            head,
            scratch,
        })
    }

    /// Forward over `batch` samples `x` (`[batch, seq·features]`); training mode (dropout,
    /// caches filled) when `rng` is given.
    pub(super) fn forward(
        &self,
        batch: usize,
        x: &[f32],
        acts: &mut Acts,
        scratch: &mut [f32],
        mut rng: Option<&mut SeededRng>,
    ) -> Result<(), Error> {
        self.embed
            .forward(batch * self.spec.seq, x, &mut acts.embedded)?;
        let first = acts.hidden.first_mut().ok_or(Error::Config)?;
        self.pe.forward(batch, &acts.embedded, first)?;
        if rng.is_some() {
            acts.caches = self
                .blocks
                .iter()
                .map(|b| vec![0.0; b.cache_len(batch)])
                .collect();
        }
        for (k, block) in self.blocks.iter().enumerate() {
            let (done, next) = acts.hidden.split_at_mut(k + 1);
            let input = done.last().ok_or(Error::Config)?;
            let output = next.first_mut().ok_or(Error::Config)?;
            match rng.as_deref_mut() {
                Some(r) => {
                    let cache = acts.caches.get_mut(k).ok_or(Error::Config)?;
                    block.forward_train(batch, None, input, output, cache, scratch, r)?
                }
                None => block.forward(batch, None, input, output, scratch)?,
            }
        }
        let last = acts.hidden.last().ok_or(Error::Config)?;
        self.pool.forward(batch, None, last, &mut acts.pooled)?;
        self.head.forward(batch, &acts.pooled, &mut acts.logits)
    }

    /// Backward from `grad_logits` after a training forward, adding the parameter gradients
    /// into `grads` (the flat layout of the parameters).
    pub(super) fn backward(
        &self,
        batch: usize,
        x: &[f32],
        acts: &Acts,
        grad_logits: &[f32],
        grads: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), Error> {
        let spec = &self.spec;
        let lens = spec.lens()?;
        let mut g_pieces = Vec::with_capacity(lens.len());
        let mut rest = grads;
        for n in lens {
            let (piece, r) = rest.split_at_mut_checked(n).ok_or(ShapeError::Dimension)?;
            g_pieces.push(piece);
            rest = r;
        }
        let g_head = g_pieces.pop().ok_or(Error::Config)?;
        let mut g_pooled = vec![0.0; batch * spec.width];
        self.head.backward(
            batch,
            &acts.pooled,
            &acts.logits,
            &[],
            grad_logits,
            Some(&mut g_pooled),
            Some(g_head),
        )?;
        let sw = batch * spec.seq * spec.width;
        let mut g_h = vec![0.0; sw];
        self.pool.backward(batch, None, &g_pooled, &mut g_h)?;
        let mut g_in = vec![0.0; sw];
        let (g_embed, g_blocks) = g_pieces.split_first_mut().ok_or(Error::Config)?;
        for (k, (block, g_block)) in self.blocks.iter().zip(g_blocks).enumerate().rev() {
            let input = acts.hidden.get(k).ok_or(Error::Config)?;
            let output = acts.hidden.get(k + 1).ok_or(Error::Config)?;
            let cache = acts.caches.get(k).ok_or(Error::Config)?;
            block.backward(
                batch,
                None,
                input,
                output,
                cache,
                &g_h,
                Some(&mut g_in),
                Some(&mut **g_block),
                scratch,
            )?;
            std::mem::swap(&mut g_h, &mut g_in);
        }
        // The positional encoding is added: its gradient passes through unchanged.
        self.embed.backward(
            batch * spec.seq,
            x,
            &acts.embedded,
            &[],
            &g_h,
            None,
            Some(&mut **g_embed),
        )
    }
}
