//! Instruction counts of the int8 and f32 kernels, of one inference and of one fine-tuning step
//! of the digits student, printed one line per measurement for `cargo xtask bench`:
//!
//! ```text
//! bench <core> <name> insns=<n> macs=<n> insns_per_mac=<x.xxx>
//! ```
//!
//! (`insns_per_mac=-` when `macs` is 0: the softmax is counted per call.)
//!
//! # What is measured
//!
//! Each kernel bench builds a layer through the public layer API ([`DenseS8Config::init`], …)
//! outside the measured region, then counts one `forward` of batch 1. The layer calls the
//! kernel the core selects for the target, so a faster kernel shows up here without changes.
//! The count includes the layer's own checks around the kernel (a few dozen instructions), as
//! CMSIS-NN's figures include its wrapper functions. int8 dense uses one requantizer for the
//! tensor, as `arm_fully_connected_s8`; the convolutions one per output channel, as
//! `arm_convolve_s8`. Inputs have a non-zero zero point, every layer has a bias.
//!
//! `model_digits_student` is one [`Model::run`] of [`demo::student`] on the first
//! held-out sample, with the model's MACs from [`Model::macs`]. `finetune_step_digits` is the
//! first [`FineTuner::learn`](tinytune::train::finetune::FineTuner::learn) call over the
//! held-out samples that updates (forward, backward, SGD step; the calls before it are
//! confident samples the thresholded rule skips, which cost only the forward), with the
//! demo's configuration ([`demo::DEMO`]); its MACs are the forward's plus the head's weight
//! gradient (`out · in` of the last weighted layer); the SGD step's multiplications are not
//! counted.
//!
//! # Counting
//!
//! [`Meter`] reads [`Platform::instructions`] before and after the call and subtracts the cost
//! of measuring an empty region (the two counter reads and the call of an empty closure),
//! measured the same way when the meter is made: a figure is the instructions of the call
//! alone. Under QEMU's `-icount` the count is exact and the same on every run. A SysTick wrap
//! during a region (every 10.5 M instructions on mps2, 16.4 M on the micro:bit) adds the wrap
//! handler's few dozen instructions, as on a device.
//!
//! # Data
//!
//! Deterministic pseudo-random values (a fixed-seed linear congruential generator) computed at
//! compile time into `static`s, so they are in flash: the Cortex-M0 board (QEMU's `microbit`,
//! 16 KiB of RAM; QEMU 7.2 emulates no other ARMv6-M machine) keeps the 80 KB of weights of the
//! 640→128 dense in its 256 KiB of flash. Every bench reads a prefix of the same tables. The
//! RAM is one static shared by the two phases (kernel outputs, then the demo's buffers), so the
//! micro:bit's RAM holds the larger of the two, not both.

use crate::buffers::{SplitError, Work};
use crate::{demo, Platform, Replay};
use static_cell::ConstStaticCell;
use tinytune::kernels::generic::softmax::SoftmaxParamsS8;
use tinytune::kernels::{ActivationS8, Padding};
use tinytune::layers::dense::DenseConfig;
use tinytune::layers::s8::{
    ActivationKindS8, ActivationS8Config, Conv2dS8Config, DenseS8Config, DepthwiseConv2dS8Config,
};
use tinytune::layers::Layer;
use tinytune::model::{FormatError, Model};
use tinytune::num::quant::{QuantParams, Requantizer};

/// One measurement: instructions of the call and the multiply-accumulates it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// Guest instructions, the measuring overhead subtracted.
    pub insns: u64,
    /// Multiply-accumulates (0 where not meaningful: softmax).
    pub macs: u64,
}

/// Why a bench could not run.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum BenchError {
    /// A layer rejected its configuration or buffers, or a call failed.
    Layer(tinytune::Error),
    /// The demo's model file did not parse.
    Model(FormatError),
    /// A buffer or data table is smaller than the bench needs.
    Buffers,
    /// No held-out sample made the fine-tuner update.
    NoUpdate,
}

impl From<tinytune::Error> for BenchError {
    fn from(e: tinytune::Error) -> Self {
        BenchError::Layer(e)
    }
}

/// Counts the instructions of a region, minus the cost of counting.
pub struct Meter<'p> {
    platform: &'p mut dyn Platform,
    overhead: u64,
}

