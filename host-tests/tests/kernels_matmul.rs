//! Batched matmul kernels (`batch_matmul_f32`, `batch_matmul_s8`) in both right-side layouts,
//! against hand-worked cases and the independent references of `reference::linear`.
//!
//! f32 tolerance: `|got - ref| <= 1e-5 * (1 + sum |a * b|)` against the f64 reference.
//! int8: bit-exact against the exact integer reference.

use proptest::prelude::*;
use tinytune::kernels::generic::matmul::{
    batch_matmul_f32, batch_matmul_s8, BatchMatmulShape, MatmulArgsS8, RhsLayout,
};
use tinytune::kernels::ActivationS8;
use tinytune::num::quant::Requantizer;
use tinytune::{Buffer, ShapeError};
use tinytune_host_tests::reference::linear as reference;
use tinytune_host_tests::rng::SplitMix64;

/// Transposes each `[rows, cols]` matrix of a batch into `[cols, rows]`.
fn transpose(data: &[i64], batch: usize, rows: usize, cols: usize) -> Vec<i64> {
    let mut out = vec![0; data.len()];
    for b in 0..batch {
        for r in 0..rows {
            for c in 0..cols {
                out[(b * cols + c) * rows + r] = data[(b * rows + r) * cols + c];
            }
        }
    }
    out
}

#[test]
fn batch_matmul_f32_both_layouts_by_hand() {
    let shape = BatchMatmulShape {
        batch: 2,
        m: 2,
        k: 3,
        n: 2,
    };
    #[rustfmt::skip]
    let lhs = [
        1.0, 2.0, 3.0,    4.0, 5.0, 6.0,   // batch 0
        -1.0, 0.0, 2.0,   1.0, 1.0, 1.0,   // batch 1
    ];
    #[rustfmt::skip]
    let rhs_kn = [
        1.0, 0.0,   0.0, 1.0,   1.0, 1.0,  // batch 0: [k=3, n=2]
        2.0, 1.0,   3.0, 0.0,   -1.0, 4.0, // batch 1
    ];
    #[rustfmt::skip]
    let rhs_nk = [
        1.0, 0.0, 1.0,   0.0, 1.0, 1.0,    // batch 0: [n=2, k=3]
        2.0, 3.0, -1.0,  1.0, 0.0, 4.0,    // batch 1
    ];
    // batch 0: [1+3, 2+3; 4+6, 5+6] = [4, 5; 10, 11]
    // batch 1: [-2+0-2, -1+0+8; 2+3-1, 1+0+4] = [-4, 7; 4, 5]
    let want = [4.0, 5.0, 10.0, 11.0, -4.0, 7.0, 4.0, 5.0];
    let mut out = [0.0f32; 8];
    batch_matmul_f32(shape, &lhs, &rhs_kn, RhsLayout::KN, &mut out).unwrap();
    assert_eq!(out, want);
    let mut out = [0.0f32; 8];
    batch_matmul_f32(shape, &lhs, &rhs_nk, RhsLayout::NK, &mut out).unwrap();
    assert_eq!(out, want);
}

#[test]
fn batch_matmul_s8_by_hand() {
    let shape = BatchMatmulShape {
        batch: 1,
        m: 1,
        k: 2,
        n: 2,
    };
    let lhs = [3i8, -2];
    let rhs_kn = [1i8, 2, 5, -1]; // [[1, 2], [5, -1]]
    let rhs_nk = [1i8, 5, 2, -1]; // its transpose
                                  // lhs + 1 = [4, -1]; rhs - 2 = [[-1, 0], [3, -3]]
                                  // acc = [4*-1 + -1*3, 4*0 + -1*-3] = [-7, 3]; x 1.0; -5 -> [-12, -2]; clamp min -10.
    let q = MatmulArgsS8 {
        lhs_offset: 1,
        rhs_offset: -2,
        output_offset: -5,
        requant: Requantizer {
            multiplier: 1 << 30,
            shift: 1,
        },
        act: ActivationS8 { min: -10, max: 127 },
    };
    let mut out = [0i8; 2];
    batch_matmul_s8(shape, &q, &lhs, &rhs_kn, RhsLayout::KN, &mut out).unwrap();
    assert_eq!(out, [-10, -2]);
    let mut out = [0i8; 2];
    batch_matmul_s8(shape, &q, &lhs, &rhs_nk, RhsLayout::NK, &mut out).unwrap();
    assert_eq!(out, [-10, -2]);
}

