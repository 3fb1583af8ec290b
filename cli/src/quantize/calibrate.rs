//! Activation ranges from calibration data.

use crate::model::{PipelineError, Result};

/// How an activation range is chosen from the values a tensor took on the calibration data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Calibration {
    /// `[min, max]` of the values.
    MinMax,
    /// `[q(100 − p), q(p)]`, the `100 − p` and `p` percentiles (nearest rank over the sorted
    /// values: rank `round(p / 100 · (n − 1))`), so the rarest `(100 − p) %` of values at each
    /// end are clipped; `p` in `[50, 100]` (for example 99.99). `Percentile(100.0)` is
    /// [`Calibration::MinMax`].
    Percentile(f32),
}

/// The range of `values` under `method`, extended to contain 0 (so the real 0 is exactly
/// representable, as [`QuantParams::asymmetric_from_min_max`] requires).
///
/// # Errors
/// [`PipelineError::Invalid`] at `at` if `values` is empty or holds a NaN or infinite value, or
/// if a percentile is outside `[50, 100]`.
///
/// [`QuantParams::asymmetric_from_min_max`]: tinytune::num::quant::QuantParams::asymmetric_from_min_max
pub fn tensor_range(values: &[f32], method: Calibration, at: &str) -> Result<(f32, f32)> {
    if values.is_empty() {
        return Err(PipelineError::invalid(at, "no calibration values"));
    }
    if let Some(pos) = values.iter().position(|v| !v.is_finite()) {
        return Err(PipelineError::invalid(
            at,
            format!("value {pos} of the calibration output is {}", values[pos]),
        ));
    }
    let (lo, hi) = match method {
        Calibration::MinMax => values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            }),
        Calibration::Percentile(p) => {
            if !(50.0..=100.0).contains(&p) {
                return Err(PipelineError::invalid(
                    "calibration",
                    format!("percentile {p} is outside [50, 100]"),
                ));
            }
            let mut sorted = values.to_vec();
            sorted.sort_unstable_by(f32::total_cmp);
            let last = sorted.len() - 1;
            let hi_rank = ((f64::from(p) / 100.0) * last as f64).round() as usize;
            let hi_rank = hi_rank.min(last);
            let lo_rank = last - hi_rank;
            (sorted[lo_rank], sorted[hi_rank])
        }
    };
    Ok((lo.min(0.0), hi.max(0.0)))
}
