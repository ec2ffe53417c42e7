//! The scenario file as written (TOML), before validation. Values that are checked
//! beyond their type are `Spanned` so an error can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub run: RawRun,
    pub load: RawLoad,
    #[serde(default)]
    pub flow: Vec<RawFlow>,
    #[serde(default)]
    pub errors: BTreeMap<Spanned<String>, RawErrorRule>,
    #[serde(default)]
    pub thresholds: BTreeMap<Spanned<String>, Spanned<String>>,
    pub sut: Option<Spanned<RawSut>>,
    pub feeder: Option<RawFeeder>,
    pub driver: Option<RawDriver>,
    pub validity: Option<RawValidity>,
}

/// `[validity]`: the gate's limits, when the documented defaults do not fit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValidity {
    pub max_generator_cpu: Option<Spanned<String>>,
    pub min_rate: Option<Spanned<String>>,
    pub max_lag_p99: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    pub name: Spanned<String>,
    pub base_url: Spanned<String>,
    pub duration: Option<Spanned<String>>,
    pub warmup: Option<Spanned<String>>,
    pub seed: Option<u64>,
    pub version_url: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    #[serde(default)]
    pub allow_hosts: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    pub model: Spanned<String>,
    pub rate: Option<Spanned<String>>,
    pub stages: Option<Vec<Spanned<RawStage>>>,
    pub arrival: Option<Spanned<String>>,
    pub max_in_flight: Option<Spanned<i64>>,
    pub when_full: Option<Spanned<String>>,
    pub vus: Option<Spanned<i64>>,
    pub think: Option<Spanned<String>>,
    pub pacing: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    pub to: Option<String>,
    pub over: Option<String>,
    pub hold: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFlow {
    pub name: Spanned<String>,
    pub weight: Option<Spanned<i64>>,
    pub steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub op: String,
    pub method: Option<String>,
    pub path: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    pub bearer: Option<String>,
    pub expect_status: Option<Vec<u16>>,
    #[serde(default)]
    pub extract: BTreeMap<String, String>,
    pub repeat: Option<i64>,
    /// Variables sent to the external driver (templates allowed).
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrorRule {
    #[serde(default)]
    pub status: Vec<u16>,
    /// Substring of the error message (transport errors, driver messages).
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSut {
    pub pid: Option<i32>,
    pub pid_file: Option<String>,
    pub process: Option<String>,
    pub cgroup: Option<String>,
    /// Include every descendant of the pid (default true).
    pub children: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeeder {
    pub csv: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDriver {
    pub command: Spanned<Vec<String>>,
}
