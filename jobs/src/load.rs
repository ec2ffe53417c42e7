//! The load step of one side run: a perfwatch-loadgen scenario or a bench command whose
//! output a perfwatch-parsers format reads. Returns the results, the exact window the
//! load ran in (what metrics are queried over) and the reasons the run is invalid.
//!
//! A load that ran but produced nothing usable makes the run *invalid* (never "no
//! change"); a load that could not run at all (a bench command failing, a scenario file
//! that is missing or wrong) is a job error.

use std::io::Read as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use perfwatch_core::model::ResultInput;
use perfwatch_loadgen::engine::{self, Options};
use perfwatch_loadgen::{results, scenario};
use perfwatch_parsers::Format;
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::definition::{DefinitionError, LoadStep, Step};
use crate::process::{run_step, LogSink, StepError, Stream};
use crate::runner::JobError;
use crate::service::expand;

/// Bench output files larger than this are refused (the parsers hold them in memory).
const MAX_OUTPUT_FILE: u64 = 64 * 1024 * 1024;

/// What one load step produced.
pub(crate) struct LoadOutcome {
    pub results: Vec<ResultInput>,
    pub metadata: Map<String, Value>,
    pub invalid: Vec<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl LoadOutcome {
    fn empty(start: DateTime<Utc>, end: DateTime<Utc>, why: String) -> LoadOutcome {
        LoadOutcome {
            results: Vec::new(),
            metadata: Map::new(),
            invalid: vec![why],
            start,
            end,
        }
    }
}

/// Runs the load step in the checkout `dir` with the runner's variables `env`.
pub(crate) async fn run_load(
    load: &LoadStep,
    name: &str,
    dir: &Path,
    env: &[(String, String)],
    sink: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<LoadOutcome, JobError> {
    match load {
        LoadStep::Bench {
            command,
            format,
            output,
            timeout,
            env: step_env,
        } => {
            let step = Step {
                command: command.clone(),
                timeout: *timeout,
                env: step_env.clone(),
                workdir: None,
            };
            bench(
                &step,
                format.as_deref(),
                output.as_deref(),
                name,
                dir,
                env,
                sink,
                cancel,
            )
            .await
        }
        LoadStep::Scenario { path, timeout } => {
            let run = scenario_run(path, name, dir, env, sink);
            tokio::select! {
                r = run => r,
                _ = tokio::time::sleep(*timeout) => Err(JobError::Step(StepError::TimedOut {
                    step: name.to_string(),
                    after: *timeout,
                })),
                _ = cancel.cancelled() => Err(JobError::Canceled),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn bench(
    step: &Step,
    format: Option<&str>,
    output: Option<&str>,
    name: &str,
    dir: &Path,
    env: &[(String, String)],
    sink: &dyn LogSink,
    cancel: &CancellationToken,
) -> Result<LoadOutcome, JobError> {
    if let Some(o) = output {
        // A file left by an earlier repeat must never pass for this run's output.
        let _ = std::fs::remove_file(dir.join(o));
    }
    let start = Utc::now();
    let run = run_step(name, step, dir, env, sink, cancel)
        .await
        .map_err(JobError::from_step)?;
    let end = Utc::now();
    let mut invalid = Vec::new();
    let text = match output {
        None => {
            if run.stdout_truncated {
                invalid.push("the bench output exceeded 8 MB and was cut".to_string());
            }
            run.stdout
        }
        Some(o) => match read_capped(&dir.join(o)) {
            Ok(t) => t,
            Err(e) => {
                return Ok(LoadOutcome::empty(
                    start,
                    end,
                    format!("load produced no data: output file {o}: {e}"),
                ))
            }
        },
    };
    let format = match format {
        Some(n) => n.parse::<Format>().map_err(|e| {
            JobError::Definition(DefinitionError::general("load.format", e.to_string()))
        })?,
        None => match perfwatch_parsers::detect_format_with_hint(&text, output) {
            Some(f) => f,
            None => {
                return Ok(LoadOutcome::empty(
                    start,
                    end,
                    "load produced no data: no known format recognised in the bench output".into(),
                ))
            }
        },
    };
    let parsed = match perfwatch_parsers::parse(format, &text) {
        Ok(p) => p,
        Err(e) => {
            return Ok(LoadOutcome::empty(
                start,
                end,
                format!("load produced no data: the output is not valid {format}: {e}"),
            ))
        }
    };
    if parsed.results.is_empty() {
        invalid.push(format!(
            "load produced no data: no {format} results in the output"
        ));
    }
    let mut metadata = parsed.metadata;
    metadata.insert("load_format".into(), Value::String(format.name().into()));
    sink.line(
        name,
        Stream::System,
        &format!("{} series read as {format}", parsed.results.len()),
    );
    Ok(LoadOutcome {
        results: parsed.results,
        metadata,
        invalid,
        start,
        end,
    })
}

fn read_capped(p: &Path) -> Result<String, String> {
    let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    f.take(MAX_OUTPUT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_OUTPUT_FILE {
        return Err("larger than 64 MB".into());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Variables in a scenario are filled in before it is parsed, so `base_url =
/// "http://127.0.0.1:${PORT}"` and `[sut] pid = ${PERFWATCH_SERVICE_PID}` work. The
/// scenario's hash is taken with fixed placeholder values instead, so it does not
/// change with the port picked for each run.
async fn scenario_run(
    path: &str,
    name: &str,
    dir: &Path,
    env: &[(String, String)],
    sink: &dyn LogSink,
) -> Result<LoadOutcome, JobError> {
    let file = dir.join(path);
    let bad = |m: String| JobError::Definition(DefinitionError::general("load.scenario", m));
    let raw = std::fs::read_to_string(&file).map_err(|e| {
        bad(format!(
            "scenario {path} cannot be read at this commit: {e}"
        ))
    })?;
    let mut sc = scenario::parse(&expand(&raw, env)).map_err(|e| bad(format!("{path}: {e}")))?;
    let placeholders: Vec<(String, String)> = env
        .iter()
        .map(|(k, _)| {
            (
                k.clone(),
                if k == "PERFWATCH_SIDE" {
                    "head".into()
                } else {
                    "1".into()
                },
            )
        })
        .collect();
    if let Ok(stable) = scenario::parse(&expand(&raw, &placeholders)) {
        sc.hash = stable.hash;
    }
    let sdir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.to_path_buf());
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    sink.line(
        name,
        Stream::System,
        &format!("scenario {} against {}", sc.name, sc.base_url),
    );
    let before = Utc::now();
    let finished = match engine::run(&sc, &sdir, &opts).await {
        Ok(f) => f,
        Err(e) => {
            sink.line(name, Stream::System, &format!("load failed: {e}"));
            return Ok(LoadOutcome::empty(
                before,
                Utc::now(),
                format!("load failed: {e}"),
            ));
        }
    };
    let native = results::to_run(&finished.report, &finished.meta);
    let mut invalid = finished.meta.invalid_reasons.clone();
    if let Some(why) = &finished.report.aborted {
        invalid.push(format!("the load ended early: {why}"));
    }
    if native.results.is_empty() {
        invalid.push("load produced no data".into());
    }
    for r in &invalid {
        sink.line(name, Stream::System, &format!("invalid: {r}"));
    }
    Ok(LoadOutcome {
        results: native.results,
        metadata: native.metadata,
        invalid,
        start: finished.report.started_at,
        end: finished.report.finished_at,
    })
}
