//! Helpers for unit tests.

use crate::report::{Report, ResourceSamples};

pub fn empty_report() -> Report {
    let t = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    Report {
        scenario: "s".into(),
        model: "open".into(),
        target_rate: Some(100.0),
        started_at: t,
        finished_at: t,
        measured_seconds: 10.0,
        started: 1000,
        dropped: 0,
        lag: Default::default(),
        ops: vec![],
        seconds: vec![],
        service: None,
        generator: ResourceSamples::default(),
        probe_error: None,
        aborted: None,
        service_version: None,
    }
}
