//! The transformer's architecture settings of `train` and `distill`: flags
//! ([`TransformerFlags`]), the `[model]` keys of `train`'s TOML file, their checks, and the
//! resolution against the data ([`TransformerArch::spec`]).
//!
//! Every value remembers where it came from ([`Origin`]) so that a value that does not fit
//! (heads not dividing the width, a sequence length not dividing the feature count) is
//! reported against the flag or the file and key that gave it.

use clap::Args;

use super::spec::Spec;
use crate::app::arch::{parse_positive_usize, ModelSection};
use crate::app::args::{ModelKind, TrainArgs};
use crate::app::AppError;

/// Widest model accepted.
pub const MAX_WIDTH: usize = 1024;
/// Widest feed-forward layer accepted.
pub const MAX_FF: usize = 8192;
/// Most encoder blocks accepted.
pub const MAX_BLOCKS: usize = 8;
/// Most heads accepted.
pub const MAX_HEADS: usize = 64;
/// Default model width.
pub const DEFAULT_WIDTH: usize = 16;
/// Default number of heads.
pub const DEFAULT_HEADS: usize = 2;
/// Default number of blocks.
pub const DEFAULT_BLOCKS: usize = 1;
/// Default Adam learning rate of a transformer (the one the digits figures were measured
/// with; 0.001 trains too slowly within the default epochs).
pub const DEFAULT_LR: f32 = 2e-3;

/// The transformer's flags (each optional; `train` also reads them from its TOML file).
#[derive(Clone, Debug, Default, Args)]
pub struct TransformerFlags {
    /// Transformer: positions per sample; must divide the feature count, each position then
    /// holding features/seq consecutive values [default: the largest divisor of the feature
    /// count not above its square root, 8 for 64 features].
    #[arg(long, value_name = "N", value_parser = parse_positive_usize)]
    pub seq: Option<usize>,
    /// Transformer: model width, 1 to 1024 [default: 16].
    #[arg(long, value_name = "N", value_parser = parse_positive_usize)]
    pub width: Option<usize>,
    /// Transformer: attention heads; must divide the width [default: 2].
    #[arg(long, value_name = "N", value_parser = parse_positive_usize)]
    pub heads: Option<usize>,
    /// Transformer: feed-forward hidden width, 1 to 8192 [default: 2 × width].
    #[arg(long, value_name = "N", value_parser = parse_positive_usize)]
    pub ff: Option<usize>,
    /// Transformer: encoder blocks, 1 to 8 [default: 1].
    #[arg(long, value_name = "N", value_parser = parse_positive_usize)]
    pub blocks: Option<usize>,
}

impl TransformerFlags {
    /// The long name of the first flag given (`--seq`, `--width`, …), if any.
    pub fn first_given(&self) -> Option<&'static str> {
        [
            ("--seq", self.seq),
            ("--width", self.width),
            ("--heads", self.heads),
            ("--ff", self.ff),
            ("--blocks", self.blocks),
        ]
        .into_iter()
        .find_map(|(name, v)| v.map(|_| name))
    }
}

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag (`--heads`).
    Flag(&'static str),
    /// A TOML file's key: the file's name and `[model] heads`.
    File(String, &'static str),
    /// The default.
    Default(&'static str),
}

impl Origin {
    /// How messages name it: `--heads 3`, `cfg.toml: [model] heads = 3`, `the default seq 8`.
    pub fn describe(&self, value: usize) -> String {
        match self {
            Origin::Flag(f) => format!("{f} {value}"),
            Origin::File(file, key) => format!("{file}: {key} = {value}"),
            Origin::Default(name) => format!("the default {name} {value}"),
        }
    }
}

/// A setting and its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The value.
    pub value: usize,
    /// Where it came from.
    pub origin: Origin,
}

/// The transformer's settings, resolved from flags, file and defaults; `seq: None` is resolved
/// against the data by [`TransformerArch::spec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerArch {
    /// Positions per sample, if given.
    pub seq: Option<Setting>,
    /// Model width.
    pub width: Setting,
    /// Attention heads.
    pub heads: Setting,
    /// Feed-forward width.
    pub ff: Setting,
    /// Encoder blocks.
    pub blocks: Setting,
}

