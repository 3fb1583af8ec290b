//! `tinytune::model::persist` on a simulated NOR flash (`tinytune_host_tests::nor_flash`): round
//! trips, a power cut at every step of a save and of a factory reset, every single bit flip of a
//! slot, sequence wrap-around, foreign saves, layout and flash errors, garbage contents.
//!
//! The expected slot bytes come from an encoder written here from `docs/persist-format.md` with a
//! bitwise CRC-32, not from the crate.

use tinytune::model::persist::nor_flash::{NorFlash, NorFlashErrorKind};
use tinytune::model::persist::{Loaded, ParamStore, PersistError, Saved, Slot};
use tinytune_host_tests::nor_flash::{Nrf51Flash, Nrf52Flash, SimNorFlash, WideWordFlash};
use tinytune_host_tests::rng::SplitMix64;

const TAG: u32 = 0x7474_6D31;

/// CRC-32/ISO-HDLC, bit by bit.
fn crc32_ref(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A slot as `docs/persist-format.md` specifies it, for a flash with layout unit `align`.
fn encode_slot(align: usize, sequence: u32, tag: u32, params: &[f32]) -> Vec<u8> {
    let pad = |v: &mut Vec<u8>| v.resize(v.len().div_ceil(align) * align, 0xFF);
    let mut v = Vec::new();
    v.extend(b"TTPS");
    v.extend(1u16.to_le_bytes());
    v.extend((align as u16).to_le_bytes());
    v.extend(sequence.to_le_bytes());
    v.extend(tag.to_le_bytes());
    v.extend((params.len() as u32 * 4).to_le_bytes());
    pad(&mut v);
    params.iter().for_each(|p| v.extend(p.to_le_bytes()));
    pad(&mut v);
    let crc = crc32_ref(&v);
    v.extend(crc.to_le_bytes());
    v.extend(b"TTOK");
    pad(&mut v);
    v
}

fn params(seed: u64, n: usize) -> Vec<f32> {
    SplitMix64::new(seed).f32_vec(n, -3.0, 3.0)
}

fn bits(p: &[f32]) -> Vec<u32> {
    p.iter().map(|x| x.to_bits()).collect()
}

/// A flash with one spare page before and after the region (the region starts at page 1).
fn flash<const W: usize, const E: usize>(n: usize, seed: u64) -> SimNorFlash<W, E> {
    let pages = ParamStore::<SimNorFlash<W, E>>::region_len(n) / E + 2;
    SimNorFlash::new(pages, seed)
}

fn open<const W: usize, const E: usize>(
    f: SimNorFlash<W, E>,
    n: usize,
    tag: u32,
) -> ParamStore<SimNorFlash<W, E>> {
    let len = ParamStore::<SimNorFlash<W, E>>::region_len(n) as u32;
    ParamStore::new(f, E as u32, len, tag).expect("layout")
}

/// Loads `n` parameters after a reboot: `Ok((loaded, params))` or the error.
fn boot<const W: usize, const E: usize>(
    f: SimNorFlash<W, E>,
    n: usize,
) -> (SimNorFlash<W, E>, Result<(Loaded, Vec<u32>), PersistError>) {
    let mut store = open(f.reboot(), n, TAG);
    let mut p = vec![f32::NAN; n];
    let r = store.load(&mut p).map(|l| (l, bits(&p)));
    let newest = store.newest(n).expect("newest");
    assert_eq!(
        newest,
        r.as_ref().ok().map(|(l, _)| *l),
        "newest() disagrees with load()"
    );
    (store.release(), r)
}

/// The test for slots of flash `f` at unit `align`: the slot written at `slot` equals the
/// reference encoding, followed by erased bytes up to the slot's end.
fn assert_slot_bytes<const W: usize, const E: usize>(
    f: &SimNorFlash<W, E>,
    n: usize,
    slot: Slot,
    sequence: u32,
    p: &[f32],
) {
    let half = ParamStore::<SimNorFlash<W, E>>::region_len(n) / 2;
    let base = E + if slot == Slot::B { half } else { 0 };
    let want = encode_slot(W, sequence, TAG, p);
    assert_eq!(&f.bytes()[base..base + want.len()], &want[..]);
    assert!(f.bytes()[base + want.len()..base + half]
        .iter()
        .all(|&b| b == 0xFF));
}

#[test]
fn round_trip_alternates_slots_and_newest_wins() {
    let n = 1290;
    let mut store = open(flash::<4, 4096>(n, 1), n, TAG);
    let mut out = vec![0.0f32; n];
    assert_eq!(store.load(&mut out), Err(PersistError::NoValidSlot));
    assert_eq!(store.newest(n), Ok(None));
    assert!(
        out.iter().all(|&x| x == 0.0),
        "params touched on NoValidSlot"
    );
    for k in 1..=6u32 {
        let mut p = params(u64::from(k), n);
        // Values whose bits must survive exactly.
        p[..6].copy_from_slice(&[
            -0.0,
            f32::INFINITY,
            f32::MIN_POSITIVE / 2.0,
            f32::MAX,
            1.0,
            0.0,
        ]);
        p[6] = f32::from_bits(0x7FC0_1234); // a NaN with a payload
        let slot = if k % 2 == 1 { Slot::A } else { Slot::B };
        assert_eq!(store.save(&p), Ok(Saved { slot, sequence: k }));
        let f = store.release();
        assert_slot_bytes(&f, n, slot, k, &p);
        let (f, got) = boot(f, n);
        assert_eq!(got, Ok((Loaded { slot, sequence: k }, bits(&p))));
        store = open(f, n, TAG);
    }
    // The factory reset leaves nothing.
    store.erase().expect("erase");
    assert_eq!(store.load(&mut out), Err(PersistError::NoValidSlot));
    assert_eq!(
        store.save(&out),
        Ok(Saved {
            slot: Slot::A,
            sequence: 1
        })
    );
}

/// What a power cut during one save may leave: the parameters and sequence of the newest
/// complete save before it (if any) or the new save's.
struct CutCounts {
    cut_points: u64,
    old: u64,
    new: u64,
}

/// Cuts the power at every step of one save on top of `before` (whose newest complete save is
/// `old`), reboots, and checks the device loads exactly `old` or exactly `new`; then that a
/// full save after the cut continues the numbering.
fn cut_every_step<const W: usize, const E: usize>(
    before: &SimNorFlash<W, E>,
    n: usize,
    old: Option<(u32, &[f32])>,
    new: &[f32],
) -> CutCounts {
    let steps = {
        let mut store = open(before.clone().reboot(), n, TAG);
        store.save(new).expect("uninterrupted save");
        store.release().steps()
    };
    let new_seq = old.map_or(1, |(s, _)| s.wrapping_add(1));
    let mut counts = CutCounts {
        cut_points: steps + 1,
        old: 0,
        new: 0,
    };
    for cut in 0..=steps {
        let mut f = before.clone().reboot();
        f.set_budget(Some(cut));
        let mut store = open(f, n, TAG);
        let saved = store.save(new);
        if cut < steps {
            assert_eq!(
                saved,
                Err(PersistError::Flash(NorFlashErrorKind::Other)),
                "cut {cut}"
            );
        } else {
            assert!(saved.is_ok());
        }
        let (f, got) = boot(store.release(), n);
        let loaded_seq = match got {
            Ok((l, p)) if l.sequence == new_seq && p == bits(new) => {
                // The new save can only be complete once the last word of its commit record
                // (step `steps - 1`) has been programmed.
                assert!(
                    cut + 1 >= steps,
                    "new params after a cut at step {cut} of {steps}"
                );
                counts.new += 1;
                Some(l.sequence)
            }
            Ok((l, p)) => {
                let (s, o) = old.expect("params loaded where none were ever saved");
                assert_eq!(
                    (l.sequence, p),
                    (s, bits(o)),
                    "cut {cut}: neither old nor new"
                );
                counts.old += 1;
                Some(s)
            }
            Err(e) => {
                assert_eq!(e, PersistError::NoValidSlot, "cut {cut}");
                assert!(old.is_none(), "cut {cut}: old params lost");
                counts.old += 1;
                None
            }
        };
        // Recovery: a full save after the cut is the next in sequence.
        let mut store = open(f, n, TAG);
        let again = params(99, n);
        let saved = store.save(&again).expect("save after cut");
        assert_eq!(saved.sequence, loaded_seq.map_or(1, |s| s.wrapping_add(1)));
        let (_, got) = boot(store.release(), n);
        assert_eq!(
            got.map(|(l, p)| (l.sequence, p)),
            Ok((saved.sequence, bits(&again)))
        );
    }
    assert!(counts.old > 0 && counts.new > 0);
    counts
}

/// Flash after `k` complete saves of `params(100 + i)`; returns it with the last save.
fn with_saves<const W: usize, const E: usize>(n: usize, k: u32) -> (SimNorFlash<W, E>, Vec<f32>) {
    let mut store = open(flash::<W, E>(n, 7), n, TAG);
    let mut last = Vec::new();
    for i in 1..=k {
        last = params(100 + u64::from(i), n);
        store.save(&last).expect("save");
    }
    (store.release(), last)
}

fn cut_all_geometries<const W: usize, const E: usize>(n: usize) -> Vec<CutCounts> {
    let new = params(5, n);
    let mut out = Vec::new();
    for prior in 0..=2u32 {
        let (before, last) = with_saves::<W, E>(n, prior);
        let old = (prior > 0).then_some((prior, last.as_slice()));
        let c = cut_every_step(&before, n, old, &new);
        eprintln!(
            "W={W} E={E} n={n}, {prior} saves before: {} cut points, {} old, {} new",
            c.cut_points, c.old, c.new
        );
        out.push(c);
    }
    out
}

#[test]
fn power_cut_at_every_step_of_a_save() {
    let mut total = CutCounts {
        cut_points: 0,
        old: 0,
        new: 0,
    };
    let runs = [
        cut_all_geometries::<4, 1024>(300),
        cut_all_geometries::<4, 4096>(1290),
        cut_all_geometries::<32, 2048>(300),
    ];
    for c in runs.iter().flatten() {
        total.cut_points += c.cut_points;
        total.old += c.old;
        total.new += c.new;
    }
    eprintln!(
        "total: {} cut points, {} old, {} new",
        total.cut_points, total.old, total.new
    );
}

#[test]
fn power_cut_during_a_save_after_a_torn_save() {
    // Two complete saves (A: seq 1, B: seq 2), a save torn at every step, then a second save
    // torn at every step: the device must load seq 2, the first torn save if it completed, or
    // the second one — and never seq 1.
    let n = 20;
    let (before, old) = with_saves::<4, 1024>(n, 2);
    let (x, y) = (params(11, n), params(12, n));
    let steps = {
        let mut store = open(before.clone().reboot(), n, TAG);
        store.save(&x).expect("save");
        store.release().steps()
    };
    let (mut pairs, mut outcomes) = (0u64, [0u64; 3]);
    for k1 in 0..=steps {
        let mut f = before.clone().reboot();
        f.set_budget(Some(k1));
        let mut store = open(f, n, TAG);
        let first_done = store.save(&x).is_ok();
        let torn = store.release();
        for k2 in 0..=steps {
            let mut f = torn.clone().reboot();
            f.set_budget(Some(k2));
            let mut store = open(f, n, TAG);
            let _ = store.save(&y);
            let (_, got) = boot(store.release(), n);
            let (l, p) = got.expect("a save must survive");
            let base = if first_done { 3 } else { 2 };
            let which = if (l.sequence, &p) == (2, &bits(&old)) && !first_done {
                0
            } else if (l.sequence, &p) == (3, &bits(&x)) && first_done {
                1
            } else if (l.sequence, &p) == (base + 1, &bits(&y)) {
                2
            } else {
                panic!(
                    "k1={k1} k2={k2}: loaded seq {} with unexpected params",
                    l.sequence
                );
            };
            outcomes[which] += 1;
            pairs += 1;
        }
    }
    eprintln!(
        "{pairs} cut pairs: {} old (seq 2), {} first save, {} second save",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(outcomes.iter().all(|&c| c > 0));
}

#[test]
fn power_cut_at_every_step_of_a_factory_reset() {
    let n = 300;
    let (before, last) = with_saves::<4, 1024>(n, 2);
    let steps = {
        let mut store = open(before.clone().reboot(), n, TAG);
        store.erase().expect("erase");
        store.release().steps()
    };
    let (mut kept, mut reset) = (0, 0);
    for cut in 0..=steps {
        let mut f = before.clone().reboot();
        f.set_budget(Some(cut));
        let mut store = open(f, n, TAG);
        let _ = store.erase();
        match boot(store.release(), n).1 {
            Ok((l, p)) => {
                assert_eq!(
                    (l.sequence, p),
                    (2, bits(&last)),
                    "cut {cut}: older save resurfaced"
                );
                kept += 1;
            }
            Err(e) => {
                assert_eq!(e, PersistError::NoValidSlot);
                reset += 1;
            }
        }
    }
    eprintln!(
        "factory reset: {} cut points, {kept} kept, {reset} reset",
        steps + 1
    );
    assert!(kept > 0 && reset > 0);
}

/// Flips every bit of the newest slot (and of the erased rest of its half) in turn.
fn flip_every_bit<const W: usize, const E: usize>(n: usize, saves: u32) -> usize {
    let (f, _) = with_saves::<W, E>(n, saves);
    let (f, newest) = boot(f, n);
    let (newest, _) = newest.expect("saved");
    // What the device must fall back to: the save before the newest one, if any.
    let older = (saves >= 2).then(|| (saves - 1, bits(&params(100 + u64::from(saves - 1), n))));
    let half = ParamStore::<SimNorFlash<W, E>>::region_len(n) / 2;
    let base = E + if newest.slot == Slot::B { half } else { 0 };
    let slot_len = ParamStore::<SimNorFlash<W, E>>::slot_len(n);
    let mut checked = 0;
    for addr in base..base + half {
        for bit in 0..8 {
            let mut g = f.clone();
            g.flip_bit(addr, bit);
            let got = boot(g, n).1.map(|(l, p)| (l.sequence, p));
            if addr < base + slot_len {
                match &older {
                    Some(o) => assert_eq!(got.as_ref(), Ok(o), "flip {addr:#x}.{bit}"),
                    None => assert_eq!(got, Err(PersistError::NoValidSlot), "flip {addr:#x}.{bit}"),
                }
                checked += 1;
            } else {
                // Beyond the slot: not part of the save, which stays the newest.
                assert_eq!(got.map(|(s, _)| s), Ok(saves), "flip {addr:#x}.{bit}");
            }
        }
    }
    checked
}

#[test]
fn every_single_bit_flip_of_the_newest_slot_falls_back() {
    let n = 20;
    let counts = [
        flip_every_bit::<4, 1024>(n, 2),
        flip_every_bit::<4, 1024>(n, 1),
        flip_every_bit::<32, 2048>(n, 2),
        flip_every_bit::<32, 2048>(n, 1),
    ];
    eprintln!("bit flips checked inside slots: {counts:?}");
    assert_eq!(counts[0], (20 + 80 + 8) * 8);
    assert_eq!(counts[2], (32 + 96 + 32) * 8);
}

/// Writes the reference encoding of a save into `slot` of `f` (region at page 1).
fn put<const W: usize, const E: usize>(
    f: &mut SimNorFlash<W, E>,
    n: usize,
    slot: Slot,
    sequence: u32,
    p: &[f32],
) {
    let half = ParamStore::<SimNorFlash<W, E>>::region_len(n) / 2;
    let base = E + if slot == Slot::B { half } else { 0 };
    let image = encode_slot(W, sequence, TAG, p);
    f.bytes_mut()[base..base + image.len()].copy_from_slice(&image);
}

#[test]
fn sequence_numbers_wrap_around() {
    let n = 20;
    let (pa, pb) = (params(1, n), params(2, n));
    let max = u32::MAX;
    for (sa, sb, winner) in [
        (max - 1, max, Slot::B),
        (max, 0, Slot::B),
        (0, max, Slot::A),
        (max, 1, Slot::B),
        (6, 5, Slot::A),
    ] {
        let mut f = flash::<4, 1024>(n, 3);
        put(&mut f, n, Slot::A, sa, &pa);
        put(&mut f, n, Slot::B, sb, &pb);
        let (seq, p) = if winner == Slot::A {
            (sa, &pa)
        } else {
            (sb, &pb)
        };
        let got = boot(f, n).1;
        assert_eq!(
            got,
            Ok((
                Loaded {
                    slot: winner,
                    sequence: seq
                },
                bits(p)
            )),
            "{sa} vs {sb}"
        );
    }
    // Saving across the wrap.
    let mut f = flash::<4, 1024>(n, 3);
    put(&mut f, n, Slot::A, max - 1, &pa);
    put(&mut f, n, Slot::B, max, &pb);
    let mut store = open(f, n, TAG);
    let p3 = params(3, n);
    assert_eq!(
        store.save(&p3),
        Ok(Saved {
            slot: Slot::A,
            sequence: 0
        })
    );
    let (f, got) = boot(store.release(), n);
    assert_eq!(
        got,
        Ok((
            Loaded {
                slot: Slot::A,
                sequence: 0
            },
            bits(&p3)
        ))
    );
    let mut store = open(f, n, TAG);
    let p4 = params(4, n);
    assert_eq!(
        store.save(&p4),
        Ok(Saved {
            slot: Slot::B,
            sequence: 1
        })
    );
    assert_eq!(
        boot(store.release(), n).1,
        Ok((
            Loaded {
                slot: Slot::B,
                sequence: 1
            },
            bits(&p4)
        ))
    );
}

#[test]
fn other_tag_or_param_count_is_not_loaded() {
    let n = 20;
    let p1 = params(1, n);
    let mut mine = open(flash::<4, 1024>(n, 4), n, TAG);
    assert_eq!(
        mine.save(&p1),
        Ok(Saved {
            slot: Slot::A,
            sequence: 1
        })
    );
    let f = mine.release();
    for m in [n - 1, n + 1] {
        let mut store = open(f.clone(), n, TAG);
        let mut out = vec![7.0; m];
        assert_eq!(
            store.load(&mut out),
            Err(PersistError::NoValidSlot),
            "{m} params"
        );
        assert_eq!(store.newest(m), Ok(None));
        assert!(out.iter().all(|&x| x == 7.0));
    }
    // Another model's store ignores the save, and its own first save keeps it.
    let mut other = open(f, n, TAG + 1);
    let mut out = vec![0.0; n];
    assert_eq!(other.load(&mut out), Err(PersistError::NoValidSlot));
    let q = params(2, n);
    assert_eq!(
        other.save(&q),
        Ok(Saved {
            slot: Slot::B,
            sequence: 2
        })
    );
    assert_eq!(
        other.load(&mut out),
        Ok(Loaded {
            slot: Slot::B,
            sequence: 2
        })
    );
    assert_eq!(bits(&out), bits(&q));
    let mut mine = open(other.release(), n, TAG);
    assert_eq!(
        mine.load(&mut out),
        Ok(Loaded {
            slot: Slot::A,
            sequence: 1
        })
    );
    assert_eq!(bits(&out), bits(&p1));
    // Its second save takes the other slot: the first model's save is gone.
    let mut other = open(mine.release(), n, TAG + 1);
    assert_eq!(
        other.save(&q),
        Ok(Saved {
            slot: Slot::A,
            sequence: 3
        })
    );
    let mut mine = open(other.release(), n, TAG);
    assert_eq!(mine.load(&mut out), Err(PersistError::NoValidSlot));
}

#[test]
fn layout_errors() {
    let f = Nrf51Flash::new(8, 0);
    let layout = Err(PersistError::Layout);
    for (offset, len) in [
        (512, 2048),             // offset not on a page
        (1024, 1024),            // one page: no room for two slots
        (1024, 3072),            // slots not whole pages
        (0, 0),                  // empty
        (4096, 8192),            // beyond the flash
        (u32::MAX - 1023, 2048), // address overflow
    ] {
        assert_eq!(
            ParamStore::new(f.clone(), offset, len, TAG).map(|_| ()),
            layout,
            "{offset} {len}"
        );
    }
    assert!(ParamStore::new(f.clone(), 0, 8192, TAG).is_ok());
    // One 1 KiB page per slot holds (1024 - 20 - 8) / 4 = 249 parameters.
    assert_eq!(ParamStore::<Nrf51Flash>::region_len(249), 2048);
    assert_eq!(ParamStore::<Nrf51Flash>::region_len(250), 4096);
    let mut store = ParamStore::new(f, 1024, 2048, TAG).expect("layout");
    assert_eq!(
        store.save(&[0.5; 250]),
        layout.map(|()| Saved {
            slot: Slot::A,
            sequence: 0
        })
    );
    assert_eq!(store.load(&mut [0.0; 250]).map(|_| ()), layout);
    assert_eq!(store.newest(250).map(|_| ()), layout);
    assert_eq!(
        store.save(&[0.5; 249]),
        Ok(Saved {
            slot: Slot::A,
            sequence: 1
        })
    );
    // Sizes of the module documentation's example.
    assert_eq!(ParamStore::<Nrf52Flash>::slot_len(1290), 5188);
    assert_eq!(ParamStore::<Nrf52Flash>::region_len(1290), 16384);
    assert_eq!(ParamStore::<Nrf51Flash>::region_len(1290), 12288);
    assert_eq!(ParamStore::<WideWordFlash>::slot_len(1290), 32 + 5184 + 32);
}

#[test]
fn flash_errors_propagate() {
    let n = 20;
    let (f, last) = with_saves::<4, 1024>(n, 1);
    for kind in [
        NorFlashErrorKind::NotAligned,
        NorFlashErrorKind::OutOfBounds,
        NorFlashErrorKind::Other,
    ] {
        let mut g = f.clone();
        g.set_fault(Some(kind));
        let mut store = open(g, n, TAG);
        let err = Err(PersistError::Flash(kind));
        let mut out = vec![9.0; n];
        assert_eq!(
            store.load(&mut out),
            err.map(|()| Loaded {
                slot: Slot::A,
                sequence: 0
            })
        );
        assert!(
            out.iter().all(|&x| x == 9.0),
            "params touched on a flash error"
        );
        assert_eq!(store.newest(n).map(|_| ()), err);
        assert_eq!(store.save(&out).map(|_| ()), err);
        assert_eq!(store.erase(), err);
        // Nothing was changed: after the fault, the save is there.
        let (_, got) = boot(store.release(), n);
        assert_eq!(got.map(|(l, p)| (l.sequence, p)), Ok((1, bits(&last))));
    }
}

/// A flash with one byte that always reads `0xFF` (a cell that does not program).
struct StuckByte<F> {
    inner: F,
    addr: usize,
}

impl<F: NorFlash> tinytune::model::persist::nor_flash::ErrorType for StuckByte<F> {
    type Error = F::Error;
}

impl<F: NorFlash> tinytune::model::persist::nor_flash::ReadNorFlash for StuckByte<F> {
    const READ_SIZE: usize = F::READ_SIZE;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        self.inner.read(offset, bytes)?;
        if let Some(b) = self
            .addr
            .checked_sub(offset as usize)
            .and_then(|i| bytes.get_mut(i))
        {
            *b = 0xFF;
        }
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }
}

impl<F: NorFlash> NorFlash for StuckByte<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.inner.erase(from, to)
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.inner.write(offset, bytes)
    }
}

