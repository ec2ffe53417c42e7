//! `perfwatch load calibrate SCENARIO.toml --slo "p99<250ms,errors<1%"`: steps the rate
//! up until the SLO breaks, prints the knee and a fair rate, and with `--submit` stores
//! the knee as the series `capacity_at_slo` (optionally marking a release).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use perfwatch_core::model::ResultInput;
use perfwatch_core::units::Direction;
use perfwatch_loadgen::calibrate::{calibrate, parse_slo, Calibration, Search};
use perfwatch_loadgen::scenario::Scenario;
use perfwatch_loadgen::units::parse_duration;
use perfwatch_parsers::Parsed;
use serde_json::json;

use super::git::discover;
use super::ingest::{build_run, submit_and_check, Merged, RunFields, ServerArgs};
use super::load::{read_scenario, scenario_dir};

#[derive(Args, Clone)]
pub struct CalibrateArgs {
    pub scenario: PathBuf,
    /// The service level to hold, e.g. "p99<250ms,errors<1%".
    #[arg(long)]
    pub slo: String,
    /// First rate tried (per second).
    #[arg(long, default_value_t = 10.0)]
    pub start: f64,
    /// Highest rate tried (per second).
    #[arg(long, default_value_t = 100_000.0)]
    pub max_rate: f64,
    /// Length of each step.
    #[arg(long, default_value = "5s")]
    pub step: String,
    /// Unmeasured lead-in of each step.
    #[arg(long, default_value = "1s")]
    pub step_warmup: String,
    /// Stop bisecting when the bracket is this narrow (relative).
    #[arg(long, default_value_t = 0.05)]
    pub precision: f64,
    /// Submit the knee as `capacity_at_slo`.
    #[arg(long)]
    pub submit: bool,
    #[arg(long, env = "PERFWATCH_URL", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    #[arg(long, env = "PERFWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(flatten)]
    pub fields: RunFields,
}

// By hand: token must never reach a log line.
impl std::fmt::Debug for CalibrateArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CalibrateArgs")
            .field("scenario", &self.scenario)
            .field("slo", &self.slo)
            .field("start", &self.start)
            .field("max_rate", &self.max_rate)
            .field("step", &self.step)
            .field("step_warmup", &self.step_warmup)
            .field("precision", &self.precision)
            .field("submit", &self.submit)
            .field("server", &self.server)
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .field("fields", &self.fields)
            .finish()
    }
}

pub async fn run(a: CalibrateArgs) -> anyhow::Result<i32> {
    let scenario = read_scenario(&a.scenario)?;
    let slo = parse_slo(&a.slo).map_err(|e| anyhow::anyhow!("--slo: {e}"))?;
    let step = parse_duration(&a.step).map_err(|e| anyhow::anyhow!("--step: {e}"))?;
    let warmup =
        parse_duration(&a.step_warmup).map_err(|e| anyhow::anyhow!("--step-warmup: {e}"))?;
    if !(a.start > 0.0 && a.max_rate >= a.start && a.precision > 0.0) {
        bail!("--start must be > 0, --max-rate ≥ --start, --precision > 0");
    }
    if a.submit && a.token.is_none() {
        bail!("--submit needs --token or PERFWATCH_TOKEN");
    }
    let search = Search::new(a.start, a.max_rate, a.precision);
    let cal = calibrate(
        &scenario,
        &scenario_dir(&a.scenario),
        &slo,
        search,
        step,
        warmup,
        |s| match &s.met {
            Ok(()) => println!(
                "{:>10.1}/s  met the SLO (achieved {:.1}/s)",
                s.rate, s.achieved
            ),
            Err(why) => println!("{:>10.1}/s  broke it: {why}", s.rate),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}: {e}", a.scenario.display()))?;
    let Some(knee) = cal.knee else {
        println!("even {:.1}/s broke the SLO; no knee", a.start);
        return Ok(1);
    };
    println!(
        "knee: {knee:.1}/s meets {}; suggested rate for regular runs: {:.1}/s",
        a.slo,
        cal.fair_rate.unwrap_or(0.0)
    );
    if !a.submit {
        return Ok(0);
    }
    submit_knee(&a, &scenario, &cal, knee).await
}

/// Stores the knee as a run of the scenario's project (series `capacity_at_slo`), with
/// the searched steps in its metadata, and answers like `perfwatch submit`.
async fn submit_knee(
    a: &CalibrateArgs,
    scenario: &Scenario,
    cal: &Calibration,
    knee: f64,
) -> anyhow::Result<i32> {
    let result = ResultInput {
        benchmark: scenario.name.clone(),
        measure: "capacity_at_slo".into(),
        unit: "ops/s".into(),
        direction: Some(Direction::Higher),
        params: BTreeMap::from([("slo".to_string(), a.slo.replace(' ', ""))]),
        samples: vec![knee],
        ..ResultInput::default()
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("harness".into(), json!("perfwatch-loadgen calibrate"));
    metadata.insert("scenario_hash".into(), json!(scenario.hash));
    metadata.insert("fair_rate".into(), json!(cal.fair_rate));
    let steps: Vec<_> = cal
        .steps
        .iter()
        .map(|s| json!({"rate": s.rate, "met": s.met.is_ok()}))
        .collect();
    metadata.insert("steps".into(), json!(steps));
    let merged = Merged {
        parsed: Parsed {
            results: vec![result],
            metadata,
            testbed_hint: Some(perfwatch_loadgen::engine::host_fingerprint()),
        },
        header: None,
        formats: Vec::new(),
    };
    let mut fields = a.fields.clone();
    fields.project.get_or_insert_with(|| scenario.name.clone());
    let env = |k: &str| std::env::var(k).ok();
    let git = discover(&fields.repo, &env);
    let run = build_run(merged, &fields, &git, &env)?;
    let server = ServerArgs {
        server: a.server.clone(),
        token: a.token.clone().unwrap_or_default(),
    };
    submit_and_check(&server, &run, None).await
}
