//! The endless loop of a real board: read a sample from the sensor, classify it, show the class,
//! learn from it when the user gives a label (thresholded rule: only ambiguous or wrong samples
//! update), and save the learned parameters to flash every [`SAVE_EVERY`] updates. At boot the
//! newest valid saved parameters are restored, so what the board learned survives power loss.
//!
//! [`Live`] is one board's state and [`Live::step`] one pass of the loop (tested on the host);
//! [`run`] is the loop itself. Errors never stop it: a failed sensor read skips the sample, a
//! failed save is retried after the next update, and a model that does not fit the buffers or
//! the sensor leaves the board showing nothing and logging the reason every few seconds.

use crate::buffers::{SplitError, TuningBuffers, Work};
use crate::{ClassDisplay, LabelSource, Sensor};
use embedded_hal::delay::DelayNs;
use embedded_storage::nor_flash::NorFlash;
use static_cell::ConstStaticCell;
use tinytune::model::persist::{Loaded, ParamStore, PersistError, Saved};
use tinytune::model::{crc32, Model};
use tinytune::num::quant::Requantizer;
use tinytune::train::finetune::{FineTuner, FinetuneConfig, Outcome, Trainable};
use tinytune::train::loss::ThresholdedConfig;

/// Fine-tuning on a live board: the last layer, margin 0.6, plain SGD at the learning rate the
/// emulated demo uses for the digits student.
pub const FINETUNE: FinetuneConfig = FinetuneConfig {
    trainable: Trainable::LastLayer,
    threshold: ThresholdedConfig {
        margin: 0.6,
        smooth_k: None,
    },
    learning_rate: 0.0002,
    momentum: 0.0,
};
/// Parameters are saved after this many updates. Flash wear sets it: every save erases the
/// pages of one of the two slots, so with pages rated for 10,000 erase cycles (nRF52, RP2040
/// QSPI, ESP32-C3 flash) the board can save 20,000 times: 160,000 updates.
pub const SAVE_EVERY: u32 = 8;
/// Time between two samples.
pub const PERIOD_MS: u32 = 100;

/// The live loop's buffers (about 18 KB; [`run`] keeps one set in .bss): a 4 KiB arena, 64
/// requantizers, 2,048 parameters, no optimizer state, 1,024 scratch values, samples of up to
/// 256 values.
pub type LiveBuffers = TuningBuffers<4096, 64, 2048, 0, 1024, 256>;

static BUFFERS: ConstStaticCell<LiveBuffers> = ConstStaticCell::new(LiveBuffers::new());

/// Bytes of NOR flash the live loop needs on flash `F` for its two parameter slots (each
/// rounded up to whole erase pages).
pub const fn flash_len<F: NorFlash>() -> usize {
    ParamStore::<F>::region_len(LiveBuffers::PARAMS)
}

/// Why the live loop cannot start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LiveError {
    /// The model file does not parse.
    Model,
    /// The model's input length differs from the sensor's, or it needs larger buffers.
    Fit,
    /// The model's head cannot be fine-tuned with [`FINETUNE`].
    Head,
    /// The flash region is misaligned or smaller than [`flash_len`].
    Flash,
}

/// What one [`Live::step`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// The sensor read or the inference failed: nothing was shown or learned.
    NoSample,
    /// The sample was classified and shown.
    Classified {
        /// The class shown.
        class: usize,
        /// The fine-tuning outcome, if a label came.
        learned: Option<Outcome>,
        /// Where the parameters were saved, if this step saved them.
        saved: Option<Saved>,
    },
}

/// One board running the live loop: the model with its fine-tuner, the parameter store and the
/// board's sensor, labels and display.
pub struct Live<'b, S, L, D, F> {
    tuner: FineTuner<'static, 'b>,
    store: ParamStore<F>,
    sensor: S,
    labels: L,
    display: D,
    arena: &'b mut [u8],
    requant: &'b mut [Requantizer],
    sample: &'b mut [f32],
    unsaved: u32,
}

