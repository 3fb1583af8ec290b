//! `tinytune distill`: the [`pipeline`](super::pipeline) on any labelled CSV file, a summary
//! table, `summary.json` in `--out`, and with `--json` the same object as the last stdout line.
//!
//! The table and the JSON object are shared with `demo` ([`report`]). With `--teacher`, the
//! classic two-stage distillation from a teacher trained elsewhere ([`super::two_stage`]);
//! with `--student transformer`, two-stage distillation into a transformer
//! ([`super::transformer::distill`]).

use std::path::Path;

use serde_json::json;
use tinytune::train::distill::KdConfig;

use super::args::{DistillArgs, DistillCommon, StudentKind};
use super::fit::EpochStats;
use super::joint::ArchKind;
use super::pipeline::{run_pipeline, save_student_ttm, PipelineConfig, PipelineResult, Stage};
use super::progress::EpochBar;
use super::report::{create_out_dir, fixed4, json_number, print_json, write_file, Table};
use super::AppError;
use crate::csv::load_labeled_csv;

/// Runs `tinytune distill`.
///
/// # Errors
/// Unreadable or unusable data, bad settings, an output directory that cannot be written.
pub fn run(args: &DistillArgs) -> Result<(), AppError> {
    if args.student == StudentKind::Transformer {
        return super::transformer::distill::run(args);
    }
    let flag = args
        .transformer
        .first_given()
        .or(args.dropout.map(|_| "--dropout"));
    if let Some(flag) = flag {
        return Err(AppError {
            message: format!("{flag} sets the transformer student: add --student transformer"),
            exit_code: 2,
        });
    }
    if let Some(teacher) = &args.teacher {
        return super::two_stage::run(args, teacher);
    }
    run_on("distill", &args.data, &args.out, &args.common, false)
}

/// The settings of the pipeline from the shared flags.
pub fn config(common: &DistillCommon) -> PipelineConfig {
    let d = PipelineConfig::default();
    PipelineConfig {
        epochs: common.epochs.unwrap_or(d.epochs),
        seed: common.seed,
        gamma: common.gamma.unwrap_or(d.gamma),
        kd: match (common.kd_temperature, common.kd_alpha) {
            (Some(temperature), Some(alpha)) => Some(KdConfig { temperature, alpha }),
            _ => None,
        },
        ..d
    }
}

