//! [`Spec`]: the shape of the transformer classifier, its flat parameter layout, fresh
//! parameters, inference (logits, accuracy) and the deployable [`OwnedModel`].

use tinytune::kernels::Padding;
use tinytune::layers::attention::{SinusoidalEncodingConfig, TransformerEncoderConfig};
use tinytune::layers::conv::Conv1dConfig;
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::pool::GlobalAvgPoolConfig;
use tinytune::layers::Layer;
use tinytune::rng::{SeedableRng, SeededRng};
use tinytune::train::init::Init;
use tinytune::train::loss::argmax;
use tinytune::{Error, ShapeError};

use super::net::{Acts, Layers};
use crate::csv::Dataset;
use crate::model::{OwnedModel, OwnedOp};

/// Samples per forward call in inference (bounds the activation memory).
const CHUNK: usize = 64;

/// The model's shape (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spec {
    /// Positions per sample (e.g. image rows).
    pub seq: usize,
    /// Features per position (e.g. pixels per row); a sample has `seq · features` values.
    pub features: usize,
    /// Model width.
    pub width: usize,
    /// Attention heads (must divide `width`).
    pub heads: usize,
    /// Feed-forward hidden width.
    pub ff: usize,
    /// Encoder blocks.
    pub blocks: usize,
    /// Dropout rate inside the blocks during training (0 in the exported model).
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

    /// Values per sample, `seq · features`.
    pub fn sample_len(&self) -> usize {
        self.seq.saturating_mul(self.features)
    }

    /// The per-position embedding as one dense layer over `batch · seq` rows.
    pub(super) fn embed(&self) -> DenseConfig {
        DenseConfig {
            in_features: self.features,
            out_features: self.width,
            bias: true,
        }
    }

    /// One encoder block (with the training dropout).
    pub(super) fn encoder(&self) -> TransformerEncoderConfig {
        TransformerEncoderConfig {
            dropout: self.dropout,
            ..TransformerEncoderConfig::new(self.seq, self.width, self.heads, self.ff)
        }
    }

    /// The classification head.
    pub(super) fn head(&self) -> DenseConfig {
        DenseConfig {
            in_features: self.width,
            out_features: self.classes,
            bias: true,
        }
    }

    /// Parameter counts of the pieces in their order in the flat vector: embedding, each
    /// block, head.
    pub(super) fn lens(&self) -> Result<Vec<usize>, Error> {
        let mut lens = vec![self.embed().param_len()?];
        let enc = self.encoder().param_len()?;
        lens.extend(std::iter::repeat_n(enc, self.blocks));
        lens.push(self.head().param_len()?);
        Ok(lens)
    }

    /// Total number of parameters.
    ///
    /// # Errors
    /// As the layers' configurations (a zero or inconsistent size, an overflow).
    pub fn param_len(&self) -> Result<usize, Error> {
        self.lens()?
            .iter()
            .try_fold(0usize, |a, &n| a.checked_add(n))
            .ok_or_else(|| ShapeError::Dimension.into())
    }

    /// Checks every size (each layer's configuration builds, `blocks ≥ 1`, the dropout rate in
    /// `[0, 1)`).
    ///
    /// # Errors
    /// The first layer configuration the core rejects.
    pub fn validate(&self) -> Result<(), Error> {
        if self.blocks == 0 {
            return Err(ShapeError::Dimension.into());
        }
        let params = vec![0.0f32; self.param_len()?];
        self.layers(&params).map(|_| ())
    }

    /// The layers over `params` (trainable borrows).
    pub(super) fn layers_mut<'a>(&self, params: &'a mut [f32]) -> Result<Layers<'a>, Error> {
        let lens = self.lens()?;
        let mut pieces = Vec::with_capacity(lens.len());
        let mut rest = params;
        for n in lens {
            let (piece, r) = rest.split_at_mut_checked(n).ok_or(ShapeError::Dimension)?;
            pieces.push(piece);
            rest = r;
        }
        let head = self.head().init(pieces.pop().ok_or(Error::Config)?)?;
        let mut it = pieces.into_iter();
        let embed = self.embed().init(it.next().ok_or(Error::Config)?)?;
        let blocks = it
            .map(|p| self.encoder().init(p))
            .collect::<Result<Vec<_>, _>>()?;
        Layers::new(*self, embed, blocks, head)
    }

    /// The layers over `params` (frozen borrows, for evaluation).
    pub(super) fn layers<'a>(&self, params: &'a [f32]) -> Result<Layers<'a>, Error> {
        let lens = self.lens()?;
        let mut pieces = Vec::with_capacity(lens.len());
        let mut rest = params;
        for n in lens {
            let (piece, r) = rest.split_at_checked(n).ok_or(ShapeError::Dimension)?;
            pieces.push(piece);
            rest = r;
        }
        let head = self.head().init(pieces.pop().ok_or(Error::Config)?)?;
        let mut it = pieces.into_iter();
        let embed = self.embed().init(it.next().ok_or(Error::Config)?)?;
        let blocks = it
            .map(|p| self.encoder().init(p))
            .collect::<Result<Vec<_>, _>>()?;
        Layers::new(*self, embed, blocks, head)
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

    /// Logits `[n, classes]` of the samples `x` (`[n, seq · features]`; inference: no
    /// dropout), in batches of 64.
    ///
    /// # Errors
    /// As the layers' forward passes; [`ShapeError::Length`] if `x` is not whole samples.
    pub fn logits_of(&self, params: &[f32], x: &[f32]) -> Result<Vec<f32>, Error> {
        let l = self.layers(params)?;
        let sample = self.sample_len();
        if sample == 0 || x.len() % sample != 0 {
            return Err(ShapeError::Length {
                buffer: tinytune::Buffer::Input,
                expected: x.len() / sample.max(1) * sample,
                actual: x.len(),
            }
            .into());
        }
        let mut out = Vec::with_capacity(x.len() / sample * self.classes);
        let mut scratch = vec![0.0; l.scratch];
        for chunk in x.chunks(CHUNK * sample) {
            let batch = chunk.len() / sample;
            let mut acts = Acts::new(self, batch);
            l.forward(batch, chunk, &mut acts, &mut scratch, None)?;
            out.extend_from_slice(&acts.logits);
        }
        Ok(out)
    }

    /// Logits `[n, classes]` of every sample of `data` (see [`logits_of`](Self::logits_of)).
    ///
    /// # Errors
    /// As [`logits_of`](Self::logits_of).
    pub fn logits(&self, params: &[f32], data: &Dataset) -> Result<Vec<f32>, Error> {
        self.logits_of(params, &data.data)
    }

    /// Fraction of `data` classified correctly.
    ///
    /// # Errors
    /// As [`logits`](Self::logits).
    pub fn accuracy(&self, params: &[f32], data: &Dataset) -> Result<f32, Error> {
        let logits = self.logits(params, data)?;
        Ok(accuracy_of(&logits, &data.labels, self.classes))
    }

    /// The deployable f32 model over trained `params`: `Conv1d` (kernel 1, stride 1, valid,
    /// bias; `len = seq`, `in_c = features`, `out_c = width`: the per-position embedding, whose
    /// `[out_c, 1, in_c]` weights are the dense `[width, features]` ones), the sinusoidal
    /// encoding, one `TransformerEncoder` per block (dropout 0), global average pooling over
    /// the `seq` positions, and the dense head.
    ///
    /// # Errors
    /// `params` not of [`param_len`](Self::param_len) values, or a configuration the core
    /// rejects.
    pub fn to_model(&self, params: &[f32]) -> Result<OwnedModel, Error> {
        let lens = self.lens()?;
        if params.len() != self.param_len()? {
            return Err(ShapeError::Length {
                buffer: tinytune::Buffer::Params,
                expected: self.param_len()?,
                actual: params.len(),
            }
            .into());
        }
        let mut pieces = Vec::with_capacity(lens.len());
        let mut rest = params;
        for n in lens {
            let (piece, r) = rest.split_at_checked(n).ok_or(ShapeError::Dimension)?;
            pieces.push(piece.to_vec());
            rest = r;
        }
        let head = pieces.pop().ok_or(Error::Config)?;
        let mut it = pieces.into_iter();
        let embed = it.next().ok_or(Error::Config)?;
        let conv = Conv1dConfig {
            len: self.seq,
            in_c: self.features,
            out_c: self.width,
            kernel: 1,
            stride: 1,
            dilation: 1,
            padding: Padding::Valid,
            bias: true,
        };
        let block = TransformerEncoderConfig {
            dropout: 0.0,
            ..self.encoder()
        };
        let mut ops = vec![
            OwnedOp::Conv1d(conv, embed),
            OwnedOp::SinusoidalEncoding(SinusoidalEncodingConfig {
                seq: self.seq,
                width: self.width,
            }),
        ];
        ops.extend(it.map(|p| OwnedOp::TransformerEncoder(block, p)));
        ops.push(OwnedOp::GlobalAvgPool(GlobalAvgPoolConfig {
            positions: self.seq,
            channels: self.width,
        }));
        ops.push(OwnedOp::Dense(self.head(), head));
        Ok(OwnedModel::new(ops))
    }

    /// `"8×8 → width 16, 2 heads, ff 32, 1 block → 10"`.
    pub fn describe(&self) -> String {
        format!(
            "transformer: {} positions × {} features → width {}, {} heads, ff {}, {} block{} \
             (pre-LN, sinusoidal positions, mean pool) → {} classes",
            self.seq,
            self.features,
            self.width,
            self.heads,
            self.ff,
            self.blocks,
            if self.blocks == 1 { "" } else { "s" },
            self.classes
        )
    }
}

/// Fraction of rows of `logits` (`[n, classes]`) whose argmax is the label.
pub fn accuracy_of(logits: &[f32], labels: &[u32], classes: usize) -> f32 {
    let correct = logits
        .chunks_exact(classes.max(1))
        .zip(labels)
        .filter(|(z, &y)| argmax(z) == y as usize)
        .count();
    correct as f32 / labels.len().max(1) as f32
}
