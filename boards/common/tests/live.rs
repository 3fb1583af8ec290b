//! The real boards' live loop, run on the host with a replayed, drifted sensor, a label source
//! that knows the true class, and a RAM-backed NOR flash: it learns, saves every
//! `SAVE_EVERY` updates, and after a "reboot" restores exactly what it saved last.

use embedded_storage::nor_flash::{NorFlash, ReadNorFlash};
use rand_core::SeedableRng;
use std::cell::Cell;
use std::rc::Rc;
use tinytune::rng::SeededRng;
use tinytune_board_common::demo::{self, DEMO};
use tinytune_board_common::live::{self, Live, LiveBuffers, LiveError, Step, SAVE_EVERY};
use tinytune_board_common::{ClassDisplay, LabelSource, RamNorFlash, Replay, Sensor};

type Flash<'a> = RamNorFlash<'a, 4, 4096>;

fn holdout() -> Replay<'static> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data/");
    let features = std::fs::read(format!("{dir}holdout-features.bin")).unwrap();
    let labels = std::fs::read(format!("{dir}holdout-labels.bin")).unwrap();
    Replay::new(features.leak(), labels.leak(), 64).unwrap()
}

/// Replays held-out samples `range` in order (wrapping), drifted as in the demo, and tells the
/// label source the true class of the sample just read.
struct DriftedReplay {
    data: Replay<'static>,
    range: std::ops::Range<usize>,
    next: usize,
    truth: Rc<Cell<u32>>,
    width: usize,
}

impl Sensor for DriftedReplay {
    type Error = ();
    fn len(&self) -> usize {
        self.width
    }
    fn read(&mut self, sample: &mut [f32]) -> Result<(), ()> {
        let i = self.range.start + self.next % self.range.len();
        self.next += 1;
        let label = self.data.sample(i, sample).ok_or(())?;
        let mut rng = SeededRng::seed_from_u64(DEMO.seed.wrapping_add(i as u64));
        DEMO.drift.apply(sample, &mut rng);
        self.truth.set(label);
        Ok(())
    }
}

/// Gives the true label while `on`.
struct Teacher {
    truth: Rc<Cell<u32>>,
    on: Rc<Cell<bool>>,
}

impl LabelSource for Teacher {
    fn label(&mut self, _predicted: usize) -> Option<u32> {
        self.on.get().then(|| self.truth.get())
    }
}

/// Remembers the last class shown.
struct Shown(Rc<Cell<usize>>);

impl ClassDisplay for Shown {
    fn show(&mut self, class: usize) {
        self.0.set(class);
    }
}

struct Rig {
    truth: Rc<Cell<u32>>,
    on: Rc<Cell<bool>>,
    shown: Rc<Cell<usize>>,
}

fn board<'b>(
    range: std::ops::Range<usize>,
    flash: Flash<'b>,
    bufs: &'b mut LiveBuffers,
) -> (
    Live<'b, DriftedReplay, Teacher, Shown, Flash<'b>>,
    Option<tinytune::model::persist::Loaded>,
    Rig,
) {
    let truth = Rc::new(Cell::new(0));
    let on = Rc::new(Cell::new(true));
    let shown = Rc::new(Cell::new(usize::MAX));
    let sensor = DriftedReplay {
        data: holdout(),
        range,
        next: 0,
        truth: truth.clone(),
        width: 64,
    };
    let labels = Teacher {
        truth: truth.clone(),
        on: on.clone(),
    };
    let (live, restored) = Live::new(
        demo::student(),
        sensor,
        labels,
        Shown(shown.clone()),
        flash,
        bufs,
    )
    .unwrap();
    (live, restored, Rig { truth, on, shown })
}

/// Correct classes shown over `n` unlabelled steps.
fn correct(
    live: &mut Live<'_, DriftedReplay, Teacher, Shown, Flash<'_>>,
    rig: &Rig,
    n: usize,
) -> usize {
    rig.on.set(false);
    let mut ok = 0;
    for _ in 0..n {
        let Step::Classified {
            class,
            learned,
            saved,
        } = live.step()
        else {
            panic!("the replay never fails");
        };
        assert!(learned.is_none() && saved.is_none());
        assert_eq!(rig.shown.get(), class);
        ok += usize::from(class as u32 == rig.truth.get());
    }
    rig.on.set(true);
    ok
}

