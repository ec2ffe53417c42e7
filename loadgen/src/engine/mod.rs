//! The run loop: starts flow iterations on the open model's schedule or as closed-model
//! virtual users, records every attempt, samples the service and the generator every
//! second, and returns the [`Report`] with its validity and threshold outcomes.

mod closed;
mod flow;
mod open;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::driver::Driver;
use crate::http::HttpClient;
use crate::probe::{Probe, Source};
use crate::progress::Progress;
use crate::recorder::Recorder;
use crate::report::{Report, ResourceSamples};
use crate::results::RunMeta;
use crate::scenario::{Load, Scenario};
use crate::threshold::{self, Outcome as ThresholdOutcome};
use crate::validity;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// No progress line.
    pub quiet: bool,
    /// Replaces the scenario's `[validity]` limits (e.g. for calibration steps).
    pub gate: Option<validity::Gate>,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Finished {
    pub report: Report,
    pub meta: RunMeta,
}

impl Finished {
    pub fn valid(&self) -> bool {
        self.meta.invalid_reasons.is_empty()
    }
    pub fn breached(&self) -> Vec<&ThresholdOutcome> {
        self.meta.thresholds.iter().filter(|t| !t.passed).collect()
    }
}

/// What every flow iteration shares.
pub(crate) struct Shared {
    pub http: HttpClient,
    pub driver: Option<Arc<Driver>>,
    pub scenario: Scenario,
    /// Per flow, per step: its operation's index and its pre-built request.
    pub plans: Vec<Vec<flow::Plan>>,
    pub feeder: Vec<HashMap<String, String>>,
    pub rec: Mutex<Recorder>,
    pub t0: Instant,
    pub seq: AtomicU64,
    pub in_flight: AtomicU64,
    pub stop: AtomicBool,
}

impl Shared {
    pub fn offset(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.t0)
    }
    pub fn rec(&self) -> std::sync::MutexGuard<'_, Recorder> {
        self.rec.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

fn read_feeder(path: &std::path::Path) -> Result<Vec<HashMap<String, String>>, String> {
    let mut r =
        csv::Reader::from_path(path).map_err(|e| format!("feeder {}: {e}", path.display()))?;
    let headers = r
        .headers()
        .map_err(|e| format!("feeder {}: {e}", path.display()))?
        .clone();
    let mut rows = Vec::new();
    for (i, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| format!("feeder {}: row {}: {e}", path.display(), i + 2))?;
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    if rows.is_empty() {
        return Err(format!(
            "feeder {}: no rows under the header",
            path.display()
        ));
    }
    Ok(rows)
}

/// OS, architecture, CPU model and core count: where the generator ran.
pub fn host_fingerprint() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown cpu".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{}-{} {cpu} x{cores}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

fn describe_load(s: &Scenario) -> (String, Option<f64>) {
    match &s.load {
        Load::Open {
            profile,
            arrival,
            rate_text,
            max_in_flight,
            ..
        } => {
            let target = profile.mean_rate(s.warmup.as_secs_f64(), profile.total());
            (
                format!("open {rate_text} {arrival:?} max_in_flight={max_in_flight}")
                    .to_lowercase(),
                Some(target),
            )
        }
        Load::Closed { vus, think, pacing } => {
            let mut t = format!("closed {vus} VUs");
            if !think.is_zero() {
                t.push_str(&format!(" think {think:?}"));
            }
            if let Some(p) = pacing {
                t.push_str(&format!(" pacing {p:?}"));
            }
            (t, None)
        }
    }
}

