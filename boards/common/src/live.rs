//! The endless loop of a real board: read a sample from the sensor, classify it, show the class,
//! learn from it when the user gives a label (thresholded rule: only ambiguous or wrong samples
//! update), and save the learned parameters to flash every [`SAVE_EVERY`] updates. At boot the
//! newest valid saved parameters are restored, so what the board learned survives power loss.
//!
//! Errors never stop the loop: a failed sensor read skips the sample, a failed save is retried
//! at the next update, and a model that does not fit the buffers or the sensor leaves the board
//! showing nothing and logging the reason every few seconds.

use crate::{ClassDisplay, LabelSource, Sensor};
use embedded_hal::delay::DelayNs;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune::model::persist::{ParamStore, PersistError};
use tinytune::model::{crc32, Model};
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::{FineTuner, FinetuneConfig, Trainable};
use tinytune::train::loss::ThresholdedConfig;

/// Fine-tuning on a live board: the last layer, margin 0.9, plain SGD.
pub const FINETUNE: FinetuneConfig = FinetuneConfig {
    trainable: Trainable::LastLayer,
    threshold: ThresholdedConfig {
        margin: 0.9,
        smooth_k: None,
    },
    learning_rate: 0.01,
    momentum: 0.0,
};
/// Parameters are saved after this many updates. Flash wear sets it: every save erases the
/// pages of one of the two slots, so with pages rated for 10,000 erase cycles (nRF52, RP2040
/// QSPI, ESP32-C3 flash) the board can save 20,000 times: 160,000 updates.
pub const SAVE_EVERY: u32 = 8;
/// Time between two samples.
pub const PERIOD_MS: u32 = 100;

const ARENA: usize = 4096;
const REQUANT: usize = 64;
const PARAMS: usize = 2048;
const SCRATCH: usize = 1024;
const WIDTH: usize = 256;

/// The live loop's buffers, in .bss.
struct Buffers {
    arena: [u8; ARENA],
    requant: [Requantizer; REQUANT],
    params: [f32; PARAMS],
    scratch: [f32; SCRATCH],
    sample: [f32; WIDTH],
}

static BUFFERS: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers {
    arena: [0; ARENA],
    requant: [Requantizer::ZERO; REQUANT],
    params: [0.0; PARAMS],
    scratch: [0.0; SCRATCH],
    sample: [0.0; WIDTH],
});

/// Bytes of NOR flash the live loop needs on flash `F` for its two parameter slots (each
/// rounded up to whole erase pages).
pub const fn flash_len<F: NorFlash>() -> usize {
    ParamStore::<F>::region_len(PARAMS)
}

/// Samples, classifies, shows, learns from labels and saves, forever (see the
/// [module docs](self)). `model` is a `.ttm` file whose input length is the sensor's and whose
/// head fits [`FINETUNE`]; `flash` holds at least [`flash_len`] bytes for the parameters.
pub fn run<S: Sensor, L: LabelSource, D: ClassDisplay, F: NorFlash, T: DelayNs>(
    model: &'static [u8],
    mut sensor: S,
    mut labels: L,
    mut display: D,
    flash: F,
    mut delay: T,
) -> ! {
    let Some(bufs) = BUFFERS.try_take() else {
        halt(&mut delay, "buffers taken twice")
    };
    let Ok(model) = Model::from_bytes(model) else {
        halt(&mut delay, "the model file does not parse")
    };
    let width = sensor.len();
    let fits = model.input_len() == width
        && width <= WIDTH
        && model.arena_len(1).is_ok_and(|n| n <= ARENA)
        && model.requant_len() <= REQUANT;
    let Ok(lens) = FineTuner::lens(&model, &FINETUNE) else {
        halt(&mut delay, "the model's head cannot be fine-tuned")
    };
    if !fits || lens.params > PARAMS || lens.scratch > SCRATCH || lens.state > 0 {
        halt(
            &mut delay,
            "the model does not fit the sensor or the buffers",
        )
    }
    let Buffers {
        arena,
        requant,
        params,
        scratch,
        sample,
    } = bufs;
    let sample = &mut sample[..width];
    let Ok(mut tuner) = FineTuner::new(
        model,
        FINETUNE,
        &mut params[..lens.params],
        &mut [],
        &mut scratch[..lens.scratch],
    ) else {
        halt(&mut delay, "the fine-tuner rejected the model")
    };
    let region = flash_len::<F>() as u32;
    let Ok(mut store) = ParamStore::new(flash, 0, region, crc32(model.bytes())) else {
        halt(&mut delay, "the flash region is too small or misaligned")
    };
    match tuner.restore(|p| store.load(p), PersistError::Verify) {
        Ok(_loaded) => log_restored(&_loaded),
        Err(_) => info("no saved parameters: starting from the model's own"),
    }

    let mut unsaved = 0u32;
    loop {
        if sensor.read(sample).is_ok() {
            if let Ok(predicted) = tuner.predict(sample, arena, requant) {
                display.show(predicted);
                if let Some(label) = labels.label(predicted) {
                    if let Ok(outcome) = tuner.learn(sample, label, arena, requant) {
                        unsaved += u32::from(outcome.updated);
                    }
                }
            }
        }
        if unsaved >= SAVE_EVERY && store.save(tuner.params()).is_ok() {
            unsaved = 0;
        }
        delay.delay_ms(PERIOD_MS);
    }
}

fn info(_msg: &str) {
    #[cfg(feature = "defmt")]
    defmt::info!("{=str}", _msg);
}

fn log_restored(_loaded: &tinytune::model::persist::Loaded) {
    #[cfg(feature = "defmt")]
    defmt::info!("restored the fine-tuned parameters: {}", _loaded);
}

/// Logs `why` every five seconds, forever.
fn halt<T: DelayNs>(delay: &mut T, _why: &str) -> ! {
    loop {
        #[cfg(feature = "defmt")]
        defmt::error!("tinytune: stopped: {=str}", _why);
        delay.delay_ms(5000);
    }
}
