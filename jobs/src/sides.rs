//! The repeat loop: checkouts, one build per side, then per repeat and side the
//! service → load → metrics → stop sequence, recording every step.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::definition::JobDefinition;
use crate::git::Mirror;
use crate::load::{run_load, LoadOutcome};
use crate::process::{run_step, LogSink, Stream};
use crate::runner::{blocking, JobError, MetricsCollector, Side, SideRun, StepRecord};
use crate::service::{start_service_named, ServiceHandle};

/// The order of sides in `repeat` (0-based): head first on even repeats, base first on
/// odd ones (head, base, base, head, head, base …), so neither side always runs first
/// on a machine the other side just warmed up.
pub fn order(repeat: u32, with_base: bool) -> Vec<Side> {
    match (with_base, repeat % 2) {
        (false, _) => vec![Side::Head],
        (true, 0) => vec![Side::Head, Side::Base],
        (true, _) => vec![Side::Base, Side::Head],
    }
}

/// The variables every step gets (the env contract in docs/jobs-definition.md).
pub fn step_env(sha: &str, side: Side, repeat: u32, port: u16) -> Vec<(String, String)> {
    vec![
        ("PERFWATCH_SHA".into(), sha.to_string()),
        ("PERFWATCH_SIDE".into(), side.as_str().into()),
        ("PERFWATCH_REPEAT".into(), repeat.to_string()),
        ("PORT".into(), port.to_string()),
    ]
}

/// A port nobody listens on right now, for the service to bind.
fn free_port() -> Result<u16, JobError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| JobError::Io(format!("picking a free port: {e}")))
}

/// When a step started, on both clocks.
struct Clock {
    at: DateTime<Utc>,
    t0: Instant,
}

impl Clock {
    fn now() -> Clock {
        Clock {
            at: Utc::now(),
            t0: Instant::now(),
        }
    }
}

pub(crate) struct Plan<'a> {
    pub def: &'a JobDefinition,
    pub mirror: &'a Mirror,
    pub work: &'a Path,
    pub head: String,
    pub base: Option<String>,
    pub repeats: u32,
    pub sink: Arc<dyn LogSink>,
    pub metrics: Option<Arc<dyn MetricsCollector>>,
    pub cancel: &'a CancellationToken,
}