/// Runs the scenario. `dir` is where relative feeder paths start.
pub async fn run(
    scenario: &Scenario,
    dir: &std::path::Path,
    opts: &Options,
) -> Result<Finished, String> {
    let http = HttpClient::new(&scenario.base_url, scenario.timeout)?;
    let service_version = match &scenario.version_url {
        Some(p) => Some(
            http.get_text(p)
                .await
                .map_err(|e| format!("version_url: {e}"))?,
        ),
        None => None,
    };
    let feeder = match &scenario.feeder {
        Some(p) => read_feeder(&dir.join(p))?,
        None => Vec::new(),
    };
    let driver = scenario.driver.as_deref().map(Driver::start).transpose()?;
    let mut samplers = Samplers::new(scenario)?;
    let ops = scenario.op_names();
    let plans = plans(scenario, &ops, &http);
    let started_at = Utc::now();
    let sh = Arc::new(Shared {
        http,
        driver: driver.clone(),
        scenario: scenario.clone(),
        plans,
        feeder,
        rec: Mutex::new(Recorder::new(&ops, scenario.warmup, scenario.duration)),
        // A short head start so the first arrivals are not late by set-up work.
        t0: Instant::now() + Duration::from_millis(20),
        seq: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    watch(&sh, spawn_load(sh.clone()), &mut samplers, opts).await?;
    let aborted = sh
        .driver
        .as_ref()
        .and_then(|d| d.dead())
        .map(|w| format!("the external driver stopped: {w}"));
    if let Some(d) = &driver {
        d.stop().await;
    }
    let ended = Ended {
        started_at,
        measured_seconds: measured_seconds(&sh, aborted.is_some()),
        aborted,
        service_version,
    };
    let report = build_report(&sh, ended, samplers);
    Ok(finish(report, scenario, opts))
}

/// Per flow, per step: its operation's index and its request built once.
fn plans(scenario: &Scenario, ops: &[String], http: &HttpClient) -> Vec<Vec<flow::Plan>> {
    let op_index: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    scenario
        .flows
        .iter()
        .map(|f| {
            f.steps
                .iter()
                .map(|step| flow::Plan {
                    op: op_index[step.op.as_str()],
                    prepared: http.prepare(step),
                })
                .collect()
        })
        .collect()
}

/// Starts the virtual users or the arrival schedule.
fn spawn_load(sh: Arc<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match sh.scenario.load.clone() {
            Load::Open {
                profile,
                arrival,
                max_in_flight,
                when_full,
                ..
            } => open::run(sh, profile, arrival, max_in_flight, when_full).await,
            Load::Closed { vus, think, pacing } => closed::run(sh, vus, think, pacing).await,
        }
    })
}

/// The service's and the generator's CPU and memory, sampled every second of the
/// measured time.
struct Samplers {
    service_probe: Option<Probe>,
    probe_error: Option<String>,
    own: Probe,
    service: ResourceSamples,
    generator: ResourceSamples,
}

impl Samplers {
    /// Takes a first sample of each (CPU is a difference between samples); a service
    /// that cannot be sampled at the start is an error.
    fn new(scenario: &Scenario) -> Result<Self, String> {
        let mut service_probe = scenario
            .sut
            .as_ref()
            .map(|t| Probe::new(Source::from_target(t)));
        if let Some(p) = service_probe.as_mut() {
            p.sample().map_err(|e| format!("[sut]: {e}"))?;
        }
        let mut own = Probe::new(Source::myself());
        let _ = own.sample();
        Ok(Self {
            service_probe,
            probe_error: None,
            own,
            service: ResourceSamples::default(),
            generator: ResourceSamples::default(),
        })
    }

    /// One sample of each; kept when `measured`. A service probe that fails stops.
    fn sample(&mut self, measured: bool) {
        if let Some(p) = self
            .service_probe
            .as_mut()
            .filter(|_| self.probe_error.is_none())
        {
            match p.sample() {
                Ok(Some(s)) if measured => {
                    self.service.cpu_percent.push(s.cpu_percent);
                    self.service.rss_bytes.push(s.rss_bytes);
                }
                Ok(_) => {}
                Err(e) => self.probe_error = Some(e),
            }
        }
        if let Ok(Some(s)) = self.own.sample() {
            if measured {
                self.generator.cpu_percent.push(s.cpu_percent);
                self.generator.rss_bytes.push(s.rss_bytes);
            }
        }
    }
}

