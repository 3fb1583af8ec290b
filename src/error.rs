//! Error types, one small `Copy` enum per area. None carries a string: they are cheap to return
//! from a kernel on a microcontroller and print through `Display` on the host or `defmt` on a board.

use core::fmt;

/// Which buffer of a kernel call an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Buffer {
    /// The (first) input.
    Input,
    /// The second input of a binary operation (elementwise add/mul, the right side of a matmul).
    Input2,
    /// The weights (filter) tensor.
    Weights,
    /// The bias vector.
    Bias,
    /// The per-channel requantization parameters.
    Requant,
    /// The output.
    Output,
    /// Caller-provided scratch memory.
    Scratch,
    /// A layer's parameters (weights and biases in the layer's documented order).
    Params,
    /// A layer's running statistics (batch norm's running mean and variance).
    Stats,
    /// The activation cache a training forward pass fills and the backward pass reads.
    Cache,
    /// The gradient with respect to a layer's output, passed into backward.
    GradOutput,
    /// The gradient with respect to a layer's input, written by backward.
    GradInput,
    /// The gradients with respect to the parameters, accumulated by backward.
    GradParams,
    /// Training targets (labels or regression values).
    Targets,
    /// An optimizer's state (momentum, Adam moments).
    OptimizerState,
    /// word2vec's word (input) vectors, `[vocab, dim]`.
    WordVectors,
    /// word2vec's context (output) vectors, or its hierarchical-softmax node vectors.
    ContextVectors,
    /// A lookup structure built from word counts (word2vec's negative-sampling table or Huffman
    /// tree) or the counts themselves.
    Table,
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Buffer::Input => "input",
            Buffer::Input2 => "second input",
            Buffer::Weights => "weights",
            Buffer::Bias => "bias",
            Buffer::Requant => "requantization parameters",
            Buffer::Output => "output",
            Buffer::Scratch => "scratch",
            Buffer::Params => "parameters",
            Buffer::Stats => "running statistics",
            Buffer::Cache => "activation cache",
            Buffer::GradOutput => "output gradient",
            Buffer::GradInput => "input gradient",
            Buffer::GradParams => "parameter gradients",
            Buffer::Targets => "targets",
            Buffer::OptimizerState => "optimizer state",
            Buffer::WordVectors => "word vectors",
            Buffer::ContextVectors => "context vectors",
            Buffer::Table => "sampling table",
        };
        f.write_str(name)
    }
}

/// A shape or buffer-length problem found when a kernel or layer is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ShapeError {
    /// A buffer's length differs from the length the shape requires.
    Length {
        /// The buffer concerned.
        buffer: Buffer,
        /// The length the shape requires (for scratch: the minimum).
        expected: usize,
        /// The length that was passed.
        actual: usize,
    },
    /// A dimension is zero where it must not be, or a product of dimensions overflows `usize`.
    Dimension,
    /// A geometric parameter (stride, dilation, kernel size, channel multiplier) is zero or makes
    /// the output empty.
    Parameter,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::Length {
                buffer,
                expected,
                actual,
            } => write!(
                f,
                "{buffer} has length {actual}, the shape requires {expected}"
            ),
            ShapeError::Dimension => {
                f.write_str("a dimension is zero or the element count overflows")
            }
            ShapeError::Parameter => f.write_str(
                "a stride, dilation, kernel size or channel multiplier is zero or leaves no output",
            ),
        }
    }
}

impl core::error::Error for ShapeError {}

/// A quantization parameter that cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum QuantError {
    /// A scale is zero, negative, NaN or infinite.
    InvalidScale,
    /// A zero point lies outside the range of the quantized type.
    InvalidZeroPoint,
    /// A real multiplier is negative, NaN, infinite or outside the range the requantizer represents.
    InvalidMultiplier,
    /// The number of per-channel parameters does not match the number of channels.
    ChannelCount,
    /// A real range to quantize is empty, NaN or infinite.
    InvalidRange,
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantError::InvalidScale => "scale must be finite and greater than zero",
            QuantError::InvalidZeroPoint => "zero point outside the range of the quantized type",
            QuantError::InvalidMultiplier => {
                "real multiplier must be finite, non-negative and representable"
            }
            QuantError::ChannelCount => "per-channel parameter count differs from channel count",
            QuantError::InvalidRange => "range must be finite with min <= max",
        })
    }
}

impl core::error::Error for QuantError {}

