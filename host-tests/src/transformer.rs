//! A tiny transformer classifier for the digits read as sequences, trained on the host in f32.
//!
//! Each 8×8 image is a sequence of 8 rows (positions) of 8 pixels (features). The model:
//! per-position dense `8 → width` (one [`Dense`] over `batch · seq` rows), plus the sinusoidal
//! positional encoding, `blocks` pre-LN [`TransformerEncoder`] blocks, mean pooling over the 8
//! positions, dense `width → classes`, softmax cross-entropy. Forward and backward chain the
//! core's layers by hand; the parameters are one flat vector (embedding, blocks in order, head),
//! and one Adam step updates all of it.

use tinytune::layers::attention::{
    MeanPool, PoolConfig, SinusoidalEncoding, SinusoidalEncodingConfig, TransformerEncoder,
    TransformerEncoderConfig,
};
use tinytune::layers::dense::{Dense, DenseConfig};
use tinytune::layers::Layer;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::Init;
use tinytune::train::loss::{argmax, softmax_cross_entropy};
use tinytune::train::optim::{Adam, Optimizer};
use tinytune::Error;

use crate::csv::Dataset;

/// The model's shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spec {
    /// Positions per sample (image rows).
    pub seq: usize,
    /// Features per position (pixels per row).
    pub features: usize,
    /// Model width.
    pub width: usize,
    /// Attention heads (must divide `width`).
    pub heads: usize,
    /// Feed-forward hidden width.
    pub ff: usize,
    /// Encoder blocks.
    pub blocks: usize,
    /// Dropout rate inside the blocks during training.
    pub dropout: f32,
    /// Output classes.
    pub classes: usize,
}

impl Spec {
    /// The digits (8 rows of 8 pixels, 10 classes) with the given width, heads, ff and blocks,
    /// without dropout.
    pub fn digits(width: usize, heads: usize, ff: usize, blocks: usize) -> Self {
        Spec {
            seq: 8,
            features: 8,
            width,
            heads,
            ff,
            blocks,
            dropout: 0.0,
            classes: 10,
        }
    }

    fn embed(&self) -> DenseConfig {
        DenseConfig {
            in_features: self.features,
            out_features: self.width,
            bias: true,
        }
    }

    fn encoder(&self) -> TransformerEncoderConfig {
        TransformerEncoderConfig {
            dropout: self.dropout,
            ..TransformerEncoderConfig::new(self.seq, self.width, self.heads, self.ff)
        }
    }

    fn head(&self) -> DenseConfig {
        DenseConfig {
            in_features: self.width,
            out_features: self.classes,
            bias: true,
        }
    }

    /// Parameter counts of the pieces in their order in the flat vector: embedding, each
    /// block, head.
    fn lens(&self) -> Result<Vec<usize>, Error> {
        let mut lens = vec![self.embed().param_len()?];
        let enc = self.encoder().param_len()?;
        lens.extend(std::iter::repeat_n(enc, self.blocks));
        lens.push(self.head().param_len()?);
        Ok(lens)
    }

    /// Total number of parameters.
    ///
    /// # Errors
    /// As the layers' configurations (a zero or inconsistent size).
    pub fn param_len(&self) -> Result<usize, Error> {
        Ok(self.lens()?.iter().sum())
    }

