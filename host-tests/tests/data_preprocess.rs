//! Preprocessing: every scaler kind against an f64 reference on random data (with constant and
//! NaN columns), transform ∘ inverse = identity, bit-exact serialisation and rejection of
//! truncated or corrupt bytes. (Welford's streaming statistics: `data_welford.rs`.)

use tinytune::data::preprocess::{params_len, peek_header, serialized_len, Scaler, ScalerKind};
use tinytune::{Buffer, Error, ShapeError};
use tinytune_host_tests::rng::SplitMix64;

const KINDS: [ScalerKind; 4] = [
    ScalerKind::Center,
    ScalerKind::MinMax,
    ScalerKind::MinMaxSymmetric,
    ScalerKind::Standard,
];

/// f64 reference of (offset, scale) for one column, straight from the formulas in the docs.
fn reference_params(kind: ScalerKind, col: &[f64]) -> (f64, f64) {
    let n = col.len() as f64;
    let mean = col.iter().sum::<f64>() / n;
    let var = col.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let lo = col.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = col.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let (o, s) = match kind {
        ScalerKind::Center => (mean, 1.0),
        ScalerKind::MinMax => (lo, hi - lo),
        ScalerKind::MinMaxSymmetric => ((lo + hi) / 2.0, (hi - lo) / 2.0),
        ScalerKind::Standard => (mean, var.sqrt()),
    };
    (o, if s == 0.0 { 1.0 } else { s })
}

/// Random `[rows, features]` data: each column has its own offset (up to ±1000) and spread
/// (1e-3 to 100); column 2 is constant.
fn random_data(rng: &mut SplitMix64, rows: usize, features: usize) -> Vec<f32> {
    let cols: Vec<(f64, f64)> = (0..features)
        .map(|_| {
            (
                rng.uniform(-1000.0, 1000.0),
                10f64.powf(rng.uniform(-3.0, 2.0)),
            )
        })
        .collect();
    let mut data = Vec::with_capacity(rows * features);
    for _ in 0..rows {
        for (j, &(o, s)) in cols.iter().enumerate() {
            let v = if j == 2 {
                o
            } else {
                o + s * rng.uniform(-1.0, 1.0)
            };
            data.push(v as f32);
        }
    }
    data
}

fn column(data: &[f32], features: usize, j: usize) -> Vec<f64> {
    data.iter()
        .skip(j)
        .step_by(features)
        .map(|&x| x as f64)
        .collect()
}

/// Fitted offsets and scales match f64 within 1e-5 relative to the column's magnitude `M`
/// (offset) and 1e-4 relative (scale); transformed values match the f64 transform of the same
/// inputs within `1e-4 + 2ε·M/s` (an f32 offset is only exact to half an ulp of `M`, which the
/// transform divides by the scale `s`; ε = 2⁻²³); constant column 2 maps to exactly 0.
#[test]
fn fit_and_transform_match_f64_reference() {
    let mut rng = SplitMix64::new(11);
    for &(rows, features) in &[(1usize, 3usize), (7, 4), (500, 6), (4000, 5)] {
        let data = random_data(&mut rng, rows, features);
        for kind in KINDS {
            let mut params = vec![0.0f32; params_len(features).unwrap()];
            let scaler = kind.fit(&data, features, &mut params).unwrap();
            let mut y = data.clone();
            scaler.transform(&mut y).unwrap();
            for j in 0..features {
                let col = column(&data, features, j);
                let (o, s) = reference_params(kind, &col);
                let mag = col.iter().map(|x| x.abs()).fold(1.0, f64::max);
                let (fo, fs) = (scaler.offsets()[j] as f64, scaler.scales()[j] as f64);
                assert!(
                    (fo - o).abs() <= 1e-5 * mag,
                    "{kind:?} {rows}x{features} col {j}: offset {fo} vs {o}"
                );
                // The symmetric scale is measured from the f32-rounded midpoint.
                let s_tol = 1e-4 * s + 2.0 * f32::EPSILON as f64 * mag;
                assert!(
                    (fs - s).abs() <= s_tol,
                    "{kind:?} {rows}x{features} col {j}: scale {fs} vs {s}"
                );
                for (r, &x) in col.iter().enumerate() {
                    let want = (x - o) / s;
                    let got = y[r * features + j] as f64;
                    let tol = 1e-4 + 2.0 * f32::EPSILON as f64 * mag / s;
                    assert!(
                        (got - want).abs() <= tol,
                        "{kind:?} col {j} row {r}: {got} vs {want}"
                    );
                    if j == 2 || rows == 1 {
                        assert_eq!(got, 0.0, "constant feature must map to 0");
                    }
                }
            }
            if kind == ScalerKind::MinMax {
                assert!(
                    y.iter().all(|&v| (0.0..=1.0).contains(&v)),
                    "fit data within [0, 1] exactly"
                );
            }
            if kind == ScalerKind::MinMaxSymmetric {
                assert!(
                    y.iter().all(|&v| (-1.0..=1.0).contains(&v)),
                    "fit data within [-1, 1] exactly"
                );
            }
        }
    }
}