impl<'p> Meter<'p> {
    /// A meter on `platform`, calibrated on an empty region.
    pub fn new(platform: &'p mut dyn Platform) -> Self {
        let mut meter = Meter {
            platform,
            overhead: 0,
        };
        // The count is exact, so one calibration would do; the least of three guards against
        // a SysTick wrap inside one of them.
        let mut least = u64::MAX;
        for _ in 0..3 {
            least = least.min(meter.raw(&mut || {}));
        }
        meter.overhead = least;
        meter
    }

    /// Instructions from the first counter read to the second around `f`. Never inlined, and
    /// `f` is called through a pointer, so every region pays the same overhead.
    #[inline(never)]
    fn raw(&mut self, f: &mut dyn FnMut()) -> u64 {
        let t0 = self.platform.instructions();
        f();
        self.platform.instructions().wrapping_sub(t0)
    }

    /// Instructions of `f`, the overhead of an empty region subtracted.
    pub fn measure(&mut self, f: &mut dyn FnMut()) -> u64 {
        self.raw(f).saturating_sub(self.overhead)
    }

    /// What measuring an empty region costs (subtracted by [`measure`](Self::measure)).
    pub fn overhead(&self) -> u64 {
        self.overhead
    }
}

/// A kernel bench: its name and the function that builds the layer and measures it.
pub struct Bench {
    /// Name in the output line.
    pub name: &'static str,
    /// Builds the layer, measures one forward of batch 1.
    pub run: fn(&mut Meter<'_>, &mut KernelBuffers) -> Result<Measurement, BenchError>,
}

/// The kernel outputs (the inputs and weights are in flash).
pub struct KernelBuffers {
    s8: [i8; 4096],
    f32: [f32; 128],
}

/// The int8 kernels of the CMSIS-NN comparison, for every core.
pub const KERNELS_S8: &[Bench] = &[
    Bench {
        name: "dense_s8_640x128",
        run: |m, b| dense_s8(m, b, 640, 128, -12),
    },
    Bench {
        name: "dense_s8_128x128",
        run: |m, b| dense_s8(m, b, 128, 128, -11),
    },
    Bench {
        name: "dense_s8_128x8",
        run: |m, b| dense_s8(m, b, 128, 8, -11),
    },
    Bench {
        name: "conv2d_s8_3x3_16x16x16",
        run: conv2d_s8,
    },
    Bench {
        name: "depthwise_s8_3x3_16x16x16",
        run: depthwise_s8,
    },
    Bench {
        name: "softmax_s8_10",
        run: softmax_s8,
    },
];

/// The f32 kernels: their 320 KB of weights fit the flash of the M4 and RISC-V boards only.
pub const KERNELS_F32: &[Bench] = &[Bench {
    name: "dense_f32_640x128",
    run: dense_f32,
}];

/// The generator of the tables: the LCG of Numerical Recipes; its top bits are the values.
const fn next(x: u32) -> u32 {
    x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223)
}

/// `N` int8 values, uniform over the whole range.
const fn table_s8<const N: usize>(seed: u32) -> [i8; N] {
    let mut t = [0; N];
    let (mut x, mut i) = (seed, 0);
    while i < N {
        x = next(x);
        t[i] = (x >> 24) as i8;
        i += 1;
    }
    t
}

/// `N` f32 values, uniform in `[-1, 1)` on a 2^-15 grid.
const fn table_f32<const N: usize>(seed: u32) -> [f32; N] {
    let mut t = [0.0; N];
    let (mut x, mut i) = (seed, 0);
    while i < N {
        x = next(x);
        t[i] = ((x >> 16) as i32 - 32768) as f32 / 32768.0;
        i += 1;
    }
    t
}

/// `N` int32 biases in `-2048..2048`.
const fn table_i32<const N: usize>(seed: u32) -> [i32; N] {
    let mut t = [0; N];
    let (mut x, mut i) = (seed, 0);
    while i < N {
        x = next(x);
        t[i] = (x >> 20) as i32 - 2048;
        i += 1;
    }
    t
}

