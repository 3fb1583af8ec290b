//! `batch_matmul_f32` against a plain loop, both layouts of the right side.

use crate::gen::{same_bits, Rng, Values};
use defmt::unwrap;
use tinytune::kernels::generic::matmul::{batch_matmul_f32, BatchMatmulShape, RhsLayout};

const MAX_K: usize = 37;
const MAX_N: usize = 11;
const MAX_BATCH: usize = 3;
/// Rows of the left side: `m` only repeats what a row does, a few suffice.
const MAX_M: usize = 2;

/// `output[b, i, j] = sum_kk lhs[b, i, kk] * rhs[b, kk, j]` in increasing `kk`.
fn plain(shape: BatchMatmulShape, lhs: &[f32], rhs: &[f32], layout: RhsLayout, output: &mut [f32]) {
    let BatchMatmulShape { batch, m, k, n } = shape;
    for b in 0..batch {
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0f32;
                for kk in 0..k {
                    let r = match layout {
                        RhsLayout::KN => rhs[b * k * n + kk * n + j],
                        RhsLayout::NK => rhs[b * k * n + j * k + kk],
                    };
                    acc += lhs[b * m * k + i * k + kk] * r;
                }
                output[b * m * n + i * n + j] = acc;
            }
        }
    }
}

/// Every shape of the suite, both layouts; returns the number of shapes.
pub fn every_shape(values: Values) -> u32 {
    let mut rng = Rng::new(0xF32A_0001);
    let mut lhs = [0.0f32; MAX_BATCH * MAX_M * MAX_K];
    let mut rhs = [0.0f32; MAX_BATCH * MAX_K * MAX_N];
    let mut cases = 0u32;
    for batch in 1..=MAX_BATCH {
        for k in 1..=MAX_K {
            for n in 1..=MAX_N {
                let m = 1 + (k + n) % MAX_M;
                let shape = BatchMatmulShape { batch, m, k, n };
                let lhs = &mut lhs[..batch * m * k];
                let rhs = &mut rhs[..batch * k * n];
                rng.fill(lhs, values);
                rng.fill(rhs, values);
                let len = batch * m * n;
                for layout in [RhsLayout::KN, RhsLayout::NK] {
                    let mut got = [1.5f32; MAX_BATCH * MAX_M * MAX_N];
                    let mut want = [-2.5f32; MAX_BATCH * MAX_M * MAX_N];
                    unwrap!(batch_matmul_f32(shape, lhs, rhs, layout, &mut got[..len]));
                    plain(shape, lhs, rhs, layout, &mut want[..len]);
                    same_bits(&got[..len], &want[..len], "batch_matmul_f32");
                }
                cases += 1;
            }
        }
    }
    cases
}