/// An error of a layer, a model or a training step: the union of the area errors, plus the
/// conditions only a layer can meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// A shape, geometry or buffer length is wrong.
    Shape(ShapeError),
    /// A quantization parameter cannot be used.
    Quant(QuantError),
    /// An index input (an embedding's token id) is not an integer in `0..len`.
    Index {
        /// Position of the offending value in the input.
        position: usize,
        /// Number of valid indices (the vocabulary size).
        len: usize,
    },
    /// A configuration value outside its domain (a dropout rate outside `[0, 1)`, a negative
    /// epsilon or momentum, a non-finite constant).
    Config,
    /// In a sequential model, the input length of layer `layer` differs from the output length of
    /// the layer before it.
    Chain {
        /// Index of the layer whose input does not fit.
        layer: usize,
        /// Per-sample output length of the layer before.
        expected: usize,
        /// Per-sample input length of this layer.
        actual: usize,
    },
    /// A training call needs to write parameters or statistics that were given read-only
    /// (for example batch norm in training mode with frozen running statistics).
    Frozen,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape(e) => write!(f, "shape error: {e}"),
            Error::Quant(e) => write!(f, "quantization error: {e}"),
            Error::Index { position, len } => write!(
                f,
                "input value at position {position} is not an integer index below {len}"
            ),
            Error::Config => f.write_str("a configuration value is outside its domain"),
            Error::Chain {
                layer,
                expected,
                actual,
            } => write!(
                f,
                "layer {layer} takes {actual} values per sample, the layer before gives {expected}"
            ),
            Error::Frozen => {
                f.write_str("training needs to write parameters that were given read-only")
            }
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Shape(e) => Some(e),
            Error::Quant(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ShapeError> for Error {
    fn from(e: ShapeError) -> Self {
        Error::Shape(e)
    }
}

impl From<QuantError> for Error {
    fn from(e: QuantError) -> Self {
        Error::Quant(e)
    }
}

impl From<crate::num::quant::QuantizeError> for Error {
    fn from(e: crate::num::quant::QuantizeError) -> Self {
        match e {
            crate::num::quant::QuantizeError::Shape(e) => Error::Shape(e),
            crate::num::quant::QuantizeError::Quant(e) => Error::Quant(e),
        }
    }
}

/// Returns `Ok(())` when `actual == expected`, else the [`ShapeError::Length`] naming `buffer`.
#[inline]
pub(crate) fn check_len(buffer: Buffer, expected: usize, actual: usize) -> Result<(), ShapeError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ShapeError::Length {
            buffer,
            expected,
            actual,
        })
    }
}

/// Product of dimensions, or [`ShapeError::Dimension`] on overflow.
#[inline]
pub(crate) fn product(dims: &[usize]) -> Result<usize, ShapeError> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(ShapeError::Dimension)
}

/// The element type of a model's activations between two operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DType {
    /// 32-bit floats.
    F32,
    /// Quantized 8-bit integers.
    S8,
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::S8 => "int8",
        })
    }
}

/// A cargo feature of the crate that adds op kinds to what [`Model`](crate::model::Model) reads
/// and runs (all on by default; see the `ops-*` features in the crate's `Cargo.toml`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpFeature {
    /// `ops-f32`: the f32 kinds.
    F32,
    /// `ops-activation`: activation ops of the ReLU family.
    Activation,
    /// `ops-exp-activations`: sigmoid, tanh, GELU and softmax.
    ExpActivations,
    /// `ops-conv`: convolutions.
    Conv,
    /// `ops-pool`: pooling.
    Pool,
    /// `ops-norm`: batch and layer norm.
    Norm,
    /// `ops-embedding`: embedding.
    Embedding,
    /// `ops-attention`: positional encodings and transformer encoder blocks.
    Attention,
}

impl OpFeature {
    /// The feature's name in `Cargo.toml` (`"ops-conv"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            OpFeature::F32 => "ops-f32",
            OpFeature::Activation => "ops-activation",
            OpFeature::ExpActivations => "ops-exp-activations",
            OpFeature::Conv => "ops-conv",
            OpFeature::Pool => "ops-pool",
            OpFeature::Norm => "ops-norm",
            OpFeature::Embedding => "ops-embedding",
            OpFeature::Attention => "ops-attention",
        }
    }
}