static WEIGHTS_S8: [i8; 640 * 128] = table_s8(0x5EED_0001);
static INPUT_S8: [i8; 16 * 16 * 16] = table_s8(0x5EED_0002);
static BIAS: [i32; 128] = table_i32(0x5EED_0003);
/// The f32 dense's parameters: weights `[128, 640]`, then the bias `[128]`.
static PARAMS_F32: [f32; 640 * 128 + 128] = table_f32(0x5EED_0004);
static INPUT_F32: [f32; 640] = table_f32(0x5EED_0005);

/// Held-out samples of the demo read by the model benches: the first [`SAMPLES`] of the same
/// files as [`demo`]'s (all 539 would take 34 KB of the micro:bit's flash).
const SAMPLES: usize = 32;
static FEATURES: [u8; SAMPLES * demo::WIDTH] = head(include_bytes!("../data/holdout-features.bin"));
static LABELS: [u8; SAMPLES] = head(include_bytes!("../data/holdout-labels.bin"));

/// The first `N` bytes of `all` (zeros after its end).
const fn head<const N: usize>(all: &[u8]) -> [u8; N] {
    let mut t = [0; N];
    let mut i = 0;
    while i < N && i < all.len() {
        t[i] = all[i];
        i += 1;
    }
    t
}

/// Input quantization of every int8 bench: a non-zero zero point, as real activations have.
const INPUT_Q: QuantParams = QuantParams {
    scale: 0.05,
    zero_point: -7,
};
/// Output quantization of every int8 bench.
const OUTPUT_Q: QuantParams = QuantParams {
    scale: 0.1,
    zero_point: 3,
};

/// A requantizer of `0.707 · 2^shift`, chosen per bench so the outputs spread over the int8
/// range instead of saturating.
const fn requant(shift: i32) -> Requantizer {
    Requantizer {
        multiplier: 1_518_500_250,
        shift,
    }
}

/// `N` values of a slice, or [`BenchError::Buffers`].
fn prefix<T>(s: &[T], n: usize) -> Result<&[T], BenchError> {
    s.get(..n).ok_or(BenchError::Buffers)
}

/// Runs `forward` in the meter and passes its error on.
fn timed(
    meter: &mut Meter<'_>,
    macs: u64,
    mut forward: impl FnMut() -> Result<(), tinytune::Error>,
) -> Result<Measurement, BenchError> {
    let mut result = Ok(());
    let insns = meter.measure(&mut || result = forward());
    result?;
    Ok(Measurement { insns, macs })
}

fn dense_s8(
    meter: &mut Meter<'_>,
    bufs: &mut KernelBuffers,
    in_features: usize,
    out_features: usize,
    shift: i32,
) -> Result<Measurement, BenchError> {
    let rq = [requant(shift)];
    let layer = DenseS8Config {
        in_features,
        out_features,
        input: INPUT_Q,
        output: OUTPUT_Q,
        act: ActivationS8::NONE,
    }
    .init(
        prefix(&WEIGHTS_S8, in_features * out_features)?,
        Some(prefix(&BIAS, out_features)?),
        &rq,
    )?;
    let input = prefix(&INPUT_S8, in_features)?;
    let output = bufs.s8.get_mut(..out_features).ok_or(BenchError::Buffers)?;
    let macs = (in_features * out_features) as u64;
    timed(meter, macs, || layer.forward(1, input, output))
}

/// Side, channels and filter size of the convolution benches.
const HW: usize = 16;
const C: usize = 16;
const K: usize = 3;

fn conv2d_s8(meter: &mut Meter<'_>, bufs: &mut KernelBuffers) -> Result<Measurement, BenchError> {
    let rq = [requant(-11); C];
    let layer = Conv2dS8Config {
        in_h: HW,
        in_w: HW,
        in_c: C,
        out_c: C,
        kernel_h: K,
        kernel_w: K,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same, // 1 on every side for 3×3, stride 1
        input: INPUT_Q,
        output: OUTPUT_Q,
        act: ActivationS8::NONE,
    }
    .init(
        prefix(&WEIGHTS_S8, C * K * K * C)?,
        Some(prefix(&BIAS, C)?),
        &rq,
    )?;
    let input = prefix(&INPUT_S8, HW * HW * C)?;
    let output = bufs.s8.get_mut(..HW * HW * C).ok_or(BenchError::Buffers)?;
    let macs = (HW * HW * C * K * K * C) as u64;
    timed(meter, macs, || layer.forward(1, input, output))
}

