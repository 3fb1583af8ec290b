//! The architecture and training settings of `train`: from flags, from a TOML file, or the
//! defaults, with one set of value checks shared by both sources.
//!
//! # TOML file
//! ```toml
//! [model]
//! kind = "mlp"          # or "transformer"
//! hidden = [64, 32]     # MLP: hidden layer widths, 1 to 8 layers
//! dropout = 0.1         # in [0, 1); the transformer's blocks take it too
//! # transformer only (see `super::transformer::arch`):
//! # seq = 8, width = 16, heads = 2, ff = 32, blocks = 1
//!
//! [train]
//! epochs = 100
//! batch = 32
//! lr = 0.001
//! optimizer = "adam"    # or "sgd"
//! l2 = 0.0
//! patience = 10
//! seed = 0
//! ```
//! Every key is optional; unknown sections or keys are errors (so a typo is not silently
//! ignored), and so is a key of the other kind of model (`hidden` for a transformer, `width`
//! for an MLP). A flag on the command line overrides the file's value.

use std::path::Path;

use serde::Deserialize;

use super::args::{ModelKind, OptimizerKind, TrainArgs};
use super::transformer::arch::{self as tarch, TransformerArch};
use super::AppError;

/// Most hidden layers an architecture may have.
pub const MAX_HIDDEN_LAYERS: usize = 8;
/// Widest hidden layer accepted.
pub const MAX_WIDTH: usize = 1 << 16;

/// Default hidden layer widths.
pub const DEFAULT_HIDDEN: [usize; 1] = [64];
/// Default epoch limit.
pub const DEFAULT_EPOCHS: usize = 100;
/// Default mini-batch size.
pub const DEFAULT_BATCH: usize = 32;
/// Default early-stopping patience.
pub const DEFAULT_PATIENCE: usize = 10;
/// Default learning rate of Adam.
pub const DEFAULT_LR_ADAM: f32 = 1e-3;
/// Default learning rate of SGD.
pub const DEFAULT_LR_SGD: f32 = 0.05;

/// Hidden layer widths as one command-line value (clap would read a bare `Vec` as a repeated
/// flag).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widths(pub Vec<usize>);

/// [`parse_hidden`] for clap.
///
/// # Errors
/// As [`parse_hidden`].
pub fn parse_widths(s: &str) -> Result<Widths, String> {
    parse_hidden(s).map(Widths)
}