#[test]
fn batch_matmul_s8_extreme_offsets_do_not_panic() {
    // Offsets far outside the int8 spec overflow the i32 products: documented to wrap.
    let shape = BatchMatmulShape {
        batch: 1,
        m: 1,
        k: 2,
        n: 1,
    };
    let q = MatmulArgsS8 {
        lhs_offset: i32::MAX,
        rhs_offset: i32::MIN,
        output_offset: i32::MAX,
        requant: Requantizer {
            multiplier: 1 << 30,
            shift: 1,
        },
        act: ActivationS8::NONE,
    };
    // Whatever the wrapped accumulator, adding an output offset of i32::MAX saturates high.
    let mut out = [0i8];
    batch_matmul_s8(
        shape,
        &q,
        &[127, -128],
        &[-128, 127],
        RhsLayout::KN,
        &mut out,
    )
    .unwrap();
    assert_eq!(out, [127]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn batch_matmul_f32_matches_reference(
        batch in 1usize..4,
        m in 1usize..7,
        k in 1usize..24,
        n in 1usize..7,
        nk in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let shape = BatchMatmulShape { batch, m, k, n };
        let lhs = rng.f32_vec(batch * m * k, -2.0, 2.0);
        let rhs = rng.f32_vec(batch * k * n, -2.0, 2.0);
        let layout = if nk { RhsLayout::NK } else { RhsLayout::KN };
        let mut out = vec![f32::NAN; batch * m * n];
        batch_matmul_f32(shape, &lhs, &rhs, layout, &mut out).unwrap();
        let taps = reference::matmul_taps(batch, m, k, n, nk);
        let want = reference::eval_f64(&taps, &lhs, &rhs, None, f32::NEG_INFINITY, f32::INFINITY);
        for (got, want) in out.iter().zip(&want) {
            prop_assert!(reference::within_tolerance(*got, want), "got {got}, want {want:?}");
        }
    }

    /// The two layouts of the same right side give the same bits.
    #[test]
    fn batch_matmul_f32_layouts_agree(
        batch in 1usize..3,
        m in 1usize..5,
        k in 1usize..9,
        n in 1usize..5,
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let shape = BatchMatmulShape { batch, m, k, n };
        let lhs = rng.f32_vec(batch * m * k, -2.0, 2.0);
        let rhs_kn = rng.f32_vec(batch * k * n, -2.0, 2.0);
        let index: Vec<i64> = (0..rhs_kn.len() as i64).collect();
        let rhs_nk: Vec<f32> = transpose(&index, batch, k, n).iter().map(|&i| rhs_kn[i as usize]).collect();
        let mut a = vec![0.0f32; batch * m * n];
        let mut b = vec![0.0f32; batch * m * n];
        batch_matmul_f32(shape, &lhs, &rhs_kn, RhsLayout::KN, &mut a).unwrap();
        batch_matmul_f32(shape, &lhs, &rhs_nk, RhsLayout::NK, &mut b).unwrap();
        prop_assert_eq!(a, b);
    }

    #[test]
    fn batch_matmul_s8_matches_reference(
        batch in 1usize..4,
        m in 1usize..7,
        k in 1usize..40,
        n in 1usize..7,
        nk in any::<bool>(),
        lhs_offset in -127i32..=128,
        rhs_offset in -127i32..=128,
        output_offset in -128i32..=127,
        multiplier in (1i32 << 30)..=i32::MAX,
        shift in -20i32..=1,
        act in (any::<i8>(), any::<i8>()).prop_map(|(a, b)| ActivationS8 { min: a.min(b), max: a.max(b) }),
        no_act in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut rng = SplitMix64::new(seed);
        let act = if no_act { ActivationS8::NONE } else { act };
        let shape = BatchMatmulShape { batch, m, k, n };
        let lhs = rng.i8_vec(batch * m * k);
        let rhs = rng.i8_vec(batch * k * n);
        let layout = if nk { RhsLayout::NK } else { RhsLayout::KN };
        let q = MatmulArgsS8 {
            lhs_offset,
            rhs_offset,
            output_offset,
            requant: Requantizer { multiplier, shift },
            act,
        };
        let mut out = vec![0i8; batch * m * n];
        batch_matmul_s8(shape, &q, &lhs, &rhs, layout, &mut out).unwrap();
        let taps = reference::matmul_taps(batch, m, k, n, nk);
        let want = reference::eval_s8(
            &taps, &lhs, lhs_offset, &rhs, rhs_offset, None, &[(multiplier, shift)], output_offset, act.min, act.max,
        );
        prop_assert_eq!(out, want);
    }
}

fn len_err(buffer: Buffer, expected: usize, actual: usize) -> Result<(), ShapeError> {
    Err(ShapeError::Length {
        buffer,
        expected,
        actual,
    })
}

#[test]
fn batch_matmul_errors() {
    let shape = BatchMatmulShape {
        batch: 2,
        m: 3,
        k: 4,
        n: 5,
    };
    let (lf, rf) = ([0.0f32; 24], [0.0f32; 40]);
    let mut of = [7.0f32; 30];
    for layout in [RhsLayout::KN, RhsLayout::NK] {
        assert_eq!(
            batch_matmul_f32(shape, &lf[..23], &rf, layout, &mut of),
            len_err(Buffer::Input, 24, 23)
        );
        assert_eq!(
            batch_matmul_f32(shape, &lf, &rf[..39], layout, &mut of),
            len_err(Buffer::Input2, 40, 39)
        );
        assert_eq!(
            batch_matmul_f32(shape, &lf, &rf, layout, &mut of[..29]),
            len_err(Buffer::Output, 30, 29)
        );
    }
    assert!(of.iter().all(|&v| v == 7.0));

    let (ls, rs) = ([0i8; 24], [0i8; 40]);
    let mut os = [7i8; 30];
    let q = MatmulArgsS8 {
        lhs_offset: 0,
        rhs_offset: 0,
        output_offset: 0,
        requant: Requantizer {
            multiplier: 1 << 30,
            shift: 0,
        },
        act: ActivationS8::NONE,
    };
    for layout in [RhsLayout::KN, RhsLayout::NK] {
        assert_eq!(
            batch_matmul_s8(shape, &q, &ls[..23], &rs, layout, &mut os),
            len_err(Buffer::Input, 24, 23)
        );
        assert_eq!(
            batch_matmul_s8(shape, &q, &ls, &rs[..39], layout, &mut os),
            len_err(Buffer::Input2, 40, 39)
        );
        assert_eq!(
            batch_matmul_s8(shape, &q, &ls, &rs, layout, &mut os[..29]),
            len_err(Buffer::Output, 30, 29)
        );
    }
    assert!(os.iter().all(|&v| v == 7));

    for zero in [
        BatchMatmulShape { batch: 0, ..shape },
        BatchMatmulShape { m: 0, ..shape },
        BatchMatmulShape { k: 0, ..shape },
        BatchMatmulShape { n: 0, ..shape },
    ] {
        assert_eq!(
            batch_matmul_f32(zero, &[], &[], RhsLayout::KN, &mut []),
            Err(ShapeError::Dimension)
        );
        assert_eq!(
            batch_matmul_s8(zero, &q, &[], &[], RhsLayout::NK, &mut []),
            Err(ShapeError::Dimension)
        );
    }
    let huge = BatchMatmulShape {
        batch: 1,
        m: usize::MAX / 2,
        k: 3,
        n: 1,
    };
    assert_eq!(
        batch_matmul_f32(huge, &lf, &rf, RhsLayout::KN, &mut of),
        Err(ShapeError::Dimension)
    );
}
