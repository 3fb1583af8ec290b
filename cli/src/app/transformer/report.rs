//! The table and the JSON object of `distill --student transformer`.

use serde_json::json;
use tinytune::train::distill::KdConfig;

use super::arch as tarch;
use super::distill::TransformerDistilled;
use crate::app::pipeline::{deployed_size, PipelineConfig};
use crate::app::report::{fixed4, json_number, Table};
use crate::app::AppError;

/// The verdict line: whether the distilled student (f32) beat the one trained alone.
pub fn verdict(alone: f32, distilled: f32) -> String {
    let diff = 100.0 * (distilled - alone);
    if diff > 0.0 {
        format!("distillation beat the student trained alone by {diff:.2} points of test accuracy")
    } else if diff == 0.0 {
        "distillation did not beat the student trained alone: the same test accuracy".into()
    } else {
        format!(
            "distillation did not beat the student trained alone: {:.2} points lower test \
             accuracy",
            -diff
        )
    }
}

/// The table (with the run figures above it) and the JSON object; the same accuracy and size
/// keys as the other `distill` modes, plus `"student": "transformer"`.
///
/// # Errors
/// A student the model format rejects (see [`deployed_size`]).
pub fn distill_report(
    r: &TransformerDistilled,
    config: &PipelineConfig,
    kd: KdConfig,
    seconds: f64,
) -> Result<(String, serde_json::Value), AppError> {
    let [f32_model, int8_model] = &r.student;
    let (int8_flash, arena) = deployed_size(int8_model, &r.scaler, &r.class_names)?;
    let (f32_flash, f32_arena) = deployed_size(f32_model, &r.scaler, &r.class_names)?;
    let [teacher_params, student_params] = r.params;
    let mut table = Table::new(["model", "test accuracy", "params", "flash bytes"]);
    let rows = [
        (
            "teacher (f32)",
            r.acc[0],
            teacher_params,
            4 * teacher_params,
        ),
        ("student alone (f32)", r.acc[1], student_params, f32_flash),
        (
            "distilled student (f32)",
            r.acc[2],
            student_params,
            f32_flash,
        ),
        (
            "distilled student (int8)",
            r.acc[3],
            student_params,
            int8_flash,
        ),
    ];
    for (name, acc, params, flash) in rows {
        table.row(vec![
            name.to_string(),
            fixed4(acc),
            params.to_string(),
            flash.to_string(),
        ]);
    }
    let verdict = verdict(r.acc[1], r.acc[2]);
    let text = format!(
        "teacher: {teacher}\nstudent: {arch}\n\
         two-stage distillation: KD T {t} alpha {a}; students: Adam lr {lr}, batch {b}, \
         patience {p}, seed {seed}; epochs run: teacher {et}, alone {ea}, distilled {ed}; \
         {seconds:.1} s\n\
         samples: {tr} train, {va} validation, {te} test\n\n{table}{verdict}\n",
        teacher = r.teacher_text,
        arch = r.spec.describe(),
        t = kd.temperature,
        a = kd.alpha,
        lr = tarch::DEFAULT_LR,
        b = config.batch,
        p = config.patience,
        seed = config.seed,
        et = r.epochs_run[0],
        ea = r.epochs_run[1],
        ed = r.epochs_run[2],
        tr = r.samples[0],
        va = r.samples[1],
        te = r.samples[2],
        table = table.render(),
    );
    let s = &r.spec;
    let summary = json!({
        "command": "distill",
        "mode": "two-stage",
        "student": "transformer",
        "teacher_acc": json_number(r.acc[0]),
        "student_alone_acc": json_number(r.acc[1]),
        "student_distilled_acc": json_number(r.acc[2]),
        "student_int8_acc": json_number(r.acc[3]),
        "kd_beats_alone": r.acc[2] > r.acc[1],
        "verdict": verdict,
        "params": student_params,
        "teacher_params": teacher_params,
        "flash_bytes": int8_flash,
        "arena_bytes": arena,
        "f32_flash_bytes": f32_flash,
        "f32_arena_bytes": f32_arena,
        "features": s.seq * s.features,
        "classes": s.classes,
        "architecture": "transformer",
        "architecture_text": s.describe(),
        "teacher": r.teacher_text,
        "arch": {
            "kind": "transformer",
            "seq": s.seq,
            "features_per_position": s.features,
            "width": s.width,
            "heads": s.heads,
            "ff": s.ff,
            "blocks": s.blocks,
            "dropout": json_number(s.dropout),
        },
        "kd_temperature": json_number(kd.temperature),
        "kd_alpha": json_number(kd.alpha),
        "lr": json_number(tarch::DEFAULT_LR),
        "epochs": config.epochs,
        "teacher_epochs": r.epochs_run[0],
        "alone_epochs": r.epochs_run[1],
        "distill_epochs": r.epochs_run[2],
        "seed": config.seed,
        "samples": { "train": r.samples[0], "val": r.samples[1], "test": r.samples[2] },
        "seconds": (seconds * 100.0).round() / 100.0,
    });
    Ok((text, summary))
}