/// The values of a TOML file's `[model]` keys for the transformer, with the file's name.
#[derive(Clone, Debug, Default)]
pub struct FileKeys {
    /// The file's name as shown in messages.
    pub file: String,
    /// `seq`.
    pub seq: Option<usize>,
    /// `width`.
    pub width: Option<usize>,
    /// `heads`.
    pub heads: Option<usize>,
    /// `ff`.
    pub ff: Option<usize>,
    /// `blocks`.
    pub blocks: Option<usize>,
}

/// Checks one `[model]` key's value of a TOML file: `seq`, `width`, `heads`, `ff`, `blocks`
/// must be within their ranges.
///
/// # Errors
/// A message (without the file and key, which the caller adds).
pub fn check_key(key: &str, value: usize) -> Result<(), String> {
    let max = match key {
        "width" => MAX_WIDTH,
        "heads" => MAX_HEADS,
        "ff" => MAX_FF,
        "blocks" => MAX_BLOCKS,
        _ => usize::MAX,
    };
    if value == 0 || value > max {
        Err(if max == usize::MAX {
            format!("{value} must be at least 1")
        } else {
            format!("{value} must be between 1 and {max}")
        })
    } else {
        Ok(())
    }
}

/// Resolves the settings: each flag wins over the file's key, which wins over the default;
/// checks the ranges of flag values and that the heads divide the width.
///
/// # Errors
/// A value out of range or heads not dividing the width; the message names the flag, or the
/// file and key, that gave the offending value.
pub fn resolve(flags: &TransformerFlags, file: &FileKeys) -> Result<TransformerArch, AppError> {
    let pick = |flag: Option<usize>, name: &'static str, key: &'static str, from_file| match (
        flag, from_file,
    ) {
        (Some(v), _) => Some(Setting {
            value: v,
            origin: Origin::Flag(name),
        }),
        (None, Some(v)) => Some(Setting {
            value: v,
            origin: Origin::File(file.file.clone(), key),
        }),
        (None, None) => None,
    };
    let or_default = |s: Option<Setting>, name: &'static str, value: usize| {
        s.unwrap_or(Setting {
            value,
            origin: Origin::Default(name),
        })
    };
    let width = or_default(
        pick(flags.width, "--width", "[model] width", file.width),
        "width",
        DEFAULT_WIDTH,
    );
    let heads = or_default(
        pick(flags.heads, "--heads", "[model] heads", file.heads),
        "heads",
        DEFAULT_HEADS,
    );
    let ff = or_default(
        pick(flags.ff, "--ff", "[model] ff", file.ff),
        "ff",
        2 * width.value,
    );
    let blocks = or_default(
        pick(flags.blocks, "--blocks", "[model] blocks", file.blocks),
        "blocks",
        DEFAULT_BLOCKS,
    );
    let seq = pick(flags.seq, "--seq", "[model] seq", file.seq);
    for (s, key) in [
        (&width, "width"),
        (&heads, "heads"),
        (&ff, "ff"),
        (&blocks, "blocks"),
    ] {
        check_key(key, s.value).map_err(|e| at(&s.origin, &e))?;
    }
    if width.value % heads.value != 0 {
        // Blame the heads unless only the width was chosen by the user.
        let blamed = if matches!(heads.origin, Origin::Default(_)) {
            &width
        } else {
            &heads
        };
        return Err(AppError::new(format!(
            "{}: the heads ({}) must divide the width ({})",
            blamed.origin.describe(blamed.value),
            heads.value,
            width.value
        )));
    }
    Ok(TransformerArch {
        seq,
        width,
        heads,
        ff,
        blocks,
    })
}

fn at(origin: &Origin, e: &str) -> AppError {
    match origin {
        Origin::Flag(f) => AppError::new(format!("{f}: {e}")),
        Origin::File(file, key) => AppError::new(format!("{file}: {key}: {e}")),
        Origin::Default(name) => AppError::new(format!("the default {name}: {e}")),
    }
}

/// The largest divisor of `n` not above `√n` (1 for a prime, 8 for 64).
pub fn default_seq(n: usize) -> usize {
    (1..=n)
        .take_while(|d| d.saturating_mul(*d) <= n)
        .filter(|d| n % d == 0)
        .last()
        .unwrap_or(1)
}