impl Plan<'_> {
    fn sha(&self, side: Side) -> &str {
        match side {
            Side::Base => self.base.as_deref().unwrap_or(&self.head),
            Side::Head => &self.head,
        }
    }

    fn dir(&self, side: Side) -> PathBuf {
        self.work.join(side.as_str())
    }

    fn note(&self, step: &str, text: &str) {
        self.sink.line(step, Stream::System, text);
    }

    pub async fn run(self) -> Result<(Vec<SideRun>, Vec<StepRecord>), JobError> {
        let mut steps = Vec::new();
        let sides = order(0, self.base.is_some());
        for &side in &sides {
            let (label, c) = (format!("checkout {}", side.as_str()), Clock::now());
            self.note(&label, &format!("checking out {}", self.sha(side)));
            let (m, sha, dir) = (
                self.mirror.clone(),
                self.sha(side).to_string(),
                self.dir(side),
            );
            let r = blocking(move || m.checkout(&sha, &dir)).await;
            record(&mut steps, "checkout", side, 0, &c, outcome(&r));
            r?;
        }
        if let Some(build) = &self.def.build {
            for &side in &sides {
                let (label, c) = (format!("build {}", side.as_str()), Clock::now());
                let env = step_env(self.sha(side), side, 0, free_port()?);
                let r = run_step(
                    &label,
                    build,
                    &self.dir(side),
                    &env,
                    &*self.sink,
                    self.cancel,
                )
                .await
                .map_err(JobError::from_step);
                record(&mut steps, "build", side, 0, &c, outcome(&r));
                r?;
            }
        }
        let mut runs = Vec::new();
        for repeat in 0..self.repeats {
            for side in order(repeat, self.base.is_some()) {
                runs.push(self.one(side, repeat, &mut steps).await?);
            }
        }
        Ok((runs, steps))
    }

    /// One side run: service up, load, metrics, service down.
    async fn one(
        &self,
        side: Side,
        repeat: u32,
        steps: &mut Vec<StepRecord>,
    ) -> Result<SideRun, JobError> {
        let tag = format!("{}#{repeat}", side.as_str());
        let dir = self.dir(side);
        let mut env = step_env(self.sha(side), side, repeat, free_port()?);
        let mut service: Option<ServiceHandle> = None;
        if let Some(svc) = &self.def.service {
            let c = Clock::now();
            let r = start_service_named(
                &format!("service {tag}"),
                svc,
                &dir,
                &env,
                self.sink.clone(),
                self.cancel,
            )
            .await
            .map_err(JobError::from_step);
            record(steps, "service", side, repeat, &c, outcome(&r));
            let handle = r?;
            env.push(("PERFWATCH_SERVICE_PID".into(), handle.pid().to_string()));
            service = Some(handle);
        }
        let c = Clock::now();
        let label = format!("load {tag}");
        let r = run_load(&self.def.load, &label, &dir, &env, &*self.sink, self.cancel).await;
        let load_outcome = match &r {
            Ok(o) if !o.invalid.is_empty() => "invalid".to_string(),
            other => outcome(other),
        };
        record(steps, "load", side, repeat, &c, load_outcome);
        let mut out = r?;
        if let Some(code) = service.as_mut().and_then(ServiceHandle::exited) {
            out.invalid
                .push(format!("the service exited (code {code}) during the load"));
        }
        if let Some(table) = &self.def.metrics {
            let c = Clock::now();
            let o = self.metrics_step(table, &tag, &mut out).await?;
            record(steps, "metrics", side, repeat, &c, o);
        }
        if let Some(h) = service {
            h.stop().await;
        }
        out.metadata
            .insert("job_side".into(), Value::String(side.as_str().into()));
        out.metadata
            .insert("job_repeat".into(), Value::from(repeat));
        Ok(SideRun {
            side,
            sha: self.sha(side).to_string(),
            repeat,
            started_at: out.start,
            finished_at: out.end,
            results: out.results,
            metadata: out.metadata,
            invalid: out.invalid,
        })
    }

    /// The service's metrics over the load's window, added to the side's results; a
    /// source that fails or has no data makes the run invalid, not the job failed.
    /// Returns the step's outcome.
    async fn metrics_step(
        &self,
        table: &toml::Table,
        tag: &str,
        out: &mut LoadOutcome,
    ) -> Result<String, JobError> {
        let result = match &self.metrics {
            None => Err("[metrics] is set but this worker has no metrics collector".into()),
            Some(col) => tokio::select! {
                r = col.collect(table, out.start, out.end) => r,
                _ = self.cancel.cancelled() => return Err(JobError::Canceled),
            },
        };
        Ok(match result {
            Ok(c) if c.results.is_empty() && c.invalid.is_empty() => {
                out.invalid.push("metrics produced no data".into());
                "no data".to_string()
            }
            Ok(c) => {
                let ok = c.invalid.is_empty();
                out.results.extend(c.results);
                out.metadata.extend(c.metadata);
                out.invalid
                    .extend(c.invalid.into_iter().map(|why| format!("metrics: {why}")));
                if ok { "ok" } else { "invalid values" }.to_string()
            }
            Err(e) => {
                self.note(&format!("metrics {tag}"), &e);
                out.invalid.push(format!("metrics produced no data: {e}"));
                "failed".to_string()
            }
        })
    }
}

fn outcome<T>(r: &Result<T, JobError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(JobError::Step(e)) => e.outcome(),
        Err(JobError::Canceled) => "canceled".into(),
        Err(JobError::TimedOut) => "timed out".into(),
        Err(_) => "failed".into(),
    }
}

fn record(
    steps: &mut Vec<StepRecord>,
    step: &str,
    side: Side,
    repeat: u32,
    c: &Clock,
    outcome: String,
) {
    steps.push(StepRecord {
        step: step.into(),
        side,
        repeat,
        started_at: c.at,
        duration_ms: u64::try_from(c.t0.elapsed().as_millis()).unwrap_or(u64::MAX),
        outcome,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_alternate_which_goes_first() {
        let seq: Vec<Side> = (0..4).flat_map(|r| order(r, true)).collect();
        use Side::{Base as B, Head as H};
        assert_eq!(seq, [H, B, B, H, H, B, B, H]);
        assert_eq!(order(3, false), [H]);
    }
}