#[test]
fn a_save_that_does_not_read_back_is_not_committed() {
    let n = 20;
    let (f, last) = with_saves::<4, 1024>(n, 2); // A: seq 1, B: seq 2; the next save goes to A
    let slot_a = 1024;
    // In the payload: found before the commit record is programmed. In the marker: after.
    for stuck in [slot_a + 20 + 4 * 3 + 1, slot_a + 20 + 80 + 4 + 2] {
        let len = ParamStore::<Nrf51Flash>::region_len(n) as u32;
        let flash = StuckByte {
            inner: f.clone(),
            addr: stuck,
        };
        let mut store = ParamStore::new(flash, 1024, len, TAG).expect("layout");
        assert_eq!(
            store.save(&params(3, n)),
            Err(PersistError::Verify),
            "stuck at {stuck}"
        );
        let mut out = vec![0.0; n];
        assert_eq!(
            store.load(&mut out),
            Ok(Loaded {
                slot: Slot::B,
                sequence: 2
            })
        );
        assert_eq!(bits(&out), bits(&last));
    }
}

#[test]
fn garbage_flash_is_no_valid_slot() {
    let n = 20;
    let len = flash::<4, 1024>(n, 0).bytes().len();
    let half = ParamStore::<Nrf51Flash>::region_len(n) / 2;
    let mut rng = SplitMix64::new(42);
    let mut random = |len: usize| (0..len).map(|_| rng.next_u64() as u8).collect::<Vec<u8>>();
    let mut contents = vec![vec![0x00; len], vec![0xFF; len]];
    for i in 0..600 {
        let mut v = random(len);
        if i % 2 == 1 {
            // Headers of this format (and tag), random beyond: deep into the CRC check.
            for base in [1024, 1024 + half] {
                let mut h = encode_slot(4, i, TAG, &params(u64::from(i), n));
                h.truncate(20);
                if i % 4 == 3 {
                    h[16..20].copy_from_slice(&random(4)); // random payload length
                }
                v[base..base + 20].copy_from_slice(&h);
            }
        }
        contents.push(v);
    }
    for (i, bytes) in contents.into_iter().enumerate() {
        let mut store = open(Nrf51Flash::from_bytes(bytes, 1), n, TAG);
        let mut out = vec![1.5; n];
        assert_eq!(
            store.load(&mut out),
            Err(PersistError::NoValidSlot),
            "content {i}"
        );
        assert!(out.iter().all(|&x| x == 1.5));
        assert_eq!(store.newest(n), Ok(None));
        // The store recovers: a save over garbage loads back.
        let p = params(i as u64, n);
        let saved = store.save(&p).expect("save over garbage");
        assert_eq!(
            store.load(&mut out),
            Ok(Loaded {
                slot: saved.slot,
                sequence: saved.sequence
            })
        );
        assert_eq!(bits(&out), bits(&p));
    }
}

