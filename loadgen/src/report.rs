//! What a finished run measured: the pure summary that thresholds, the validity gate,
//! the terminal table and the native run are all built from. Times are in ms.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Percentiles of one HDR histogram, in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Percentiles {
    /// The `q`-th percentile by name (50, 90, 99, 99.9), or max for 100.
    pub fn at(&self, q: f64) -> Option<f64> {
        let eq = |a: f64| (q - a).abs() < 1e-9;
        Some(if eq(50.0) {
            self.p50
        } else if eq(90.0) {
            self.p90
        } else if eq(99.0) {
            self.p99
        } else if eq(99.9) {
            self.p999
        } else if eq(100.0) {
            self.max
        } else {
            return None;
        })
    }
}

/// One second of one operation (by completion time).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpSecond {
    pub attempts: u64,
    pub errors: u64,
    pub response_p50: f64,
    pub response_p99: f64,
    pub service_p50: f64,
    pub service_p99: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OpReport {
    pub name: String,
    pub attempts: u64,
    pub ok: u64,
    /// Failed attempts per class.
    pub errors: BTreeMap<String, u64>,
    /// The first few messages per class.
    pub examples: BTreeMap<String, Vec<String>>,
    /// From the intended start (open model; closed model with pacing: pacing-corrected).
    pub response: Percentiles,
    /// From the actual start (closed model: the raw latency).
    pub service: Percentiles,
    pub seconds: Vec<OpSecond>,
}

impl OpReport {
    pub fn error_count(&self, class: Option<&str>) -> u64 {
        match class {
            Some(c) => self.errors.get(c).copied().unwrap_or(0),
            None => self.errors.values().sum(),
        }
    }
    /// Failed attempts in % of all attempts (0 when none ran).
    pub fn error_rate(&self, class: Option<&str>) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.error_count(class) as f64 * 100.0 / self.attempts as f64
        }
    }
    pub fn throughput(&self, seconds: f64) -> f64 {
        if seconds > 0.0 {
            self.attempts as f64 / seconds
        } else {
            0.0
        }
    }
}

/// One second of the run as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunSecond {
    /// Flow iterations started (open model: arrivals) in this second.
    pub started: u64,
    pub dropped: u64,
    pub lag_p99: f64,
}

/// CPU and memory samples, one per second.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceSamples {
    pub cpu_percent: Vec<f64>,
    pub rss_bytes: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    /// `open` or `closed`.
    pub model: String,
    /// Open model: the mean target rate over the measured window (per second).
    pub target_rate: Option<f64>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Length of the measured window (after warm-up), in seconds.
    pub measured_seconds: f64,
    /// Flow iterations started in the measured window.
    pub started: u64,
    /// Arrivals dropped because `max_in_flight` was reached (`when_full = "drop"`).
    pub dropped: u64,
    /// Scheduling lag: actual start minus intended start of each flow iteration.
    pub lag: Percentiles,
    pub ops: Vec<OpReport>,
    pub seconds: Vec<RunSecond>,
    /// The service under test, when `[sut]` is given.
    pub service: Option<ResourceSamples>,
    /// The generator process itself (CPU % of one core).
    pub generator: ResourceSamples,
    /// Why the service probe failed, if it did.
    pub probe_error: Option<String>,
    /// Why the run ended early, if it did (a crashed driver).
    pub aborted: Option<String>,
    /// The deployed version read from `version_url`.
    pub service_version: Option<String>,
}

impl Report {
    /// Flow iterations started per second of the measured window.
    pub fn achieved_rate(&self) -> f64 {
        if self.measured_seconds > 0.0 {
            self.started as f64 / self.measured_seconds
        } else {
            0.0
        }
    }

    pub fn op(&self, name: &str) -> Option<&OpReport> {
        self.ops.iter().find(|o| o.name == name)
    }
}
