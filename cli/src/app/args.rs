//! The command-line interface: clap definitions of every command and its flags, with value
//! checks (a bad value is a clap usage error, exit status 2).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::arch;
use super::transformer::arch::TransformerFlags;

/// tinytune: train, evaluate, distill (and soon quantize, inspect and export) small neural
/// networks for microcontrollers.
#[derive(Debug, Parser)]
#[command(name = "tinytune", version, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a classifier (an MLP, or with `--model transformer` a transformer encoder) on a
    /// labelled CSV file and save it.
    ///
    /// The data are split per class (stratified) into 70 % training, 15 % validation and
    /// 15 % test samples, shuffled with `--seed`. Features are standardised (z-score) with the
    /// mean and standard deviation of the training split. The MLP (ReLU hidden layers, optional
    /// dropout, softmax cross-entropy) trains in mini-batches with early stopping on the
    /// validation loss; the parameters of the best epoch are kept.
    ///
    /// Writes into `--out`: `model.json` (architecture, scaler and parameters), `test.csv` (the
    /// test split, for `tinytune eval`), `learning_curve.png`, and `summary.json`.
    ///
    /// A transformer reads each sample as `--seq` positions of features/seq consecutive values
    /// (the 8×8 digits: 8 rows of 8 pixels): a per-position dense embedding to `--width`, the
    /// sinusoidal positional encoding, `--blocks` pre-LN encoder blocks (`--heads`, `--ff`),
    /// mean pooling over the positions and a dense head. It trains with the same split,
    /// scaling, optimizer and early stopping, and is written as `model.ttm` (f32) and
    /// `model-int8.ttm` (quantized, calibrated on the training split) instead of `model.json`.
    Train(TrainArgs),
    /// Evaluate a trained model or a `.ttm` file on a labelled CSV file: accuracy, per-class
    /// precision and recall, confusion matrix; with `--reference`, the agreement of two models
    /// (f32 against int8).
    Eval(EvalArgs),
    /// Distil a small student from a teacher on a labelled CSV file, quantize it to int8 and
    /// compare.
    ///
    /// The data are split and standardised as in `train`. Shared bottom layers feed a teacher
    /// head (deeper, wider) and a student head; both train at once (Rocket Launching:
    /// cross-entropy of each head plus γ·‖z_t − z_s‖² on the student, optionally Hinton's KD
    /// term), with Adam (learning rate 0.003, L2 penalty 0.0001, batch 32, 40 epochs) and early
    /// stopping on the student's validation loss (patience 10). The same student architecture
    /// trained alone with the same settings is the baseline. The distilled student is
    /// quantized to int8 (calibration on the training split). Architecture: when the features
    /// form a square one-channel image (s×s, s ≥ 4) a shared 3×3 convolution, a convolutional
    /// teacher head and a pool-and-dense student head; otherwise a shared dense layer and MLP
    /// heads (widths from √(features·classes)).
    ///
    /// With `--teacher` (a `tinytune train` output, optionally with `--teacher-weights` from a
    /// safetensors file trained elsewhere) the teacher is given and frozen, and the student
    /// learns from it by classic two-stage distillation (Hinton's loss, default T 4, α 0.7).
    ///
    /// Prints teacher / student alone / distilled student / int8 student test accuracy,
    /// parameters, flash and RAM bytes of the deployed `.ttm` files, and writes
    /// `summary.json`, `student.ttm` and `student.safetensors` into `--out`.
    Distill(DistillArgs),
    /// Quantize a trained model to int8: per-channel symmetric weights, activation ranges
    /// calibrated on a labelled CSV file, batch norm folded; writes `model.ttm` and reports the
    /// per-layer SQNR and the f32 and int8 accuracy.
    Quantize(super::quantize::QuantizeArgs),
    /// Show a `.ttm` model file's operations, parameters, MACs, flash bytes and the RAM (arena
    /// and requantizers) one inference needs.
    Inspect(super::inspect::InspectArgs),
    /// Export a trained model as a `.ttm` file with the Rust snippet that embeds it in firmware,
    /// and optionally its weights as safetensors.
    Export(super::export::ExportArgs),
    /// The distillation pipeline of `distill` on the bundled handwritten digits
    /// (`data/digits.csv`): one table of teacher / student alone / distilled / int8 accuracy,
    /// parameters, flash and arena bytes.
    Demo(DemoArgs),
    /// Train word vectors (skip-gram with negative sampling, or `--hs` hierarchical softmax)
    /// on a text corpus, one sentence per line; writes them in the word2vec text format and
    /// optionally as a `.ttm` Embedding layer.
    Word2vec(super::word2vec::Word2vecArgs),
}