/// A large common offset (1e6 plus noise of size 1) costs the standard scaler nothing: the
/// fitted mean is within 0.01 and the std within 1e-3 relative of f64 on the same f32 data.
#[test]
fn standard_scaler_is_accurate_on_a_large_offset() {
    let mut rng = SplitMix64::new(5);
    let data: Vec<f32> = (0..50_000)
        .map(|_| (1e6 + rng.uniform(-1.7, 1.7)) as f32)
        .collect();
    let mut params = [0.0f32; 2];
    let s = ScalerKind::Standard.fit(&data, 1, &mut params).unwrap();
    let (o, sd) = reference_params(ScalerKind::Standard, &column(&data, 1, 0));
    assert!(
        (s.offsets()[0] as f64 - o).abs() < 0.01,
        "{} vs {o}",
        s.offsets()[0]
    );
    assert!(
        (s.scales()[0] as f64 / sd - 1.0).abs() < 1e-3,
        "{} vs {sd}",
        s.scales()[0]
    );
}

/// NaN policy (documented): a NaN in a column makes that feature's offset and scale NaN and the
/// whole feature NaN after transform; the other features are unaffected.
#[test]
fn nan_column_poisons_only_its_feature() {
    let data = [1.0f32, 10.0, f32::NAN, 20.0, 3.0, 30.0];
    for kind in KINDS {
        let mut params = [0.0f32; 4];
        let s = kind.fit(&data, 2, &mut params).unwrap();
        assert!(
            s.offsets()[0].is_nan() && s.scales()[0].is_nan(),
            "{kind:?}"
        );
        assert!(
            s.offsets()[1].is_finite() && s.scales()[1].is_finite(),
            "{kind:?}"
        );
        let mut y = data;
        s.transform(&mut y).unwrap();
        assert!(y[0].is_nan() && y[2].is_nan() && y[4].is_nan());
        assert!(y[1].is_finite() && y[3].is_finite() && y[5].is_finite());
    }
}