fn depthwise_s8(
    meter: &mut Meter<'_>,
    bufs: &mut KernelBuffers,
) -> Result<Measurement, BenchError> {
    let rq = [requant(-9); C];
    let layer = DepthwiseConv2dS8Config {
        in_h: HW,
        in_w: HW,
        in_c: C,
        multiplier: 1,
        kernel_h: K,
        kernel_w: K,
        stride_h: 1,
        stride_w: 1,
        dilation_h: 1,
        dilation_w: 1,
        padding: Padding::Same,
        input: INPUT_Q,
        output: OUTPUT_Q,
        act: ActivationS8::NONE,
    }
    .init(
        prefix(&WEIGHTS_S8, K * K * C)?,
        Some(prefix(&BIAS, C)?),
        &rq,
    )?;
    let input = prefix(&INPUT_S8, HW * HW * C)?;
    let output = bufs.s8.get_mut(..HW * HW * C).ok_or(BenchError::Buffers)?;
    let macs = (HW * HW * C * K * K) as u64;
    timed(meter, macs, || layer.forward(1, input, output))
}

fn softmax_s8(meter: &mut Meter<'_>, bufs: &mut KernelBuffers) -> Result<Measurement, BenchError> {
    const CLASSES: usize = 10;
    let params = SoftmaxParamsS8::new(0.0625, 1.0).map_err(tinytune::Error::from)?;
    let layer = ActivationS8Config {
        len: CLASSES,
        kind: ActivationKindS8::Softmax {
            params,
            depth: CLASSES,
        },
    }
    .init()?;
    let input = prefix(&INPUT_S8, CLASSES)?;
    let output = bufs.s8.get_mut(..CLASSES).ok_or(BenchError::Buffers)?;
    timed(meter, 0, || layer.forward(1, input, output))
}

fn dense_f32(meter: &mut Meter<'_>, bufs: &mut KernelBuffers) -> Result<Measurement, BenchError> {
    let layer = DenseConfig {
        in_features: 640,
        out_features: 128,
        bias: true,
    }
    .init(&PARAMS_F32)?;
    let output = &mut bufs.f32;
    timed(meter, 640 * 128, || layer.forward(1, &INPUT_F32, output))
}

/// The RAM of the benches: the kernel outputs first, then the demo's buffers. One static for
/// both, so it needs the larger of the two (the micro:bit has 16 KiB).
// The size difference of the variants is the point: they are never needed at once.
#[allow(clippy::large_enum_variant)]
enum Memory {
    Kernels(KernelBuffers),
    Model(demo::Buffers),
}

static MEMORY: ConstStaticCell<Memory> = ConstStaticCell::new(Memory::Kernels(KernelBuffers {
    s8: [0; 4096],
    f32: [0.0; 128],
}));

/// The second phase's value, a constant so it is written in place, not built on the stack.
const MODEL_MEMORY: Memory = Memory::Model(demo::Buffers::new());

/// One inference and one updating fine-tuning step of the digits student, in `bufs`.
fn model_benches(
    meter: &mut Meter<'_>,
    core: &str,
    bufs: &mut demo::Buffers,
) -> Result<(), BenchError> {
    let model = Model::from_bytes(demo::student()).map_err(BenchError::Model)?;
    let data = Replay::new(&FEATURES, &LABELS, demo::WIDTH).ok_or(BenchError::Buffers)?;
    let forward_macs = model.macs() as u64;
    // The head's weight gradient: `out · in` of the last weighted layer, its forward MACs.
    let head_macs = model
        .summary()
        .filter(|s| s.macs > 0)
        .last()
        .map_or(0, |s| s.macs as u64);
    let mut output = [0f32; 16];
    let output = output
        .get_mut(..model.output_len())
        .ok_or(BenchError::Buffers)?;
    let (mut tuner, work) = bufs
        .split(model, demo::DEMO.finetune, demo::WIDTH)
        .map_err(|e| match e {
            SplitError::Capacity => BenchError::Buffers,
            SplitError::Tuner(e) => BenchError::Layer(e),
        })?;
    let Work {
        arena,
        requant,
        sample,
    } = work;

    data.sample(0, sample).ok_or(BenchError::Buffers)?;
    let m = timed(meter, forward_macs, || {
        model.run(1, sample, arena, requant, output)
    })?;
    print(core, "model_digits_student", m);

    for i in 0..data.samples() {
        let label = data.sample(i, sample).ok_or(BenchError::Buffers)?;
        let mut updated = false;
        let m = timed(meter, forward_macs + head_macs, || {
            updated = tuner.learn(sample, label, arena, requant)?.updated;
            Ok(())
        })?;
        if updated {
            print(core, "finetune_step_digits", m);
            return Ok(());
        }
    }
    Err(BenchError::NoUpdate)
}