/// Parses hidden layer widths: comma-separated positive integers, 1 to
/// [`MAX_HIDDEN_LAYERS`] of them, each at most [`MAX_WIDTH`] (spaces around commas allowed).
///
/// # Errors
/// A message naming the offending item.
pub fn parse_hidden(s: &str) -> Result<Vec<usize>, String> {
    let widths = s
        .split(',')
        .enumerate()
        .map(|(i, w)| {
            w.trim()
                .parse::<usize>()
                .map_err(|_| format!("item {} ({:?}) is not a positive integer", i + 1, w.trim()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_hidden(&widths)?;
    Ok(widths)
}

/// Checks hidden layer widths (see [`parse_hidden`]).
///
/// # Errors
/// A message naming the offending item.
pub fn check_hidden(widths: &[usize]) -> Result<(), String> {
    if widths.is_empty() || widths.len() > MAX_HIDDEN_LAYERS {
        return Err(format!(
            "{} hidden layers given; 1 to {MAX_HIDDEN_LAYERS} are supported",
            widths.len()
        ));
    }
    for (i, &w) in widths.iter().enumerate() {
        if w == 0 || w > MAX_WIDTH {
            return Err(format!(
                "item {} ({w}) must be a width between 1 and {MAX_WIDTH}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Parses an integer ≥ 1.
///
/// # Errors
/// A message if `s` is not a positive integer.
pub fn parse_positive_usize(s: &str) -> Result<usize, String> {
    check_positive(parse_usize(s)?)
}

/// Parses an integer ≥ 0.
///
/// # Errors
/// A message if `s` is not a non-negative integer.
pub fn parse_usize(s: &str) -> Result<usize, String> {
    s.trim()
        .parse::<usize>()
        .map_err(|_| format!("{s:?} is not a non-negative integer"))
}

fn check_positive(n: usize) -> Result<usize, String> {
    if n == 0 {
        Err("must be at least 1".into())
    } else {
        Ok(n)
    }
}

fn parse_f32(s: &str) -> Result<f32, String> {
    s.trim()
        .parse::<f32>()
        .map_err(|_| format!("{s:?} is not a number"))
}

/// Parses a learning rate: finite and > 0.
///
/// # Errors
/// A message if `s` is not such a number.
pub fn parse_lr(s: &str) -> Result<f32, String> {
    check_lr(parse_f32(s)?)
}

/// Checks a learning rate: finite and > 0.
///
/// # Errors
/// A message if not.
pub fn check_lr(x: f32) -> Result<f32, String> {
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("{x} must be a finite number > 0"))
    }
}

/// Parses a dropout rate: in `[0, 1)`.
///
/// # Errors
/// A message if `s` is not such a number.
pub fn parse_dropout(s: &str) -> Result<f32, String> {
    check_dropout(parse_f32(s)?)
}

/// Checks a dropout rate: in `[0, 1)`.
///
/// # Errors
/// A message if not.
pub fn check_dropout(x: f32) -> Result<f32, String> {
    if (0.0..1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} must be in [0, 1)"))
    }
}

/// Parses an L2 penalty: finite and ≥ 0.
///
/// # Errors
/// A message if `s` is not such a number.
pub fn parse_l2(s: &str) -> Result<f32, String> {
    check_l2(parse_f32(s)?)
}

/// Checks an L2 penalty: finite and ≥ 0.
///
/// # Errors
/// A message if not.
pub fn check_l2(x: f32) -> Result<f32, String> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        Err(format!("{x} must be a finite number ≥ 0"))
    }
}

/// The `[model]` section of the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// The kind of model.
    pub kind: Option<ModelKind>,
    /// Transformer: positions per sample.
    pub seq: Option<usize>,
    /// Transformer: model width.
    pub width: Option<usize>,
    /// Transformer: attention heads.
    pub heads: Option<usize>,
    /// Transformer: feed-forward width.
    pub ff: Option<usize>,
    /// Transformer: encoder blocks.
    pub blocks: Option<usize>,
    /// Hidden layer widths.
    pub hidden: Option<Vec<usize>>,
    /// Dropout rate.
    pub dropout: Option<f32>,
}

/// The `[train]` section of the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// Epoch limit.
    pub epochs: Option<usize>,
    /// Mini-batch size.
    pub batch: Option<usize>,
    /// Learning rate.
    pub lr: Option<f32>,
    /// Optimizer.
    pub optimizer: Option<OptimizerKind>,
    /// L2 penalty.
    pub l2: Option<f32>,
    /// Early-stopping patience.
    pub patience: Option<usize>,
    /// Seed.
    pub seed: Option<u64>,
}

/// The whole TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[model]`.
    #[serde(default)]
    pub model: ModelSection,
    /// `[train]`.
    #[serde(default)]
    pub train: TrainSection,
}

/// Every setting of a training run, resolved (flag, else file, else default) and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSettings {
    /// The kind of model.
    pub model: ModelKind,
    /// The transformer's settings (`Some` for [`ModelKind::Transformer`]).
    pub transformer: Option<TransformerArch>,
    /// Hidden layer widths (MLP).
    pub hidden: Vec<usize>,
    /// Dropout rate after each hidden layer.
    pub dropout: f32,
    /// Epoch limit.
    pub epochs: usize,
    /// Mini-batch size.
    pub batch: usize,
    /// Learning rate.
    pub lr: f32,
    /// Optimizer.
    pub optimizer: OptimizerKind,
    /// L2 penalty.
    pub l2: f32,
    /// Early-stopping patience.
    pub patience: usize,
    /// Seed.
    pub seed: u64,
}