impl fmt::Display for OpFeature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a `.ttm` model file (see `docs/ttm-format.md`), and where.
///
/// `layer` fields are 0-based indices into the layer table; `offset`s are byte offsets from the
/// start of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FormatError {
    /// The file does not start with the magic bytes `TTM\0`.
    BadMagic,
    /// The file's major format version is not one this reader understands.
    UnsupportedVersion {
        /// Major version in the file.
        major: u16,
        /// Minor version in the file.
        minor: u16,
    },
    /// The buffer is shorter than the header or than the length the header declares.
    Truncated {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        len: usize,
    },
    /// The CRC-32 stored in the header differs from the one computed over the file.
    Crc {
        /// Stored value.
        stored: u32,
        /// Computed value.
        computed: u32,
    },
    /// The buffer does not start at an 8-byte aligned address (tensors are read in place).
    Misaligned,
    /// A section of the header (`"header"`, `"table"`, `"metadata"`, `"data"`) has an offset or
    /// length outside the file, misaligned, or smaller than this version's minimum.
    Section {
        /// The section.
        section: &'static str,
    },
    /// A layer record has a kind tag this reader does not know.
    LayerKind {
        /// Layer index.
        layer: usize,
        /// The tag.
        tag: u32,
    },
    /// A layer record has a field with a value outside its encoding (an enum tag, a bool, a
    /// `u32` that does not fit `usize`, an int8 clamp with nonzero high bits).
    Field {
        /// Layer index.
        layer: usize,
        /// Name of the field.
        field: &'static str,
    },
    /// A tensor reference points outside the file or its data section, or overflows.
    TensorOutOfBounds {
        /// Layer index.
        layer: usize,
        /// Byte offset of the tensor.
        offset: usize,
        /// Number of elements.
        len: usize,
    },
    /// A tensor reference is not 8-byte aligned.
    TensorMisaligned {
        /// Layer index.
        layer: usize,
        /// Byte offset of the tensor.
        offset: usize,
    },
    /// A layer's configuration or tensor lengths are inconsistent (as its `…Config::init`).
    Shape {
        /// Layer index.
        layer: usize,
        /// The problem.
        error: ShapeError,
    },
    /// A layer's quantization parameters cannot be used.
    Quant {
        /// Layer index.
        layer: usize,
        /// The problem.
        error: QuantError,
    },
    /// A layer's configuration value is outside its domain (`Error::Config` from its `init`).
    Config {
        /// Layer index.
        layer: usize,
    },
    /// Layer `layer` takes `actual` values per sample; the layer before (or the model input)
    /// gives `expected`.
    Chain {
        /// Layer index.
        layer: usize,
        /// Values per sample given by the layer before.
        expected: usize,
        /// Values per sample this layer takes.
        actual: usize,
    },
    /// Layer `layer` takes `expected` activations but receives `actual` ones (an int8 layer
    /// after an f32 one without a `Quantize` between). `layer` equal to the layer count means
    /// the model's output, which must be f32.
    DType {
        /// Layer index.
        layer: usize,
        /// The element type the layer takes.
        expected: DType,
        /// The element type it receives.
        actual: DType,
    },
    /// The model has no layers.
    Empty,
    /// A metadata field (`"input_len"`, `"output_len"`, `"num_classes"`, `"scaler"`,
    /// `"class_names"`) is invalid or disagrees with the layers.
    Meta {
        /// Name of the field.
        field: &'static str,
    },
    /// Writing: a value does not fit the format's `u32` (layer index, or the layer count for
    /// the file as a whole).
    TooLarge {
        /// Layer index.
        layer: usize,
    },
    /// Writing: the output buffer is too small.
    OutputTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        len: usize,
    },
    /// A layer has a kind (or, for an activation, a function) this build of the crate leaves
    /// out: the core's cargo feature `feature` adds it to what
    /// [`Model`](crate::model::Model) reads and runs.
    Unsupported {
        /// Layer index.
        layer: usize,
        /// The record's kind tag.
        tag: u32,
        /// The cargo feature that adds it.
        feature: OpFeature,
    },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FormatError::BadMagic => f.write_str("not a model file: bad magic bytes"),
            FormatError::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported format version {major}.{minor}")
            }
            FormatError::Truncated { needed, len } => {
                write!(f, "file truncated: {len} bytes, {needed} needed")
            }
            FormatError::Crc { stored, computed } => write!(
                f,
                "CRC mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            FormatError::Misaligned => {
                f.write_str("model buffer is not 8-byte aligned (see `include_model!`)")
            }
            FormatError::Section { section } => write!(f, "invalid {section} section"),
            FormatError::LayerKind { layer, tag } => {
                write!(f, "layer {layer}: unknown kind tag {tag}")
            }
            FormatError::Unsupported {
                layer,
                tag,
                feature,
            } => write!(
                f,
                "layer {layer}: kind {tag} is left out of this build (the core's feature `{feature}` adds it)"
            ),
            FormatError::Field { layer, field } => {
                write!(f, "layer {layer}: invalid value of field `{field}`")
            }
            FormatError::TensorOutOfBounds { layer, offset, len } => write!(
                f,
                "layer {layer}: tensor at offset {offset} with {len} elements lies outside the data section"
            ),
            FormatError::TensorMisaligned { layer, offset } => {
                write!(f, "layer {layer}: tensor offset {offset} is not 8-byte aligned")
            }
            FormatError::Shape { layer, error } => write!(f, "layer {layer}: {error}"),
            FormatError::Quant { layer, error } => write!(f, "layer {layer}: {error}"),
            FormatError::Config { layer } => {
                write!(f, "layer {layer}: a configuration value is outside its domain")
            }
            FormatError::Chain {
                layer,
                expected,
                actual,
            } => write!(
                f,
                "layer {layer} takes {actual} values per sample, the layer before gives {expected}"
            ),
            FormatError::DType {
                layer,
                expected,
                actual,
            } => write!(f, "layer {layer} takes {expected} activations, receives {actual}"),
            FormatError::Empty => f.write_str("the model has no layers"),
            FormatError::Meta { field } => write!(f, "invalid metadata field `{field}`"),
            FormatError::TooLarge { layer } => {
                write!(f, "layer {layer}: a value does not fit the format's u32")
            }
            FormatError::OutputTooSmall { needed, len } => {
                write!(f, "output buffer has {len} bytes, {needed} needed")
            }
        }
    }
}

impl core::error::Error for FormatError {}