/// Runs every bench of `kernels`, then the model and fine-tuning benches, printing one line
/// each with `core` as the core's name (`m4`, `m0`, `rv32`), then the board's
/// [`Platform::report`]. Returns the board's exit status: 0 if every bench ran, 1 otherwise
/// (a bench that failed prints why and the others still run).
pub fn main(platform: &mut dyn Platform, core: &str, kernels: &[&[Bench]]) -> i32 {
    let Some(memory) = MEMORY.try_take() else {
        return 1;
    };
    let mut meter = Meter::new(platform);
    #[cfg(feature = "defmt")]
    defmt::println!(
        "meter {=str}: an empty region counts {=u64} instructions, subtracted from every figure",
        core,
        meter.overhead()
    );
    let mut failed = false;
    if let Memory::Kernels(bufs) = &mut *memory {
        for bench in kernels.iter().flat_map(|t| t.iter()) {
            match (bench.run)(&mut meter, bufs) {
                Ok(m) => print(core, bench.name, m),
                Err(e) => failed |= report_error(bench.name, e),
            }
        }
    }
    *memory = MODEL_MEMORY;
    if let Memory::Model(bufs) = &mut *memory {
        if let Err(e) = model_benches(&mut meter, core, bufs) {
            failed |= report_error("model", e);
        }
    }
    meter.platform.report();
    i32::from(failed)
}

/// Prints why `name` failed; returns true.
fn report_error(_name: &str, _e: BenchError) -> bool {
    #[cfg(feature = "defmt")]
    defmt::error!("bench {=str} failed: {}", _name, _e);
    true
}

/// Prints the measurement's line.
fn print(_core: &str, _name: &str, _m: Measurement) {
    #[cfg(feature = "defmt")]
    {
        let mut buf = [0u8; 24];
        defmt::println!(
            "bench {=str} {=str} insns={=u64} macs={=u64} insns_per_mac={=str}",
            _core,
            _name,
            _m.insns,
            _m.macs,
            per_mac(&mut buf, _m.insns, _m.macs)
        );
    }
}

/// `insns / macs` with three decimals, rounded half up, written into `buf` (integer
/// arithmetic: no float formatting on the device); `"-"` if `macs` is 0.
pub fn per_mac(buf: &mut [u8; 24], insns: u64, macs: u64) -> &str {
    if macs == 0 {
        return "-";
    }
    let milli = (u128::from(insns) * 2000 / u128::from(macs)).div_ceil(2);
    let (mut whole, frac) = (milli / 1000, milli % 1000);
    // Digits of the whole part, least significant first, then reversed into place.
    let mut digits = [0u8; 20];
    let mut n = 0;
    while n < digits.len() {
        digits[n] = b'0' + (whole % 10) as u8;
        n += 1;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    let mut len = 0;
    for (slot, d) in buf.iter_mut().zip(digits[..n].iter().rev()) {
        *slot = *d;
        len += 1;
    }
    for (slot, d) in buf[len..].iter_mut().zip([
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]) {
        *slot = d;
        len += 1;
    }
    core::str::from_utf8(&buf[..len]).unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_mac_rounds_to_three_decimals() {
        let mut buf = [0u8; 24];
        assert_eq!(per_mac(&mut buf, 160_078, 81_920), "1.954"); // 1.95407…
        assert_eq!(per_mac(&mut buf, 1, 2000), "0.001"); // 0.0005 rounds up
        assert_eq!(per_mac(&mut buf, 1, 2001), "0.000");
        assert_eq!(per_mac(&mut buf, 5385, 1), "5385.000");
        assert_eq!(per_mac(&mut buf, 7, 0), "-");
        assert_eq!(per_mac(&mut buf, u64::MAX, 1), "18446744073709551615.000");
    }
}
