//! The native run format (what `POST /api/v1/runs` accepts and every harness parser
//! produces) and the read-side types shared by the server and the UI.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::units::Direction;

/// One execution of a benchmark suite or load test, at one commit (or one moment) on
/// one branch and testbed, holding results for many series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunSubmission {
    /// Project slug, e.g. `mongo-go-driver`.
    pub project: String,
    /// Branch the commit is on; defaults to the project's main branch when a commit is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit measured. Absent for time-indexed runs (production metrics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInput>,
    /// Where it ran (machine class, OS, runtime). Defaults to `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub testbed: Option<String>,
    /// Client-chosen idempotency key: a second submission with the same key is not stored again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// What started the run: `ci`, `manual`, `schedule`, `pull_request`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Free metadata (CI job URL, harness version, configuration lines).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub results: Vec<ResultInput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CommitInput {
    pub sha: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
}

/// The samples of one series in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResultInput {
    /// Benchmark name, e.g. `BenchmarkInsertOne/small` or `POST /groups`.
    pub benchmark: String,
    /// What is measured, e.g. `time`, `alloc_bytes`, `latency_p99`, `throughput`.
    pub measure: String,
    /// Unit as the harness printed it (`ns/op`, `ms`, `B/op`, `ops/s`, …).
    pub unit: String,
    /// Lower or higher is better; guessed from the measure and unit when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Parameters that distinguish series of one benchmark (concurrency=16).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// Every raw sample (iterations, repetitions), in `unit`. At least one.
    pub samples: Vec<f64>,
    /// Percentiles reported by the harness itself (e.g. k6's p(95)), in `unit`, keyed
    /// by percentile (`"95"`, `"99.9"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub percentiles: BTreeMap<String, f64>,
    /// Iterations the harness ran per sample, when it says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
}

/// The summary stored beside the raw samples of one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub n: u64,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub stddev: f64,
}

/// Canonical text of a parameter map: `k1=v1,k2=v2` with keys sorted. Empty when none.
pub fn params_key(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Kind of a timeline marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AnnotationKind {
    Release,
    Deploy,
    Infra,
    Note,
}

impl AnnotationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Deploy => "deploy",
            Self::Infra => "infra",
            Self::Note => "note",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "release" => Self::Release,
            "deploy" => Self::Deploy,
            "infra" => Self::Infra,
            "note" => Self::Note,
            _ => return None,
        })
    }
}

/// A release or annotation as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnnotationInput {
    pub project: String,
    pub name: String,
    pub kind: AnnotationKind,
    /// Commit sha the marker belongs to (releases, deploys of a commit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Moment of the marker (deploys, infra changes); defaults to the commit's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}
