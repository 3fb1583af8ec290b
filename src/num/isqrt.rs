//! Integer square roots, exact floors: `isqrt(n) = max { r : r² <= n }`.
//!
//! The integer layer norm takes the square root of an integer variance; doing it in integers
//! keeps the whole int8 path free of floating point (which a Cortex-M0 emulates slowly) and makes
//! its results identical on every target.
//!
//! Both functions use the classic digit-by-digit (base 4) method: one candidate bit of the root
//! per iteration, decided by a subtraction, so the result is exact with no rounding analysis and
//! no division, in a fixed 16 (u32) or 32 (u64) iterations.

/// `floor(sqrt(n))` for a `u32`.
pub fn isqrt_u32(n: u32) -> u32 {
    isqrt_u64(u64::from(n)) as u32
}

/// `floor(sqrt(n))` for a `u64`.
pub fn isqrt_u64(n: u64) -> u64 {
    let mut rem = n;
    let mut root = 0u64;
    // The highest power of 4 not above n (bit positions 62, 60, …, 0).
    let mut bit = 1u64 << 62;
    while bit > rem {
        bit >>= 2;
        if bit == 0 {
            return 0;
        }
    }
    // Invariant: `root` holds the bits of the root decided so far, shifted so that
    // `(root + bit)` is the candidate with the next bit set, and `rem = n - root_so_far²`
    // scaled alike; a candidate is kept when its square still fits in the remainder.
    while bit != 0 {
        let candidate = root + bit;
        if rem >= candidate {
            rem -= candidate;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root
}