impl TransformerArch {
    /// The model for `features` values per sample and `classes` classes (dropout `dropout` in
    /// the blocks while training); `data` names the data in messages.
    ///
    /// # Errors
    /// The sequence length does not divide the feature count (the message names where the
    /// length came from), or the core rejects the shape.
    pub fn spec(
        &self,
        features: usize,
        classes: usize,
        dropout: f32,
        data: &str,
    ) -> Result<Spec, AppError> {
        let seq = self.seq.clone().unwrap_or(Setting {
            value: default_seq(features),
            origin: Origin::Default("seq"),
        });
        if seq.value == 0 || features % seq.value != 0 {
            return Err(AppError::new(format!(
                "{}: the sequence length must divide the {features} features of {data}",
                seq.origin.describe(seq.value)
            )));
        }
        let spec = Spec {
            seq: seq.value,
            features: features / seq.value,
            width: self.width.value,
            heads: self.heads.value,
            ff: self.ff.value,
            blocks: self.blocks.value,
            dropout,
            classes,
        };
        spec.validate().map_err(|e| {
            AppError::new(format!(
                "the transformer {} is not a valid model: {e}",
                spec.describe()
            ))
        })?;
        Ok(spec)
    }
}

/// Checks that the flags and `[model]` keys given belong to `model`, and resolves the
/// transformer's settings (`None` for an MLP): `train`'s side of [`resolve`]. `name` is the
/// TOML file's name.
///
/// # Errors
/// A flag of the other kind of model (usage error, exit status 2), a file key of the other
/// kind (naming the file and key), or a transformer setting out of range.
pub fn train_keys(
    args: &TrainArgs,
    section: &ModelSection,
    model: ModelKind,
    name: &str,
) -> Result<Option<TransformerArch>, AppError> {
    let usage = |m: String| AppError {
        message: m,
        exit_code: 2,
    };
    match model {
        ModelKind::Mlp => {
            if let Some(flag) = args.transformer.first_given() {
                return Err(usage(format!(
                    "{flag} is a transformer setting: add --model transformer"
                )));
            }
            let keys = [
                ("seq", section.seq),
                ("width", section.width),
                ("heads", section.heads),
                ("ff", section.ff),
                ("blocks", section.blocks),
            ];
            if let Some((key, _)) = keys.iter().find(|(_, v)| v.is_some()) {
                return Err(AppError::new(format!(
                    "{name}: [model] {key}: only for kind = \"transformer\" (the model is an \
                     MLP; set kind = \"transformer\" or pass --model transformer)"
                )));
            }
            Ok(None)
        }
        ModelKind::Transformer => {
            if args.arch.is_some() {
                return Err(usage(
                    "--arch sets an MLP's hidden layers: the transformer takes --seq, --width, \
                     --heads, --ff and --blocks"
                        .into(),
                ));
            }
            if section.hidden.is_some() {
                return Err(AppError::new(format!(
                    "{name}: [model] hidden: only for kind = \"mlp\" (the transformer takes \
                     seq, width, heads, ff and blocks)"
                )));
            }
            let keys = FileKeys {
                file: name.to_string(),
                seq: section.seq,
                width: section.width,
                heads: section.heads,
                ff: section.ff,
                blocks: section.blocks,
            };
            resolve(&args.transformer, &keys).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seq_is_the_largest_divisor_up_to_the_square_root() {
        // Worked by hand: 64 → 8, 60 → 6 (divisors 1 2 3 4 5 6 | 10 …), 7 → 1, 1 → 1.
        assert_eq!(default_seq(64), 8);
        assert_eq!(default_seq(60), 6);
        assert_eq!(default_seq(7), 1);
        assert_eq!(default_seq(1), 1);
    }

    #[test]
    fn heads_must_divide_width_and_the_message_names_the_source() {
        let flags = TransformerFlags {
            width: Some(16),
            heads: Some(3),
            ..Default::default()
        };
        let e = resolve(&flags, &FileKeys::default()).unwrap_err();
        assert!(e.message.contains("--heads 3"), "{}", e.message);
        let file = FileKeys {
            file: "m.toml".into(),
            heads: Some(5),
            ..Default::default()
        };
        let e = resolve(&TransformerFlags::default(), &file).unwrap_err();
        assert!(
            e.message.contains("m.toml: [model] heads = 5"),
            "{}",
            e.message
        );
    }
}