/// Waits for the load to finish, sampling, watching the driver and updating the
/// progress line every second.
async fn watch(
    sh: &Shared,
    load: tokio::task::JoinHandle<()>,
    samplers: &mut Samplers,
    opts: &Options,
) -> Result<(), String> {
    let scenario = &sh.scenario;
    let total = scenario.total();
    let progress = Progress::new(total, opts.quiet);
    let mut tick = tokio::time::interval_at(
        (sh.t0 + Duration::from_secs(1)).into(),
        Duration::from_secs(1),
    );
    let mut last_started = 0u64;
    tokio::pin!(load);
    loop {
        tokio::select! {
            r = &mut load => { r.map_err(|e| format!("load task: {e}"))?; break; }
            _ = tick.tick() => {
                let elapsed = sh.offset(Instant::now());
                let measured = elapsed > scenario.warmup && elapsed <= total + Duration::from_millis(500);
                samplers.sample(measured);
                if sh.driver.as_ref().is_some_and(|d| d.dead().is_some()) {
                    sh.stop.store(true, Ordering::Relaxed);
                }
                let started = sh.seq.load(Ordering::Relaxed);
                let live = sh.rec().live();
                progress.update(elapsed, started - last_started, sh.in_flight.load(Ordering::Relaxed), &live);
                last_started = started;
            }
        }
    }
    progress.finish();
    Ok(())
}

/// The measured seconds: the scenario's duration, or what ran of it before an abort.
fn measured_seconds(sh: &Shared, aborted: bool) -> f64 {
    let scenario = &sh.scenario;
    if aborted {
        sh.offset(Instant::now())
            .saturating_sub(scenario.warmup)
            .as_secs_f64()
            .min(scenario.duration.as_secs_f64())
    } else {
        scenario.duration.as_secs_f64()
    }
}

/// How the run went, apart from its recordings.
struct Ended {
    started_at: chrono::DateTime<Utc>,
    measured_seconds: f64,
    aborted: Option<String>,
    service_version: Option<String>,
}

fn build_report(sh: &Shared, ended: Ended, samplers: Samplers) -> Report {
    let scenario = &sh.scenario;
    let rec = std::mem::replace(
        &mut *sh.rec(),
        Recorder::new(&[], Duration::ZERO, Duration::ZERO),
    );
    let f = rec.finish();
    Report {
        scenario: scenario.name.clone(),
        model: match scenario.load {
            Load::Open { .. } => "open",
            Load::Closed { .. } => "closed",
        }
        .into(),
        target_rate: describe_load(scenario).1,
        started_at: ended.started_at,
        finished_at: Utc::now(),
        measured_seconds: ended.measured_seconds,
        started: f.started,
        dropped: f.dropped,
        lag: f.lag,
        ops: f.ops,
        seconds: f.seconds,
        service: scenario.sut.as_ref().map(|_| samplers.service),
        generator: samplers.generator,
        probe_error: samplers.probe_error,
        aborted: ended.aborted,
        service_version: ended.service_version,
    }
}

/// The report with its validity and threshold outcomes.
fn finish(report: Report, scenario: &Scenario, opts: &Options) -> Finished {
    let (load_model, _) = describe_load(scenario);
    let cores = tokio::runtime::Handle::current().metrics().num_workers();
    let invalid_reasons =
        validity::reasons(&report, &opts.gate.unwrap_or(scenario.validity), cores);
    let thresholds = threshold::evaluate(&scenario.thresholds, &report);
    let meta = RunMeta {
        scenario_hash: scenario.hash.clone(),
        load_model,
        host: host_fingerprint(),
        invalid_reasons,
        thresholds,
    };
    Finished { report, meta }
}