impl<'b, S: Sensor, L: LabelSource, D: ClassDisplay, F: NorFlash> Live<'b, S, L, D, F> {
    /// Sets the board up and restores the newest saved parameters of this model, if any
    /// (returned; `None` means the model's own weights).
    ///
    /// # Errors
    /// [`LiveError`]: the model, the buffers or the flash region do not fit.
    pub fn new(
        model: &'static [u8],
        sensor: S,
        labels: L,
        display: D,
        flash: F,
        bufs: &'b mut LiveBuffers,
    ) -> Result<(Self, Option<Loaded>), LiveError> {
        let model = Model::from_bytes(model).map_err(|_| LiveError::Model)?;
        let width = sensor.len();
        if model.input_len() != width {
            return Err(LiveError::Fit);
        }
        let (mut tuner, work) = bufs.split(model, FINETUNE, width).map_err(|e| match e {
            SplitError::Capacity => LiveError::Fit,
            SplitError::Tuner(_) => LiveError::Head,
        })?;
        let Work {
            arena,
            requant,
            sample,
        } = work;
        let region = flash_len::<F>() as u32;
        let mut store = ParamStore::new(flash, 0, region, crc32(model.bytes()))
            .map_err(|_| LiveError::Flash)?;
        let restored = tuner.restore(|p| store.load(p), PersistError::Verify).ok();
        let live = Self {
            tuner,
            store,
            sensor,
            labels,
            display,
            arena,
            requant,
            sample,
            unsaved: 0,
        };
        Ok((live, restored))
    }

    /// One pass of the loop: read, classify, show, learn if labelled, save every
    /// [`SAVE_EVERY`] updates.
    pub fn step(&mut self) -> Step {
        if self.sensor.read(self.sample).is_err() {
            return Step::NoSample;
        }
        let Ok(class) = self.tuner.predict(self.sample, self.arena, self.requant) else {
            return Step::NoSample;
        };
        self.display.show(class);
        let learned = self.labels.label(class).and_then(|label| {
            self.tuner
                .learn(self.sample, label, self.arena, self.requant)
                .ok()
        });
        self.unsaved += u32::from(learned.is_some_and(|o| o.updated));
        let mut saved = None;
        if self.unsaved >= SAVE_EVERY {
            // On a failed save the count stays, so the next update tries again.
            saved = self.store.save(self.tuner.params()).ok();
            if saved.is_some() {
                self.unsaved = 0;
            }
        }
        Step::Classified {
            class,
            learned,
            saved,
        }
    }

    /// The fine-tuner (parameters, counts).
    pub fn tuner(&self) -> &FineTuner<'static, 'b> {
        &self.tuner
    }

    /// Ends the loop and gives the flash back.
    pub fn release(self) -> F {
        self.store.release()
    }
}

/// Samples, classifies, shows, learns from labels and saves, forever (see the
/// [module docs](self)). `model` is a `.ttm` file whose input length is the sensor's and whose
/// head fits [`FINETUNE`]; `flash` holds at least [`flash_len`] bytes for the parameters.
pub fn run<S: Sensor, L: LabelSource, D: ClassDisplay, F: NorFlash, T: DelayNs>(
    model: &'static [u8],
    sensor: S,
    labels: L,
    display: D,
    flash: F,
    mut delay: T,
) -> ! {
    let Some(bufs) = BUFFERS.try_take() else {
        halt(&mut delay, LiveError::Fit)
    };
    match Live::new(model, sensor, labels, display, flash, bufs) {
        Ok((mut live, _restored)) => {
            #[cfg(feature = "defmt")]
            match _restored {
                Some(loaded) => defmt::info!("restored the fine-tuned parameters: {}", loaded),
                None => defmt::info!("no saved parameters: starting from the model's own"),
            }
            loop {
                live.step();
                delay.delay_ms(PERIOD_MS);
            }
        }
        Err(e) => halt(&mut delay, e),
    }
}

/// Logs `why` every five seconds, forever.
fn halt<T: DelayNs>(delay: &mut T, _why: LiveError) -> ! {
    loop {
        #[cfg(feature = "defmt")]
        defmt::error!("tinytune: the live loop cannot start: {}", _why);
        delay.delay_ms(5000);
    }
}