/// The optimizer of `train`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam (β₁ 0.9, β₂ 0.999); default learning rate 0.001.
    Adam,
    /// Plain stochastic gradient descent; default learning rate 0.05.
    Sgd,
}

/// The kind of model `train` builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// A multi-layer perceptron (`--arch`).
    Mlp,
    /// A transformer encoder classifier over the features read as a sequence (`--seq`,
    /// `--width`, `--heads`, `--ff`, `--blocks`).
    Transformer,
}

/// The kind of student `distill` trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StudentKind {
    /// The pipeline's student, chosen from the data's shape (convolutional on square images,
    /// an MLP otherwise), trained jointly with its teacher.
    Auto,
    /// A transformer student (`--seq`, `--width`, `--heads`, `--ff`, `--blocks`,
    /// `--dropout`), distilled in two stages from a frozen teacher.
    Transformer,
}

/// Flags of `tinytune train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Labelled CSV file: a header line whose last column is `label`, then one sample per line
    /// (numeric features, integer label). Labels must be 0..K-1, every one present, K ≥ 2.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Output directory (created if missing; existing files of the same names are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of the split, the initialisation, the shuffling and dropout [default: 0, or the
    /// config's `[train] seed`].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Print one JSON object with the results as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Hidden layer widths, comma-separated, 1 to 8 layers (e.g. "64,32") [default: 64, or the
    /// config's `[model] hidden`].
    #[arg(long, value_name = "WIDTHS", value_parser = arch::parse_widths, conflicts_with = "config")]
    pub arch: Option<arch::Widths>,
    /// The kind of model [default: mlp, or the config's `[model] kind`].
    #[arg(long, value_enum)]
    pub model: Option<ModelKind>,
    /// The transformer's shape (with `--model transformer`).
    #[command(flatten)]
    pub transformer: TransformerFlags,
    /// TOML file with `[model]` (kind = "mlp" or "transformer", hidden = [64, 32], dropout;
    /// for a transformer seq, width, heads, ff, blocks) and `[train]` (epochs, batch, lr,
    /// optimizer, l2, patience, seed) settings; flags given on the command line win.
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Maximum number of epochs [default: 100].
    #[arg(long, value_name = "N", value_parser = arch::parse_positive_usize)]
    pub epochs: Option<usize>,
    /// Mini-batch size [default: 32].
    #[arg(long, value_name = "N", value_parser = arch::parse_positive_usize)]
    pub batch: Option<usize>,
    /// Learning rate, > 0 [default: 0.001 for adam (0.002 for a transformer), 0.05 for sgd].
    #[arg(long, value_name = "X", value_parser = arch::parse_lr)]
    pub lr: Option<f32>,
    /// Optimizer [default: adam].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerKind>,
    /// Dropout rate after each hidden layer (transformer: inside each block, on the attention
    /// and feed-forward outputs), in [0, 1) [default: 0].
    #[arg(long, value_name = "P", value_parser = arch::parse_dropout)]
    pub dropout: Option<f32>,
    /// L2 penalty λ (adds λ·w to every parameter's gradient), ≥ 0 [default: 0].
    #[arg(long, value_name = "X", value_parser = arch::parse_l2)]
    pub l2: Option<f32>,
    /// Early stopping: stop after N epochs without a lower validation loss (0: at the first
    /// such epoch) [default: 10].
    #[arg(long, value_name = "N", value_parser = arch::parse_usize)]
    pub patience: Option<usize>,
}

/// Flags of `tinytune eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A trained model: the output directory of `tinytune train`, its `model.json`, or a `.ttm`
    /// model file (f32 or int8; its own preprocessing is applied).
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub model: PathBuf,
    /// A second model (same forms as `--model`), for example the f32 model an int8 `.ttm` was
    /// quantized from: its accuracy and the fraction of samples on which the two agree.
    #[arg(long, value_name = "DIR_OR_FILE")]
    pub reference: Option<PathBuf>,
    /// Labelled CSV file with the model's features (same count, same order) and labels in
    /// 0..K-1 for the model's K classes.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Print one JSON object with the results as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Directory to write `confusion.png` into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Flags of `tinytune distill`.
