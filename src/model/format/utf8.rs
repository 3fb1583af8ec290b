//! UTF-8 validation of the class names at load, in less code than `core::str::from_utf8`, whose
//! validator brings a 256-byte width table: the loader checks every name of every model, while
//! only a firmware that reads the names back needs `str`s.

/// Whether `bytes` is valid UTF-8, exactly as `core::str::from_utf8(bytes).is_ok()` (RFC 3629:
/// shortest encodings only, no surrogates, nothing above U+10FFFF).
pub(crate) fn is_utf8(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    while let Some((&lead, tail)) = rest.split_first() {
        // Continuation bytes, and the smallest code point that needs them.
        let (n, min) = match lead {
            0x00..=0x7F => (0, 0),
            0xC2..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF4 => (3, 0x1_0000),
            _ => return false,
        };
        let Some((cont, after)) = tail.split_at_checked(n) else {
            return false;
        };
        let mut cp = u32::from(lead) & (0x7F >> n);
        for &b in cont {
            if b & 0xC0 != 0x80 {
                return false;
            }
            cp = (cp << 6) | u32::from(b & 0x3F);
        }
        if cp < min || cp > 0x10_FFFF || (0xD800..=0xDFFF).contains(&cp) {
            return false;
        }
        rest = after;
    }
    true
}

#[cfg(test)]
mod tests {
    //! Against `core::str::from_utf8`: every sequence of one to three bytes, every four-byte
    //! sequence that starts with a four-byte lead and has continuation bytes in all three
    //! places or one misplaced, and seeded random strings of valid and invalid text.
    use super::is_utf8;
    use crate::rng::{RngCore, SeedableRng, SeededRng};

    fn agrees(b: &[u8]) {
        assert_eq!(is_utf8(b), core::str::from_utf8(b).is_ok(), "{b:02x?}");
    }

    #[test]
    fn agrees_on_every_short_sequence() {
        agrees(&[]);
        for a in 0..=255u8 {
            agrees(&[a]);
            for b in 0..=255u8 {
                agrees(&[a, b]);
                for c in 0..=255u8 {
                    agrees(&[a, b, c]);
                }
            }
        }
    }

    #[test]
    fn agrees_on_four_byte_sequences() {
        for a in 0xEF..=0xF8u8 {
            for b in 0x70..=0xC4u8 {
                for c in [0x7F, 0x80, 0x9A, 0xBF, 0xC0] {
                    for d in [0x00, 0x7F, 0x80, 0xA5, 0xBF, 0xC0, 0xFF] {
                        agrees(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn agrees_on_random_text() {
        let mut rng = SeededRng::seed_from_u64(7);
        let samples = [
            "a",
            "é",
            "€",
            "😀",
            "\u{7FF}",
            "\u{FFFF}",
            "\u{10FFFF}",
            "digit 7",
        ];
        for _ in 0..20_000 {
            let mut s = Vec::new();
            for _ in 0..rng.next_u32() % 6 {
                let pick = samples[rng.next_u32() as usize % samples.len()];
                s.extend_from_slice(pick.as_bytes());
            }
            agrees(&s);
            if !s.is_empty() {
                // One byte replaced or one cut off: usually invalid, sometimes not.
                let i = rng.next_u32() as usize % s.len();
                let mut t = s.clone();
                t[i] = rng.next_u32() as u8;
                agrees(&t);
                agrees(&s[..i]);
            }
        }
    }
}
