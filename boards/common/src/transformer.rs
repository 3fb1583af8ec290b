//! The transformer showcase the emulated Cortex-M4F runs in CI: the distilled digits
//! transformer student (each 8×8 image read as 8 rows of 8 features; one pre-LN encoder block
//! of width 16 with 2 heads), shipped twice, as f32 (`data/transformer-f32.ttm`) and as int8
//! (`data/transformer-int8.ttm`), both written by `cargo xtask demo-data` through
//! `tinytune distill --student transformer`.
//!
//! It runs both files on the 539 held-out samples the demo uses (never seen in training), and
//! reports:
//! - the accuracy of each on the **test part** (the last 269 samples; the first 270 were the
//!   validation split that chose the training epoch);
//! - the CRC-32 of every int8 output on all 539 samples, which CI compares with what
//!   `tinytune eval` computes on the host for the same file and samples (bit-identical
//!   device and host int8 inference);
//! - the RAM the int8 inference needs (the model's arena, its requantizers, one input and one
//!   output), and the mean instructions of one int8 inference (`Model::run`, one sample).
//!
//! The last line is `transformer: acc_f32=… acc_int8=… ram_bytes=… insns_per_inference=…`.

use crate::demo::{argmax, FEATURES, LABELS, TUNE_SAMPLES, WIDTH};
use crate::{Platform, Replay};
use static_cell::ConstStaticCell;
use tinytune::model::{FormatError, Model};
use tinytune::num::quant::Requantizer;

/// The f32 transformer student, 8-byte aligned in flash.
pub fn model_f32() -> &'static [u8] {
    tinytune::include_model!("../data/transformer-f32.ttm")
}

/// The int8 transformer student, 8-byte aligned in flash.
pub fn model_int8() -> &'static [u8] {
    tinytune::include_model!("../data/transformer-int8.ttm")
}

/// Bytes of the static arena both models run in: the f32 model needs the most, 5,123 B (its
/// encoder scratch is f32); the int8 model 1,059 B.
pub const ARENA: usize = 6 * 1024;
/// Requantizers the int8 model may need.
pub const REQUANT: usize = 128;
/// Most classes a model may have.
const MAX_CLASSES: usize = 16;

/// The showcase's buffers, in .bss.
pub struct Buffers {
    arena: [u8; ARENA],
    requant: [Requantizer; REQUANT],
}

impl Buffers {
    /// Zeroed buffers (const, for a static).
    pub const fn new() -> Self {
        Buffers {
            arena: [0; ARENA],
            requant: [Requantizer {
                multiplier: 0,
                shift: 0,
            }; REQUANT],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers::new());

/// What failed.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ShowcaseError {
    /// A model file was rejected.
    Model(FormatError),
    /// Running a model failed.
    Run(tinytune::Error),
    /// The buffers are too small for a model, or its shapes do not fit the samples.
    Buffers,
    /// The stored samples are malformed.
    Data,
}

impl From<tinytune::Error> for ShowcaseError {
    fn from(e: tinytune::Error) -> Self {
        ShowcaseError::Run(e)
    }
}

/// The showcase's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// Correct / total on the test part, f32 model.
    pub acc_f32: (u32, u32),
    /// Correct / total on the test part, int8 model.
    pub acc_int8: (u32, u32),
    /// RAM of one int8 inference: arena, requantizers (8 bytes each), input and output (f32).
    pub ram_bytes: u32,
    /// Mean instructions of one int8 inference.
    pub insns_per_inference: u64,
    /// CRC-32 of every int8 output value on all held-out samples (little-endian `f32` bytes,
    /// sample after sample), as `tinytune eval` prints it.
    pub outputs_crc32: u32,
}