#[derive(Debug, Args)]
pub struct DistillArgs {
    /// Labelled CSV file (as for `train`): header with `label` last, numeric features,
    /// labels 0..K-1, at least 3 samples per class.
    #[arg(long, value_name = "FILE.csv")]
    pub data: PathBuf,
    /// Output directory (created if missing) for `summary.json`, `student.ttm` (the int8
    /// student) and `student.safetensors` (its f32 weights).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Two-stage distillation from this teacher, a `tinytune train` output (directory or
    /// `model.json`), instead of joint training: the student learns from the frozen teacher's
    /// logits (KD T 4, alpha 0.7 unless `--kd-temperature/--kd-alpha` are given); every model
    /// gets the data standardised by the teacher's own scaler.
    #[arg(long, value_name = "TEACHER")]
    pub teacher: Option<PathBuf>,
    /// Replace the teacher's parameters by this safetensors file's tensors
    /// (`layers.{i}.dense.weight` `[out, in]` and `layers.{i}.dense.bias`, `i` counting every
    /// operation of the teacher; e.g. trained in PyTorch and renamed).
    #[arg(long, value_name = "FILE.safetensors", requires = "teacher")]
    pub teacher_weights: Option<PathBuf>,
    /// Read `--teacher-weights` in PyTorch's layout (convolutions OIHW; dense is the same).
    #[arg(long, requires = "teacher_weights")]
    pub pytorch_layout: bool,
    /// The student: the pipeline's (chosen from the data's shape) or a transformer, distilled
    /// in two stages from a frozen teacher (the pipeline's teacher trained alone, or
    /// `--teacher`) and compared with the same transformer trained alone [default: auto].
    #[arg(long, value_enum, default_value_t = StudentKind::Auto)]
    pub student: StudentKind,
    /// The transformer student's shape (with `--student transformer`).
    #[command(flatten)]
    pub transformer: TransformerFlags,
    /// Dropout rate inside the transformer student's blocks, in [0, 1) (with `--student
    /// transformer`) [default: 0].
    #[arg(long, value_name = "P", value_parser = arch::parse_dropout)]
    pub dropout: Option<f32>,
    /// Distillation settings shared with `demo`.
    #[command(flatten)]
    pub common: DistillCommon,
}

/// Flags of `tinytune demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Labelled CSV file [default: the repository's `data/digits.csv`, located from the
    /// tinytune-cli crate's directory at build time].
    #[arg(long, value_name = "FILE.csv")]
    pub data: Option<PathBuf>,
    /// Output directory (created if missing) for `summary.json`, `student.ttm` (the int8
    /// student) and `student.safetensors` (its f32 weights).
    #[arg(long, value_name = "DIR", default_value = "target/tinytune-demo")]
    pub out: PathBuf,
    /// Distillation settings shared with `distill`.
    #[command(flatten)]
    pub common: DistillCommon,
}

/// The settings `distill` and `demo` share.
#[derive(Debug, Args)]
pub struct DistillCommon {
    /// Seed of the split, the initialisation and the shuffling [default: 0].
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object with the results as the last line of stdout.
    #[arg(long)]
    pub json: bool,
    /// Maximum number of epochs of each training run (joint, and the student alone)
    /// [default: 100].
    #[arg(long, value_name = "N", value_parser = arch::parse_positive_usize)]
    pub epochs: Option<usize>,
    /// Weight γ ≥ 0 of the logit hint ‖z_t − z_s‖² [default: 0.03].
    #[arg(long, value_name = "X", value_parser = arch::parse_l2)]
    pub gamma: Option<f32>,
    /// Temperature T > 0 of Hinton's KD term on the student (with `--kd-alpha`; 2.5–4 suits
    /// small students) [default: no KD term].
    #[arg(long, value_name = "T", value_parser = arch::parse_lr, requires = "kd_alpha")]
    pub kd_temperature: Option<f32>,
    /// Weight α in [0, 1] of the KD term (with `--kd-temperature`).
    #[arg(long, value_name = "A", value_parser = parse_unit, requires = "kd_temperature")]
    pub kd_alpha: Option<f32>,
}

/// Parses a number in `[0, 1]`.
///
/// # Errors
/// A message if `s` is not such a number.
pub fn parse_unit(s: &str) -> Result<f32, String> {
    let x = s
        .trim()
        .parse::<f32>()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} must be in [0, 1]"))
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// clap's own consistency checks of the definitions (they would panic at run time).
    #[test]
    fn clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