    /// The layers over `params` (trainable borrows).
    fn layers_mut<'a>(&self, params: &'a mut [f32]) -> Result<Layers<'a>, Error> {
        let lens = self.lens()?;
        let mut pieces = Vec::with_capacity(lens.len());
        let mut rest = params;
        for n in lens {
            let (piece, r) = rest.split_at_mut(n);
            pieces.push(piece);
            rest = r;
        }
        let head = self.head().init(pieces.pop().ok_or(Error::Config)?)?;
        let mut it = pieces.into_iter();
        let embed = self.embed().init(it.next().ok_or(Error::Config)?)?;
        let blocks = it
            .map(|p| self.encoder().init(p))
            .collect::<Result<Vec<_>, _>>()?;
        self.assemble(embed, blocks, head)
    }

    /// The layers over `params` (frozen borrows, for evaluation).
    fn layers<'a>(&self, params: &'a [f32]) -> Result<Layers<'a>, Error> {
        let lens = self.lens()?;
        let mut pieces = Vec::with_capacity(lens.len());
        let mut rest = params;
        for n in lens {
            let (piece, r) = rest.split_at(n);
            pieces.push(piece);
            rest = r;
        }
        let head = self.head().init(pieces.pop().ok_or(Error::Config)?)?;
        let mut it = pieces.into_iter();
        let embed = self.embed().init(it.next().ok_or(Error::Config)?)?;
        let blocks = it
            .map(|p| self.encoder().init(p))
            .collect::<Result<Vec<_>, _>>()?;
        self.assemble(embed, blocks, head)
    }

    fn assemble<'a>(
        &self,
        embed: Dense<'a>,
        blocks: Vec<TransformerEncoder<'a>>,
        head: Dense<'a>,
    ) -> Result<Layers<'a>, Error> {
        let pe = SinusoidalEncodingConfig {
            seq: self.seq,
            width: self.width,
        }
        .init()?;
        let pool = PoolConfig {
            seq: self.seq,
            width: self.width,
        }
        .mean()?;
        let scratch = blocks.first().map_or(0, |b| b.scratch_len(1));
        Ok(Layers {
            spec: *self,
            embed,
            pe,
            blocks,
            pool,
            head,
            scratch,
        })
    }

    /// Fresh parameters: Xavier-uniform weights, zero biases, unit layer-norm scales, drawn
    /// from `seed`.
    ///
    /// # Errors
    /// As the layers' configurations.
    pub fn init_params(&self, seed: u64) -> Result<Vec<f32>, Error> {
        let mut params = vec![0.0; self.param_len()?];
        let mut rng = SeededRng::seed_from_u64(seed);
        let mut l = self.layers_mut(&mut params)?;
        l.embed.init_params(Init::XavierUniform, &mut rng)?;
        for b in &mut l.blocks {
            b.init_params(Init::XavierUniform, &mut rng)?;
        }
        l.head.init_params(Init::XavierUniform, &mut rng)?;
        drop(l);
        Ok(params)
    }

    /// Logits `[n, classes]` of every sample of `data` (inference: no dropout), in batches of
    /// 64.
    ///
    /// # Errors
    /// As the layers' forward passes (a sample length other than `seq · features`).
    pub fn logits(&self, params: &[f32], data: &Dataset) -> Result<Vec<f32>, Error> {
        let l = self.layers(params)?;
        let sample = self.seq * self.features;
        let mut out = Vec::with_capacity(data.len() * self.classes);
        let mut scratch = vec![0.0; l.scratch];
        for x in data.data.chunks(64 * sample) {
            let batch = x.len() / sample;
            let mut acts = Acts::new(self, batch);
            l.forward(batch, x, &mut acts, &mut scratch, None)?;
            out.extend_from_slice(&acts.logits);
        }
        Ok(out)
    }

    /// Fraction of `data` classified correctly.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn accuracy(&self, params: &[f32], data: &Dataset) -> Result<f32, Error> {
        let logits = self.logits(params, data)?;
        let correct = logits
            .chunks_exact(self.classes)
            .zip(&data.labels)
            .filter(|(z, &y)| argmax(z) == y as usize)
            .count();
        Ok(correct as f32 / data.len().max(1) as f32)
    }
}

/// Training settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Train {
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per mini-batch (the last batch of an epoch may be smaller).
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Seed of the initialisation, the shuffles and the dropout masks.
    pub seed: u64,
}

/// The result of [`fit`].
#[derive(Clone, Debug)]
pub struct Trained {
    /// The trained parameters.
    pub params: Vec<f32>,
    /// Mean training loss of each epoch.
    pub losses: Vec<f32>,
}

/// The pieces built over a parameter vector.
struct Layers<'a> {
    spec: Spec,
    embed: Dense<'a>,
    pe: SinusoidalEncoding,
    blocks: Vec<TransformerEncoder<'a>>,
    pool: MeanPool,
    head: Dense<'a>,
    scratch: usize,
}

/// The activations of one batch, kept for backward.
struct Acts {
    /// Embedded rows `[batch·seq, width]`.
    embedded: Vec<f32>,
    /// Block inputs and the last output: `hidden[k]` is block k's input, `[batch, seq, width]`.
    hidden: Vec<Vec<f32>>,
    /// Each block's training cache.
    caches: Vec<Vec<f32>>,
    /// Pooled `[batch, width]`.
    pooled: Vec<f32>,
    /// `[batch, classes]`.
    logits: Vec<f32>,
}