#[test]
fn damaged_saves_load_whole_or_not_at_all() {
    // One or two random byte ranges of a flash with two saves overwritten by random bytes:
    // whatever loads is one of the two saves, whole, and the older only if the newer is hit.
    let n = 20;
    let (f, _) = with_saves::<4, 1024>(n, 2); // A: seq 1, B: seq 2
    let saves = [(1, bits(&params(101, n))), (2, bits(&params(102, n)))];
    let mut rng = SplitMix64::new(43);
    let mut outcomes = [0u32; 3]; // none, seq 1, seq 2
    for i in 0..2000 {
        let mut g = f.clone();
        let mut hit_b = false;
        for _ in 0..1 + i % 2 {
            let at = 1024 + (rng.next_u64() % 2048) as usize;
            let run = 1 + (rng.next_u64() % 64) as usize;
            let before = g.bytes()[at..at + run].to_vec();
            for b in g.bytes_mut().iter_mut().skip(at).take(run) {
                *b = rng.next_u64() as u8;
            }
            hit_b |= at + run > 2048 && g.bytes()[at..at + run] != before[..];
        }
        match boot(g, n).1 {
            Ok((l, p)) => {
                assert!(saves.contains(&(l.sequence, p)), "a damaged save loaded");
                assert!(
                    l.sequence == 2 || hit_b,
                    "the older save won over an intact newer"
                );
                outcomes[l.sequence as usize] += 1;
            }
            Err(e) => {
                assert_eq!(e, PersistError::NoValidSlot);
                outcomes[0] += 1;
            }
        }
    }
    eprintln!(
        "2000 damaged flashes: {} none, {} seq 1, {} seq 2",
        outcomes[0], outcomes[1], outcomes[2]
    );
    assert!(outcomes.iter().all(|&c| c > 0));
}