/// inverse_transform(transform(x)) = x within 1e-6 of the feature's magnitude
/// `M = max(max |x|, 1)` over the column (f32 keeps `x − offset` only to half an ulp of `M`, so
/// this is the natural unit; the round trip costs about 3e-7 · M), for every kind.
#[test]
fn transform_then_inverse_is_identity() {
    let mut rng = SplitMix64::new(3);
    let data = random_data(&mut rng, 300, 5);
    for kind in KINDS {
        let mut params = vec![0.0f32; 10];
        let s = kind.fit(&data, 5, &mut params).unwrap();
        let mut y = data.clone();
        s.transform(&mut y).unwrap();
        s.inverse_transform(&mut y).unwrap();
        for j in 0..5 {
            let mag = column(&data, 5, j)
                .iter()
                .map(|x| x.abs())
                .fold(1.0, f64::max);
            for r in 0..300 {
                let (a, b) = (y[r * 5 + j] as f64, data[r * 5 + j] as f64);
                assert!((a - b).abs() <= 1e-6 * mag, "{kind:?} col {j}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn fit_and_transform_reject_bad_shapes() {
    let data = [1.0f32; 6];
    let mut params = [9.0f32; 4];
    assert_eq!(
        ScalerKind::Standard.fit(&data, 0, &mut params).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(
        ScalerKind::Standard.fit(&[], 2, &mut params).unwrap_err(),
        Error::Shape(ShapeError::Dimension)
    );
    assert_eq!(
        ScalerKind::Standard
            .fit(&data[..5], 2, &mut params)
            .unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            expected: 4,
            actual: 5
        })
    );
    assert_eq!(
        ScalerKind::Standard.fit(&data, 3, &mut params).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 6,
            actual: 4
        })
    );
    assert_eq!(params, [9.0; 4], "nothing written on error");
    let s = ScalerKind::MinMax.fit(&data, 2, &mut params).unwrap();
    let mut odd = [1.0f32; 3];
    assert!(matches!(
        s.transform(&mut odd),
        Err(Error::Shape(ShapeError::Length {
            buffer: Buffer::Input,
            ..
        }))
    ));
    assert!(s.inverse_transform(&mut odd).is_err());
    assert_eq!(odd, [1.0; 3]);
    assert!(Scaler::new(ScalerKind::Center, 3, &params).is_err());
}

/// The byte format round-trips bit for bit (NaN payloads too), has the documented size and
/// header, and its CRC matches an independent CRC-32 (zlib) computed here.
#[test]
fn serialisation_round_trips_bit_exactly() {
    let mut rng = SplitMix64::new(8);
    for features in [1usize, 2, 7, 33] {
        for kind in KINDS {
            let data = random_data(&mut rng, 20, features.max(3));
            let f = features.max(3);
            let mut params = vec![0.0f32; 2 * f];
            kind.fit(&data, f, &mut params).unwrap();
            params[0] = f32::from_bits(0x7fc0_1234); // a NaN payload must survive too
            let s = Scaler::new(kind, f, &params).unwrap();
            let len = serialized_len(f).unwrap();
            assert_eq!(len, 12 + 8 * f);
            let mut bytes = vec![0xAAu8; len + 5];
            assert_eq!(s.to_bytes(&mut bytes).unwrap(), len);
            assert_eq!(&bytes[..2], b"TS");
            assert_eq!(bytes[2], 1);
            assert_eq!(bytes[3], kind.tag());
            assert_eq!(
                u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize,
                f
            );
            assert_eq!(&bytes[len..], &[0xAA; 5], "nothing written past the length");
            let crc = u32::from_le_bytes(bytes[len - 4..len].try_into().unwrap());
            assert_eq!(crc, crc32_reference(&bytes[..len - 4]));
            assert_eq!(peek_header(&bytes).unwrap(), (kind, f));
            let mut back = vec![0.0f32; 2 * f];
            let r = Scaler::from_bytes(&bytes, &mut back).unwrap();
            assert_eq!(r.kind(), kind);
            assert_eq!(r.features(), f);
            let a: Vec<u32> = r.params().iter().map(|x| x.to_bits()).collect();
            let b: Vec<u32> = params.iter().map(|x| x.to_bits()).collect();
            assert_eq!(a, b);
        }
    }
}

/// Bitwise CRC-32/ISO-HDLC written from the definition (polynomial 0x04C11DB7, reflected).
fn crc32_reference(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &b in bytes {
        for bit in 0..8 {
            let inbit = ((b >> bit) & 1) as u32;
            let top = (crc & 1) ^ inbit;
            crc >>= 1;
            if top == 1 {
                crc ^= 0x04C1_1DB7u32.reverse_bits();
            }
        }
    }
    !crc
}

/// Every truncation is a length error, every single-bit flip anywhere (header, values, CRC) and
/// every other kind tag is rejected, and `params` is never written on error.
#[test]
fn truncated_or_corrupt_bytes_are_rejected() {
    let data: Vec<f32> = (0..40).map(|i| (i * 7 % 13) as f32).collect();
    let mut params = [0.0f32; 8];
    let s = ScalerKind::Standard.fit(&data, 4, &mut params).unwrap();
    let mut bytes = [0u8; 44];
    assert_eq!(s.to_bytes(&mut bytes).unwrap(), 44);
    let mut out = [7.0f32; 8];
    for cut in 0..44 {
        let err = Scaler::from_bytes(&bytes[..cut], &mut out).unwrap_err();
        let expected = if cut < 8 { 8 } else { 44 };
        assert_eq!(
            err,
            Error::Shape(ShapeError::Length {
                buffer: Buffer::Input,
                expected,
                actual: cut
            }),
            "cut {cut}"
        );
    }
    for byte in 0..44 {
        for bit in 0..8 {
            let mut bad = bytes;
            bad[byte] ^= 1 << bit;
            let r = Scaler::from_bytes(&bad, &mut out);
            // A flip in the feature count may also announce more bytes than given.
            assert!(
                matches!(
                    r,
                    Err(Error::Config)
                        | Err(Error::Shape(ShapeError::Length {
                            buffer: Buffer::Input,
                            ..
                        }))
                ),
                "flip byte {byte} bit {bit}: {r:?}"
            );
        }
    }
    for tag in [0u8, 5, 0xFF] {
        let mut bad = bytes;
        bad[3] = tag;
        assert_eq!(
            Scaler::from_bytes(&bad, &mut out).unwrap_err(),
            Error::Config
        );
    }
    assert_eq!(out, [7.0; 8]);
    // A valid header with a feature count of 0 is corrupt.
    let mut zero = bytes;
    zero[4..8].copy_from_slice(&0u32.to_le_bytes());
    assert_eq!(peek_header(&zero).unwrap_err(), Error::Config);
    // Wrong params buffer, short output buffer.
    assert_eq!(
        Scaler::from_bytes(&bytes, &mut out[..6]).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Params,
            expected: 8,
            actual: 6
        })
    );
    let mut short = [0u8; 43];
    assert_eq!(
        s.to_bytes(&mut short).unwrap_err(),
        Error::Shape(ShapeError::Length {
            buffer: Buffer::Output,
            expected: 44,
            actual: 43
        })
    );
    assert_eq!(short, [0; 43]);
}