#[test]
fn learns_from_labels_saves_every_few_updates_and_restores_after_a_reboot() {
    let mut memory = vec![0u8; live::flash_len::<Flash<'static>>()];
    let len = memory.len() as u32;
    Flash::new(&mut memory).erase(0, len).unwrap();

    // First boot: nothing saved yet. Learn from 3 passes over the 270 tuning samples.
    let mut bufs = Box::new(LiveBuffers::new());
    let (mut live, restored, _rig) = board(0..270, Flash::new(&mut memory), &mut bufs);
    assert_eq!(restored, None);
    let (mut updates, mut saves, mut last_saved) = (0u32, 0u32, None);
    for _ in 0..3 * 270 {
        let Step::Classified { learned, saved, .. } = live.step() else {
            panic!("the replay never fails");
        };
        let outcome = learned.expect("every sample is labelled");
        updates += u32::from(outcome.updated);
        if let Some(s) = saved {
            saves += 1;
            assert_eq!(s.sequence, saves);
            last_saved = Some(live.tuner().params().to_vec());
        }
    }
    assert_eq!(saves, updates / SAVE_EVERY, "{updates} updates");
    assert!(saves > 0 && live.tuner().stats().skipped > 0);
    drop(live);

    // The same flash after a power cycle: the newest save comes back, bit for bit, and the
    // board classifies the drifted test samples better than the model it started from.
    let mut bufs = Box::new(LiveBuffers::new());
    let (mut rebooted, restored, rig) = board(270..539, Flash::new(&mut memory), &mut bufs);
    let restored = restored.expect("a save was made");
    assert_eq!(restored.sequence, saves);
    assert_eq!(Some(rebooted.tuner().params().to_vec()), last_saved);
    assert!(rebooted.tuner().is_tuned());
    let tuned = correct(&mut rebooted, &rig, 269);
    drop(rebooted);

    let mut blank = vec![0xFFu8; memory.len()];
    let mut bufs = Box::new(LiveBuffers::new());
    let (mut fresh, restored, rig) = board(270..539, Flash::new(&mut blank), &mut bufs);
    assert_eq!(restored, None);
    let untuned = correct(&mut fresh, &rig, 269);
    println!("drifted test samples: {untuned}/269 untuned, {tuned}/269 after {updates} updates");
    assert!(tuned >= untuned + 269 / 5, "{untuned} -> {tuned}");
}

#[test]
fn a_board_that_cannot_run_the_model_says_why() {
    let mut memory = vec![0xFFu8; live::flash_len::<Flash<'static>>()];
    let truth = Rc::new(Cell::new(0));
    let on = Rc::new(Cell::new(true));
    let sensor = |width| DriftedReplay {
        data: holdout(),
        range: 0..10,
        next: 0,
        truth: truth.clone(),
        width,
    };
    let labels = || Teacher {
        truth: truth.clone(),
        on: on.clone(),
    };
    let shown = || Shown(Rc::new(Cell::new(0)));
    let mut bufs = Box::new(LiveBuffers::new());

    let r = Live::new(
        demo::student(),
        sensor(63),
        labels(),
        shown(),
        Flash::new(&mut memory),
        &mut bufs,
    );
    assert_eq!(err(r), LiveError::Fit);
    let r = Live::new(
        &[0u8; 64],
        sensor(64),
        labels(),
        shown(),
        Flash::new(&mut memory),
        &mut bufs,
    );
    assert_eq!(err(r), LiveError::Model);
    let mut small = vec![0xFFu8; 4096];
    let r = Live::new(
        demo::student(),
        sensor(64),
        labels(),
        shown(),
        Flash::new(&mut small),
        &mut bufs,
    );
    assert_eq!(err(r), LiveError::Flash);
    let flash = Flash::new(&mut memory);
    assert!(flash.capacity() >= live::flash_len::<Flash<'static>>());
}

fn err<T>(r: Result<T, LiveError>) -> LiveError {
    r.map(|_| ()).unwrap_err()
}
