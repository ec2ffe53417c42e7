//! The validated scenario: everything the engine needs, checked.

use std::path::PathBuf;
use std::time::Duration;

use crate::schedule::{Arrival, RateProfile};
use crate::taxonomy::Taxonomy;
use crate::template::Template;
use crate::threshold::Threshold;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// `scheme://host:port`, without a trailing slash.
    pub base_url: String,
    pub duration: Duration,
    pub warmup: Duration,
    pub seed: u64,
    pub version_url: Option<String>,
    /// Per-request timeout.
    pub timeout: Duration,
    pub vars: Vec<(String, String)>,
    pub load: Load,
    pub flows: Vec<Flow>,
    pub taxonomy: Taxonomy,
    pub thresholds: Vec<Threshold>,
    pub sut: Option<SutTarget>,
    pub feeder: Option<PathBuf>,
    pub driver: Option<Vec<String>>,
    /// The validity gate's limits (`[validity]`, default the documented ones).
    pub validity: crate::validity::Gate,
    /// SHA-256 of the file's text: two runs of one scenario compare like with like.
    pub hash: String,
}

impl Scenario {
    /// Every distinct operation name, in first-seen order (the recorder's indices).
    pub fn op_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for f in &self.flows {
            for s in &f.steps {
                if !out.contains(&s.op) {
                    out.push(s.op.clone());
                }
            }
        }
        out
    }

    pub fn total(&self) -> Duration {
        self.warmup + self.duration
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Wait for a slot; the wait shows as scheduling lag and in response time.
    Queue,
    /// Drop the arrival and count it (the run is then invalid).
    Drop,
}

#[derive(Debug, Clone)]
pub enum Load {
    Open {
        /// Over warm-up plus duration.
        profile: RateProfile,
        arrival: Arrival,
        max_in_flight: usize,
        when_full: WhenFull,
        /// Text for the metadata, e.g. `200/s` or `stages`.
        rate_text: String,
    },
    Closed {
        vus: usize,
        think: Duration,
        /// Each iteration of a virtual user is meant to start this long after the
        /// previous one; response time then counts from that intended start.
        pacing: Option<Duration>,
    },
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub op: String,
    pub kind: StepKind,
    /// Expected statuses; empty means any 2xx.
    pub expect_status: Vec<u16>,
    /// Variable ← path in the JSON answer (`id`, `data.items.0.id` or `/data/id`).
    pub extract: Vec<(String, String)>,
    pub repeat: u32,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Http {
        method: reqwest::Method,
        path: Template,
        headers: Vec<(String, Template)>,
        body: Option<Template>,
        bearer: Option<Template>,
    },
    /// Sent to the external driver.
    Driver { vars: Vec<(String, Template)> },
}

#[derive(Debug, Clone, PartialEq)]
pub enum SutTarget {
    Pid { pid: i32, children: bool },
    PidFile { path: PathBuf, children: bool },
    Process(String),
    Cgroup(PathBuf),
}