impl Acts {
    fn new(spec: &Spec, batch: usize) -> Self {
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

impl Layers<'_> {
    /// Forward over `batch` samples `x` (`[batch, seq·features]`); training mode (dropout,
    /// caches filled) when `rng` is given.
    fn forward(
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
            let (input, output) = (&done[k], &mut next[0]);
            match rng.as_deref_mut() {
                Some(r) => {
                    let cache = &mut acts.caches[k];
                    block.forward_train(batch, None, input, output, cache, scratch, r)?
                }
                None => block.forward(batch, None, input, output, scratch)?,
            }
        }
        let last = acts.hidden.last().ok_or(Error::Config)?;
        self.pool.forward(batch, None, last, &mut acts.pooled)?;
        self.head.forward(batch, &acts.pooled, &mut acts.logits)
    }

    /// Backward from `grad_logits`, adding the parameter gradients into `grads` (the flat
    /// layout of the parameters).
    fn backward(
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
            let (piece, r) = rest.split_at_mut(n);
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
        for (k, block) in self.blocks.iter().enumerate().rev() {
            block.backward(
                batch,
                None,
                &acts.hidden[k],
                &acts.hidden[k + 1],
                &acts.caches[k],
                &g_h,
                Some(&mut g_in),
                Some(&mut *g_pieces[k + 1]),
                scratch,
            )?;
            std::mem::swap(&mut g_h, &mut g_in);
        }
        // The positional encoding is added: its gradient passes through unchanged.
        let g_embed = g_pieces.first_mut().ok_or(Error::Config)?;
        self.embed.backward(
            batch * spec.seq,
            x,
            &acts.embedded,
            &[],
            &g_h,
            None,
            Some(g_embed),
        )
    }
}

/// Trains fresh parameters (from `train.seed`) on `data` with Adam and softmax cross-entropy,
/// shuffling the samples every epoch.
///
/// # Errors
/// As the layers' configurations and passes; [`Error::Config`] for a zero batch size.
pub fn fit(spec: &Spec, train: &Train, data: &Dataset) -> Result<Trained, Error> {
    if train.batch == 0 {
        return Err(Error::Config);
    }
    let mut params = spec.init_params(train.seed)?;
    let n = data.len();
    let sample = spec.seq * spec.features;
    let mut adam = Adam::new(train.lr);
    let mut state = vec![0.0; adam.state_len(params.len())];
    let mut grads = vec![0.0; params.len()];
    let mut rng = SeededRng::seed_from_u64(train.seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut order: Vec<usize> = (0..n).collect();
    let mut losses = Vec::with_capacity(train.epochs);
    let mut x = Vec::with_capacity(train.batch * sample);
    let mut labels = Vec::with_capacity(train.batch);
    for _ in 0..train.epochs {
        shuffle(&mut order, &mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(train.batch) {
            let batch = chunk.len();
            x.clear();
            labels.clear();
            for &i in chunk {
                x.extend_from_slice(&data.data[i * sample..(i + 1) * sample]);
                labels.push(data.labels[i]);
            }
            grads.fill(0.0);
            let layers = spec.layers_mut(&mut params)?;
            let mut scratch = vec![0.0; layers.scratch];
            let mut acts = Acts::new(spec, batch);
            layers.forward(batch, &x, &mut acts, &mut scratch, Some(&mut rng))?;
            let mut g_logits = vec![0.0; batch * spec.classes];
            let loss = softmax_cross_entropy(spec.classes, &acts.logits, &labels, &mut g_logits)?;
            total += f64::from(loss) * batch as f64;
            layers.backward(batch, &x, &acts, &g_logits, &mut grads, &mut scratch)?;
            drop(layers);
            adam.begin_step(&mut grads);
            adam.update(&mut params, &grads, &mut state);
        }
        losses.push((total / n.max(1) as f64) as f32);
    }
    Ok(Trained { params, losses })
}

/// Fisher–Yates shuffle with draws from `rng` (modulo bias is negligible at these sizes).
fn shuffle(items: &mut [usize], rng: &mut SeededRng) {
    use tinytune::rng::RngCore;
    for i in (1..items.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