/// Loads `data`, runs the pipeline with progress bars, writes `summary.json` into `out`, prints
/// the table (with an arena column if `arena`) and, with `--json`, the JSON line. `command`
/// names the command in the JSON object.
///
/// # Errors
/// As [`run`].
pub fn run_on(
    command: &str,
    data: &Path,
    out: &Path,
    common: &DistillCommon,
    arena: bool,
) -> Result<(), AppError> {
    let config = config(common);
    create_out_dir(out)?;
    let file = data.display().to_string();
    let dataset = load_labeled_csv(data)?;
    let started = std::time::Instant::now();
    let result = with_bars(config.epochs, |on_epoch| {
        run_pipeline(&file, &dataset, &config, on_epoch)
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let (text, summary) = report(command, &result, &config, arena, seconds)?;
    write_file(
        &out.join("summary.json"),
        format!("{summary:#}\n").as_bytes(),
    )?;
    // The deployable int8 student, and the f32 student's weights for other tools.
    save_student_ttm(&result, out)?;
    let weights =
        crate::safetensors::export(&result.student_f32, crate::safetensors::Layout::Tinytune)
            .map_err(|e| AppError::new(e.to_string()))?;
    write_file(&out.join("student.safetensors"), &weights)?;
    print!("{text}");
    println!(
        "wrote summary.json, student.ttm (int8) and student.safetensors (f32) to {}",
        out.display()
    );
    if common.json {
        print_json(&summary);
    }
    Ok(())
}

/// Runs `f` with an epoch callback that drives one progress bar per training stage.
fn with_bars<T>(epochs: usize, f: impl FnOnce(&mut dyn FnMut(Stage, &EpochStats)) -> T) -> T {
    let mut current: Option<(Stage, EpochBar)> = None;
    let result = f(&mut |stage, s| {
        if current.as_ref().map(|(st, _)| *st) != Some(stage) {
            if let Some((_, bar)) = current.take() {
                bar.finish();
            }
            eprintln!(
                "{}",
                match stage {
                    Stage::Joint => "training teacher and student jointly",
                    Stage::Alone => "training the student alone (baseline)",
                }
            );
            current = Some((stage, EpochBar::new(epochs)));
        }
        if let Some((_, bar)) = &current {
            bar.epoch(s);
        }
    });
    if let Some((_, bar)) = current {
        bar.finish();
    }
    result
}

/// The summary table (as text, with the architecture and run figures above it) and the JSON
/// object of a pipeline result. Accuracies are fractions. The students' flash and arena bytes
/// are those of their `.ttm` files ([`deployed_size`](super::pipeline::deployed_size)); the
/// teacher is not deployed, its flash column is its f32 weights, `4 · params`.
///
/// # Errors
/// A student the model format rejects (see [`super::pipeline::deployed_size`]).
pub fn report(
    command: &str,
    r: &PipelineResult,
    config: &PipelineConfig,
    arena: bool,
    seconds: f64,
) -> Result<(String, serde_json::Value), AppError> {
    let (int8_flash, arena_bytes) = r.int8_size()?;
    let (f32_flash, f32_arena) = r.f32_size()?;
    let mut header = vec!["model", "test accuracy", "params", "flash bytes"];
    if arena {
        header.push("arena bytes");
    }
    let mut table = Table::new(header);
    let rows = [
        (
            "teacher (f32)",
            r.teacher_acc,
            r.teacher_params,
            4 * r.teacher_params,
            None,
        ),
        (
            "student alone (f32)",
            r.student_alone_acc,
            r.student_params,
            f32_flash,
            Some(f32_arena),
        ),
        (
            "distilled student (f32)",
            r.student_distilled_acc,
            r.student_params,
            f32_flash,
            Some(f32_arena),
        ),
        (
            "distilled student (int8)",
            r.student_int8_acc,
            r.student_params,
            int8_flash,
            Some(arena_bytes),
        ),
    ];
    for (name, acc, params, flash, arena_cell) in rows {
        let mut cells = vec![
            name.to_string(),
            fixed4(acc),
            params.to_string(),
            flash.to_string(),
        ];
        if arena {
            cells.push(arena_cell.map_or("-".into(), |a| a.to_string()));
        }
        table.row(cells);
    }
    let a = &r.arch;
    let kd = config.kd.map_or("off".to_string(), |k| {
        format!("T {} alpha {}", k.temperature, k.alpha)
    });
    let best = |b: Option<usize>| b.map_or("none".into(), |e: usize| e.to_string());
    let text = format!(
        "{arch}\n\
         joint training: γ {g}, KD {kd}, Adam lr {lr}, L2 {l2}, batch {b}, seed {seed}; \
         epochs run {je} (best {jb}); student alone: epochs run {ae} (best {ab}); {seconds:.1} s\n\
         samples: {tr} train, {va} validation, {te} test\n\n{table}",
        arch = a.describe(),
        g = config.gamma,
        lr = config.lr,
        l2 = config.l2,
        b = config.batch,
        seed = config.seed,
        je = r.joint_epochs.0,
        jb = best(r.joint_epochs.1),
        ae = r.alone_epochs.0,
        ab = best(r.alone_epochs.1),
        tr = r.samples[0],
        va = r.samples[1],
        te = r.samples[2],
        table = table.render(),
    );
    let summary = json!({
        "command": command,
        "teacher_acc": json_number(r.teacher_acc),
        "student_alone_acc": json_number(r.student_alone_acc),
        "student_distilled_acc": json_number(r.student_distilled_acc),
        "student_int8_acc": json_number(r.student_int8_acc),
        "params": r.student_params,
        "teacher_params": r.teacher_params,
        "flash_bytes": int8_flash,
        "arena_bytes": arena_bytes,
        "features": a.inputs,
        "classes": a.classes,
        "architecture": match a.kind {
            ArchKind::Mlp { .. } => "mlp",
            ArchKind::Conv { .. } => "conv",
        },
        "architecture_text": a.describe(),
        "gamma": json_number(config.gamma),
        "l2": json_number(config.l2),
        "kd_temperature": config.kd.map(|k| json_number(k.temperature)),
        "kd_alpha": config.kd.map(|k| json_number(k.alpha)),
        "epochs": config.epochs,
        "joint_epochs": r.joint_epochs.0,
        "alone_epochs": r.alone_epochs.0,
        "seed": config.seed,
        "samples": { "train": r.samples[0], "val": r.samples[1], "test": r.samples[2] },
        "seconds": (seconds * 100.0).round() / 100.0,
    });
    Ok((text, summary))
}