/// A flash whose reads fail in some address ranges until they are erased (ECC flash after a
/// word was torn by a power cut).
struct Unreadable<F> {
    inner: F,
    ranges: Vec<std::ops::Range<usize>>,
}

impl<F: NorFlash> tinytune::model::persist::nor_flash::ErrorType for Unreadable<F> {
    type Error = NorFlashErrorKind;
}

impl<F: NorFlash<Error = NorFlashErrorKind>> tinytune::model::persist::nor_flash::ReadNorFlash
    for Unreadable<F>
{
    const READ_SIZE: usize = F::READ_SIZE;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let (lo, hi) = (offset as usize, offset as usize + bytes.len());
        if self.ranges.iter().any(|r| r.start < hi && lo < r.end) {
            return Err(NorFlashErrorKind::Other);
        }
        self.inner.read(offset, bytes)
    }
    fn capacity(&self) -> usize {
        self.inner.capacity()
    }
}

impl<F: NorFlash<Error = NorFlashErrorKind>> NorFlash for Unreadable<F> {
    const WRITE_SIZE: usize = F::WRITE_SIZE;
    const ERASE_SIZE: usize = F::ERASE_SIZE;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.inner.erase(from, to)?;
        self.ranges
            .retain(|r| !(from as usize <= r.start && r.end <= to as usize));
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        self.inner.write(offset, bytes)
    }
}