/// Correct test-part predictions of `model`, the instructions spent in `Model::run` and the
/// CRC-32 state over every output.
fn evaluate<P: Platform>(
    model: &Model<'_>,
    platform: &mut P,
    bufs: &mut Buffers,
) -> Result<(u32, u64, u32), ShowcaseError> {
    let data = Replay::new(FEATURES, LABELS, WIDTH).ok_or(ShowcaseError::Data)?;
    let classes = model.output_len();
    let mut output = [0f32; MAX_CLASSES];
    let output = output.get_mut(..classes).ok_or(ShowcaseError::Buffers)?;
    let fits = model.input_len() == WIDTH
        && model.arena_len(1)? <= ARENA
        && model.requant_len() <= REQUANT;
    if !fits {
        return Err(ShowcaseError::Buffers);
    }
    let mut sample = [0f32; WIDTH];
    let (mut correct, mut insns, mut crc) = (0u32, 0u64, 0xFFFF_FFFFu32);
    for i in 0..data.samples() {
        let label = data.sample(i, &mut sample).ok_or(ShowcaseError::Data)?;
        let t0 = platform.instructions();
        model.run(1, &sample, &mut bufs.arena, &mut bufs.requant, output)?;
        insns += platform.instructions().wrapping_sub(t0);
        for v in output.iter() {
            crc = tinytune::model::crc32_update(crc, &v.to_le_bytes());
        }
        if i >= TUNE_SAMPLES {
            correct += u32::from(argmax(output) as u32 == label);
        }
    }
    Ok((correct, insns / data.samples().max(1) as u64, !crc))
}

/// Runs both models (see the [module docs](self)).
///
/// # Errors
/// [`ShowcaseError`]: what failed first.
pub fn run<P: Platform>(platform: &mut P, bufs: &mut Buffers) -> Result<Report, ShowcaseError> {
    let f32_model = Model::from_bytes(model_f32()).map_err(ShowcaseError::Model)?;
    let int8_model = Model::from_bytes(model_int8()).map_err(ShowcaseError::Model)?;
    let test = (LABELS.len() - TUNE_SAMPLES.min(LABELS.len())) as u32;
    let (f32_correct, _, _) = evaluate(&f32_model, platform, bufs)?;
    let (int8_correct, insns, crc) = evaluate(&int8_model, platform, bufs)?;
    let io = 4 * (int8_model.input_len() + int8_model.output_len());
    let ram = int8_model.arena_len(1)? + 8 * int8_model.requant_len() + io;
    Ok(Report {
        acc_f32: (f32_correct, test),
        acc_int8: (int8_correct, test),
        ram_bytes: u32::try_from(ram).map_err(|_| ShowcaseError::Buffers)?,
        insns_per_inference: insns,
        outputs_crc32: crc,
    })
}

/// Takes the static buffers (once), runs [`run`], prints the checksum line and the summary
/// line through defmt and returns the board's exit status: 0 if the int8 accuracy is within 2
/// points of f32 and f32 reaches 85 % (the acceptance of the transformer student), 2 if it ran
/// but missed that, 1 if it failed.
pub fn main<P: Platform>(platform: &mut P) -> i32 {
    let Some(bufs) = BUFFERS.try_take() else {
        return 1;
    };
    match run(platform, bufs) {
        Ok(r) => {
            platform.report();
            print(&r);
            let acc = |(c, n): (u32, u32)| f64::from(c) / f64::from(n.max(1));
            let (f, q) = (acc(r.acc_f32), acc(r.acc_int8));
            if f >= 0.85 && f - q <= 0.02 {
                0
            } else {
                2
            }
        }
        Err(_e) => {
            #[cfg(feature = "defmt")]
            defmt::error!("transformer: failed: {}", _e);
            1
        }
    }
}

/// Prints the checksum line and the summary line (the last line of the run).
fn print(_r: &Report) {
    #[cfg(feature = "defmt")]
    {
        use crate::demo::{fixed4, fraction4};
        let r = _r;
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        defmt::println!(
            "transformer: outputs_crc32={=u32:#010x} f32={=u32}/{=u32} int8={=u32}/{=u32}",
            r.outputs_crc32,
            r.acc_f32.0,
            r.acc_f32.1,
            r.acc_int8.0,
            r.acc_int8.1
        );
        defmt::println!(
            "transformer: acc_f32={=str} acc_int8={=str} ram_bytes={=u32} insns_per_inference={=u64}",
            fixed4(&mut a, fraction4(r.acc_f32)),
            fixed4(&mut b, fraction4(r.acc_int8)),
            r.ram_bytes,
            r.insns_per_inference
        );
    }
}
