//! Teacher–student losses: Hinton's knowledge distillation and plain logit matching.

use super::{check_labels, check_rows, row_max_sum};
use crate::error::{check_len, Buffer, Error};
use crate::num::math;

/// Result of [`distillation`]: the total and its two parts, each a batch mean.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DistillationLoss {
    /// `α·soft + (1 − α)·hard`, the value the gradient belongs to.
    pub loss: f32,
    /// The soft-target term before `α`: `T²·KL(softmax(v/T) ‖ softmax(z/T))`.
    pub soft: f32,
    /// The hard-label term before `1 − α`: `CE(y, softmax(z))`.
    pub hard: f32,
}

/// Knowledge distillation (Hinton, Vinyals & Dean 2015), per sample
///
/// `L = α·T²·KL(q ‖ p_T) + (1 − α)·CE(y, p)`,  `q = softmax(v/T)`, `p_T = softmax(z/T)`, `p = softmax(z)`,
///
/// with `z` the student's and `v` the teacher's logits, averaged over the batch. The teacher is
/// a constant; the gradient with respect to the student logits is
///
/// `dL/dz = [α·T·(p_T − q) + (1 − α)·(p − onehot(y))] / batch`.
///
/// The `T²` factor makes the soft term's gradient `T²·(1/T)(p_T − q) = T(p_T − q)`, which for
/// large `T` and zero-mean logits tends to `(z − v)/K` (`K = classes`): its size does not fade
/// as the temperature rises. All log-sum-exps subtract the row maximum, so finite logits of any
/// size give finite results. Labels are validated even when `α = 1`.
///
/// # Shapes
/// - `student`, `teacher`: `[batch, classes]`
/// - `labels`: `[batch]`, each in `0..classes`
/// - `grad_student`: `[batch, classes]`
///
/// # Errors
/// [`Error::Config`] unless `temperature` is finite and `> 0` and `0 ≤ alpha ≤ 1`;
/// [`ShapeError`](crate::ShapeError) for mismatched lengths (the teacher's is
/// `Buffer::Input2`), `classes == 0` or an empty batch; [`Error::Index`] for a label outside
/// `0..classes`. Nothing is written on error. NaN in a row gives NaN results for it.
pub fn distillation(
    classes: usize,
    student: &[f32],
    teacher: &[f32],
    labels: &[u32],
    temperature: f32,
    alpha: f32,
    grad_student: &mut [f32],
) -> Result<DistillationLoss, Error> {
    if !(temperature.is_finite() && temperature > 0.0 && (0.0..=1.0).contains(&alpha)) {
        return Err(Error::Config);
    }
    let batch = labels.len();
    let n = check_rows(classes, batch, student.len(), grad_student.len())?;
    check_len(Buffer::Input2, n, teacher.len())?;
    check_labels(classes, labels)?;
    let inv_batch = 1.0 / batch as f32;
    let inv_t = 1.0 / temperature;
    let soft_scale = alpha * temperature * inv_batch;
    let hard_scale = (1.0 - alpha) * inv_batch;
    let (mut soft, mut hard) = (0.0f32, 0.0f32);
    for (((z, v), g), &y) in student
        .chunks_exact(classes)
        .zip(teacher.chunks_exact(classes))
        .zip(grad_student.chunks_exact_mut(classes))
        .zip(labels)
    {
        let y = y as usize;
        let (z_max, z_sum) = row_max_sum(z, 1.0);
        let (_, z_sum_t) = row_max_sum(z, inv_t);
        let (v_max, v_sum_t) = row_max_sum(v, inv_t);
        let (ln_z_sum_t, ln_v_sum_t) = (math::ln(z_sum_t), math::ln(v_sum_t));
        let mut kl = 0.0f32;
        for (j, (g, (&z_j, &v_j))) in g.iter_mut().zip(z.iter().zip(v)).enumerate() {
            // ln p_T and ln q relative to each row's maximum: no overflow, no 0·(−∞).
            let ln_p_t = (z_j - z_max) * inv_t - ln_z_sum_t;
            let ln_q = (v_j - v_max) * inv_t - ln_v_sum_t;
            let q = math::exp(ln_q);
            let p_t = math::exp(ln_p_t);
            let p = math::exp(z_j - z_max) / z_sum;
            kl += q * (ln_q - ln_p_t);
            let onehot = if j == y { 1.0 } else { 0.0 };
            *g = soft_scale * (p_t - q) + hard_scale * (p - onehot);
        }
        soft += kl;
        if let Some(&z_y) = z.get(y) {
            hard += math::ln(z_sum) + z_max - z_y;
        }
    }
    let soft = soft * temperature * temperature * inv_batch;
    let hard = hard * inv_batch;
    Ok(DistillationLoss {
        loss: alpha * soft + (1.0 - alpha) * hard,
        soft,
        hard,
    })
}

/// Logit matching: squared distance between student and teacher logits, summed over classes
/// and averaged over the batch (the normalisation of Rocket Launching's hint term
/// `‖z_t − z_s‖² / batch`):
///
/// `L = (1/batch) Σ_b Σ_j (z_bj − t_bj)²`, gradient `2 (z_bj − t_bj) / batch`.
///
/// The teacher is a constant (stop-gradient): only the student's gradient is written. Scale the
/// result by the hint weight (γ) yourself.
///
/// # Shapes
/// `student`, `teacher`, `grad_student`: `[batch, classes]`, with `batch > 0` derived from the
/// length.
///
/// # Errors
/// [`ShapeError`](crate::ShapeError): `Dimension` for `classes == 0` or an empty student,
/// `Length { buffer: Input }` if the student's length is not a multiple of `classes`,
/// `Input2` for the teacher, `Output` for the gradient. Nothing is written on error.
pub fn logit_matching(
    classes: usize,
    student: &[f32],
    teacher: &[f32],
    grad_student: &mut [f32],
) -> Result<f32, Error> {
    // classes == 0 gives batch 0, which check_rows reports as a zero dimension.
    let batch = student.len().checked_div(classes).unwrap_or(0);
    let n = check_rows(classes, batch, student.len(), grad_student.len())?;
    check_len(Buffer::Input2, n, teacher.len())?;
    let inv_batch = 1.0 / batch as f32;
    let mut total = 0.0f32;
    for ((&z, &t), g) in student.iter().zip(teacher).zip(grad_student.iter_mut()) {
        let d = z - t;
        total += d * d;
        *g = 2.0 * d * inv_batch;
    }
    Ok(total * inv_batch)
}