#[test]
fn an_unreadable_slot_counts_as_invalid() {
    let n = 20;
    let (f, last) = with_saves::<4, 1024>(n, 2); // A (1024..2048): seq 1, B (2048..3072): seq 2
    let first = bits(&params(101, n));
    let word_in = |slot: usize| slot + 40..slot + 44;
    let len = ParamStore::<Nrf51Flash>::region_len(n) as u32;
    let other = Err(PersistError::Flash(NorFlashErrorKind::Other));
    // (unreadable ranges, what loads before a save, where the save goes, its sequence)
    let cases = [
        (vec![word_in(1024)], Ok((2, bits(&last))), Slot::A, 3),
        (vec![word_in(2048)], Ok((1, first)), Slot::B, 2),
        (vec![word_in(1024), word_in(2048)], other, Slot::A, 1),
    ];
    for (i, (ranges, before, slot, sequence)) in cases.into_iter().enumerate() {
        let flash = Unreadable {
            inner: f.clone(),
            ranges,
        };
        let mut store = ParamStore::new(flash, 1024, len, TAG).expect("layout");
        let mut out = vec![0.0; n];
        let got = store.load(&mut out).map(|l| (l.sequence, bits(&out)));
        assert_eq!(got, before, "case {i}");
        let p = params(7, n);
        assert_eq!(store.save(&p), Ok(Saved { slot, sequence }), "case {i}");
        assert_eq!(
            store.load(&mut out),
            Ok(Loaded { slot, sequence }),
            "case {i}"
        );
        assert_eq!(bits(&out), bits(&p));
    }
}

#[test]
fn the_documented_example_slot() {
    // docs/persist-format.md, "Example": bytes copied from the document.
    let doc: [u8; 36] = [
        0x54, 0x54, 0x50, 0x53, 0x01, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x31, 0x6d, 0x74,
        0x74, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0xe6, 0xc3,
        0xca, 0xa5, 0x54, 0x54, 0x4f, 0x4b,
    ];
    assert_eq!(encode_slot(4, 1, 0x7474_6D31, &[1.0, -2.0]), doc);
    let mut store = ParamStore::new(Nrf51Flash::new(2, 0), 0, 2048, 0x7474_6D31).expect("layout");
    assert_eq!(
        store.save(&[1.0, -2.0]),
        Ok(Saved {
            slot: Slot::A,
            sequence: 1
        })
    );
    assert_eq!(&store.release().bytes()[..36], &doc);
}