/// Reads and checks a TOML settings file.
///
/// # Errors
/// The file cannot be read, is not valid TOML or has an unknown key (the message names the file,
/// line and column), or a value is out of range (the message names the file and the key).
pub fn load_config(path: &Path) -> Result<ConfigFile, AppError> {
    let name = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| AppError::new(format!("{name}: cannot read: {e}")))?;
    let config: ConfigFile = toml::from_str(&text)
        .map_err(|e| AppError::new(format!("{name}: {}", e.to_string().trim_end())))?;
    let field = |key: &str, e: String| AppError::new(format!("{name}: {key}: {e}"));
    if let Some(h) = &config.model.hidden {
        check_hidden(h).map_err(|e| field("[model] hidden", e))?;
    }
    if let Some(p) = config.model.dropout {
        check_dropout(p).map_err(|e| field("[model] dropout", e))?;
    }
    let m = &config.model;
    for (key, v) in [
        ("seq", m.seq),
        ("width", m.width),
        ("heads", m.heads),
        ("ff", m.ff),
        ("blocks", m.blocks),
    ] {
        if let Some(v) = v {
            tarch::check_key(key, v).map_err(|e| field(&format!("[model] {key}"), e))?;
        }
    }
    let t = &config.train;
    if let Some(n) = t.epochs {
        check_positive(n).map_err(|e| field("[train] epochs", e))?;
    }
    if let Some(n) = t.batch {
        check_positive(n).map_err(|e| field("[train] batch", e))?;
    }
    if let Some(x) = t.lr {
        check_lr(x).map_err(|e| field("[train] lr", e))?;
    }
    if let Some(x) = t.l2 {
        check_l2(x).map_err(|e| field("[train] l2", e))?;
    }
    Ok(config)
}

/// Resolves the settings of `train`: each flag given wins over the TOML file's value, which wins
/// over the default.
///
/// # Errors
/// As [`load_config`].
pub fn resolve(args: &TrainArgs) -> Result<TrainSettings, AppError> {
    let file = match &args.config {
        Some(path) => load_config(path)?,
        None => ConfigFile::default(),
    };
    let name = args
        .config
        .as_ref()
        .map_or(String::new(), |p| p.display().to_string());
    let model = args.model.or(file.model.kind).unwrap_or(ModelKind::Mlp);
    let transformer = tarch::train_keys(args, &file.model, model, &name)?;
    let optimizer = args
        .optimizer
        .or(file.train.optimizer)
        .unwrap_or(OptimizerKind::Adam);
    let default_lr = match (optimizer, model) {
        (OptimizerKind::Adam, ModelKind::Transformer) => tarch::DEFAULT_LR,
        (OptimizerKind::Adam, ModelKind::Mlp) => DEFAULT_LR_ADAM,
        (OptimizerKind::Sgd, _) => DEFAULT_LR_SGD,
    };
    Ok(TrainSettings {
        model,
        transformer,
        hidden: args
            .arch
            .clone()
            .map(|w| w.0)
            .or(file.model.hidden)
            .unwrap_or_else(|| DEFAULT_HIDDEN.to_vec()),
        dropout: args.dropout.or(file.model.dropout).unwrap_or(0.0),
        epochs: args.epochs.or(file.train.epochs).unwrap_or(DEFAULT_EPOCHS),
        batch: args.batch.or(file.train.batch).unwrap_or(DEFAULT_BATCH),
        lr: args.lr.or(file.train.lr).unwrap_or(default_lr),
        optimizer,
        l2: args.l2.or(file.train.l2).unwrap_or(0.0),
        patience: args
            .patience
            .or(file.train.patience)
            .unwrap_or(DEFAULT_PATIENCE),
        seed: args.seed.or(file.train.seed).unwrap_or(0),
    })
}
