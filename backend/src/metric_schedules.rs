//! Scheduled production series (docs/metrics.md): one query of a project's metric
//! source read every `step` into time-indexed runs (no commit, trigger `schedule`), so
//! production metrics are kept longer than the monitoring system keeps them and run
//! through the same charts, detection and markers. A `metrics.schedule` work item per
//! schedule backfills from the watermark in chunks under Prometheus's 11,000-point
//! limit, stays behind now − the source's settle delay, and queues its next pass. Run
//! keys (`sched-<id>-<t>`) make a repeated chunk store nothing twice.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use perfwatch_core::model::{ResultInput, RunSubmission};
use perfwatch_sources::{
    expand, parse_metrics_table, Auth, Mode, PromClient, QueryData, QuerySpec, WindowVars,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::followup::FollowUps;
use crate::queue::{kinds, Handler, HandlerFuture, JobFailure, Lease, NewJob, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::metric_sources::{ScheduleRow, ScheduleSettings};
use crate::store::IngestOptions;
use crate::time::now_ms;
use crate::Store;
use perfwatch_detect::calendar::parse_tz;

/// Points per range query: under Prometheus's limit of 11,000.
pub const CHUNK_POINTS: i64 = 10_000;

/// Payload of a `metrics.schedule` item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SchedulePass {
    pub schedule_id: i64,
}

fn pass_item(id: i64, at: i64) -> NewJob {
    NewJob {
        kind: kinds::METRICS_SCHEDULE.into(),
        payload: serde_json::json!({ "schedule_id": id }).to_string(),
        priority: 2,
        not_before: at,
        max_attempts: 10,
        backoff_ms: 10_000,
        coalesce_key: Some(format!("schedule:{id}")),
    }
}

/// What an admin asks for: read `query` of source `source` every `step_s` seconds,
/// starting at `from` (backfilled).
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    pub query: String,
    pub step_s: i64,
    pub from: DateTime<Utc>,
    /// IANA timezone of the metric's users (default UTC): seasonal expectations compare
    /// local hours of the week.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Record alerts on the series without notifying anyone (default false).
    #[serde(default)]
    pub dry_run: bool,
    /// A label of the query (`version` of `build_info`): each change of its value marks
    /// a deploy instead of storing points.
    #[serde(default)]
    pub marker_label: Option<String>,
    /// Days raw points are kept before only hourly rollups remain (default 90).
    #[serde(default)]
    pub raw_days: Option<i64>,
}

impl ScheduleInput {
    /// The settings, checked: each error names its field.
    pub fn settings(&self) -> Result<ScheduleSettings> {
        let timezone = self.timezone.clone().unwrap_or_else(|| "UTC".into());
        parse_tz(&timezone).map_err(|e| StoreError::invalid("timezone", e))?;
        let raw_days = self.raw_days.unwrap_or(90);
        if !(1..=36_500).contains(&raw_days) {
            return Err(StoreError::invalid("raw_days", "1 to 36500 days"));
        }
        let marker_label = self.marker_label.clone().filter(|l| !l.trim().is_empty());
        if let Some(l) = &marker_label {
            let ok = l.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !l.starts_with(|c: char| c.is_ascii_digit());
            if !ok {
                return Err(StoreError::invalid(
                    "marker_label",
                    format!("'{l}' is not a Prometheus label name"),
                ));
            }
        }
        Ok(ScheduleSettings {
            timezone,
            dry_run: self.dry_run,
            marker_label,
            raw_days,
        })
    }
}

/// Creates (or re-times) a schedule and queues its first pass. Returns its id.
pub async fn put(store: &Store, slug: &str, source: &str, inp: &ScheduleInput) -> Result<i64> {
    let project = store.project(slug).await?;
    let row = store.metric_source(project.id, source).await?;
    let (_, queries) = parse(&row.config)?;
    if !queries.iter().any(|q| q.name == inp.query) {
        return Err(StoreError::invalid(
            "query",
            format!("source '{source}' has no query '{}'", inp.query),
        ));
    }
    if !(1..=86_400).contains(&inp.step_s) {
        return Err(StoreError::invalid("step_s", "1 to 86400 seconds"));
    }
    let settings = inp.settings()?;
    // The watermark is the last point "stored": one step before the first wanted.
    let watermark = inp.from.timestamp_millis() - inp.step_s * 1000;
    let now = now_ms();
    let id = store
        .metric_schedule_put(row.id, &inp.query, inp.step_s, watermark, &settings, now)
        .await?;
    store
        .queue_enqueue_coalesced(&pass_item(id, now), now, |old| Ok(old.to_string()))
        .await?;
    Ok(id)
}

/// Queues a pass of every schedule (at start-up; a queued one is kept).
pub async fn schedule_all(store: &Store) -> Result<()> {
    let now = now_ms();
    for s in store.metric_schedules().await? {
        store
            .queue_enqueue_coalesced(&pass_item(s.id, now), now, |old| Ok(old.to_string()))
            .await?;
    }
    Ok(())
}

fn parse(config: &str) -> Result<(perfwatch_sources::PromSource, Vec<QuerySpec>)> {
    let table: toml::Table = toml::from_str(config)
        .map_err(|e| StoreError::invalid("config", format!("not a TOML table: {e}")))?;
    parse_metrics_table(&table).map_err(|e| StoreError::invalid("config", e.to_string()))
}

/// Runs `metrics.schedule` items.
pub struct ScheduleHandler {
    pub store: Store,
    pub key: SealKey,
}

impl Handler for ScheduleHandler {
    fn kind(&self) -> &'static str {
        kinds::METRICS_SCHEDULE
    }

    fn run<'a>(&'a self, _queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let p: SchedulePass = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            // A schedule deleted with its query (metric sources page) has nothing to read.
            if let Err(StoreError::NotFound(_)) = self.store.metric_schedule(p.schedule_id).await {
                return Ok(Outcome::Done);
            }
            let next = pass(&self.store, &self.key, p.schedule_id).await?;
            let now = now_ms();
            self.store
                .queue_enqueue_coalesced(
                    &pass_item(p.schedule_id, next),
                    now,
                    |o| Ok(o.to_string()),
                )
                .await?;
            Ok(Outcome::Done)
        })
    }
}

/// One pass: reads chunks from the watermark up to now − settle; returns when the next
/// pass is due (at once while behind, else one step after the newest point + settle).
pub async fn pass(store: &Store, key: &SealKey, id: i64) -> std::result::Result<i64, JobFailure> {
    let perm = |e: StoreError| JobFailure::Permanent(e.to_string());
    let s = store.metric_schedule(id).await?;
    let row = store.metric_source_by_id(s.source_id).await?;
    let (mut src, queries) = parse(&row.config).map_err(perm)?;
    if let Some(t) = &row.bearer_token {
        src.auth = Auth::Bearer(key.open(t, "metric source token").map_err(perm)?);
    }
    let spec = queries
        .iter()
        .find(|q| q.name == s.query_name)
        .ok_or_else(|| JobFailure::Permanent(format!("query '{}' is gone", s.query_name)))?;
    let step_ms = s.step_s * 1000;
    let newest = now_ms() - src.settle.as_millis() as i64;
    // Points sit on multiples of the step.
    let last_due = newest - newest.rem_euclid(step_ms);
    let start = s.watermark + step_ms;
    if start > last_due {
        return Ok(start + src.settle.as_millis() as i64);
    }
    let end = last_due.min(start + (CHUNK_POINTS - 1) * step_ms);
    let slug = store.project_slug_of(row.project_id).await?;
    let (Some(from), Some(to)) = (
        DateTime::from_timestamp_millis(start),
        DateTime::from_timestamp_millis(end),
    ) else {
        return Err(JobFailure::Permanent("watermark out of range".into()));
    };
    // Each point is the value over the step that ends at it.
    let vars = WindowVars {
        start: from - chrono::Duration::milliseconds(step_ms),
        end: from,
        run_id: None,
        commit: None,
    };
    let text = expand(&spec.template, &vars).map_err(|e| JobFailure::Permanent(e.to_string()))?;
    let client = PromClient::new(&src).map_err(|e| JobFailure::Permanent(e.to_string()))?;
    let data = client
        .range(&text, from, to, Duration::from_millis(step_ms as u64))
        .await
        .map_err(|e| {
            if e.is_retryable() {
                JobFailure::Retry(e.to_string())
            } else {
                JobFailure::Permanent(e.to_string())
            }
        })?;
    if let Some(label) = &s.settings.marker_label {
        mark_versions(store, &s, &slug, label, &row.name, &data).await?;
        store.metric_schedule_advance(s.id, end, now_ms()).await?;
        return Ok(if end < last_due {
            now_ms()
        } else {
            end + step_ms + src.settle.as_millis() as i64
        });
    }
    let runs = runs_of(&slug, s.id, spec, &data, &row.name);
    let followups = FollowUps::new(store.clone());
    for run in runs {
        let valid = perfwatch_core::validate::validate_run(run)
            .map_err(|e| JobFailure::Permanent(format!("scheduled values: {e}")))?;
        let stored = store.store_run(&valid, &IngestOptions::default()).await?;
        let _ = followups.enqueue(&stored, false).await;
    }
    store.metric_schedule_advance(s.id, end, now_ms()).await?;
    retention(store, &s, row.project_id, now_ms()).await?;
    Ok(if end < last_due {
        now_ms()
    } else {
        end + step_ms + src.settle.as_millis() as i64
    })
}

/// Rolls the schedule's raw points older than its `raw_days` up by hour and drops them
/// (whole hours only: the cutoff is on an hour boundary).
pub async fn retention(
    store: &Store,
    s: &ScheduleRow,
    project_id: i64,
    now: i64,
) -> Result<crate::store::rollups::Pruned> {
    let hour = perfwatch_core::rollup::HOUR_MS;
    let cutoff = now.saturating_sub(s.settings.raw_days.saturating_mul(24 * hour));
    store
        .prune_schedule_runs(project_id, s.id, cutoff - cutoff.rem_euclid(hour))
        .await
}

/// The version a fleet runs at each timestamp: the value of `label` carried by the most
/// series there (most instances), the greater value on a tie — a rolling deploy
/// switches when half the fleet runs the new version.
pub fn versions(data: &QueryData, label: &str) -> Vec<(i64, String)> {
    let QueryData::Matrix(series) = data else {
        return Vec::new();
    };
    let mut at: BTreeMap<i64, BTreeMap<String, usize>> = BTreeMap::new();
    for (labels, points) in series {
        let Some(v) = labels.get(label) else { continue };
        for (t, x) in points {
            if x.is_finite() {
                *at.entry((t * 1000.0) as i64)
                    .or_default()
                    .entry(v.clone())
                    .or_default() += 1;
            }
        }
    }
    at.into_iter()
        .filter_map(|(t, counts)| {
            let top = counts
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))?;
            Some((t, top.0))
        })
        .collect()
}

/// Marks a deploy at each change of the fleet's version. The first version ever seen is
/// the starting point, not a deploy; a marker that exists (a redelivered chunk) is kept.
async fn mark_versions(
    store: &Store,
    s: &ScheduleRow,
    slug: &str,
    label: &str,
    source: &str,
    data: &QueryData,
) -> std::result::Result<(), JobFailure> {
    let mut last = s.last_marker.clone();
    for (t, version) in versions(data, label) {
        if last.as_deref() == Some(version.as_str()) {
            continue;
        }
        if let (Some(prev), Some(at)) = (&last, DateTime::from_timestamp_millis(t)) {
            let a = perfwatch_core::model::AnnotationInput {
                project: slug.to_string(),
                name: version.clone(),
                kind: perfwatch_core::model::AnnotationKind::Deploy,
                commit: None,
                time: Some(at),
                description: Some(format!(
                    "{label} changed from {prev} to {version} ({source}, query {})",
                    s.query_name
                )),
            };
            match store.add_annotation(&a).await {
                Ok(_) | Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        store
            .metric_schedule_marked(s.id, &version, now_ms())
            .await?;
        last = Some(version);
    }
    Ok(())
}

/// One time-indexed run per timestamp, holding the query's value (one per label value
/// for a `by` query) at that point.
fn runs_of(
    slug: &str,
    id: i64,
    spec: &QuerySpec,
    data: &QueryData,
    source: &str,
) -> Vec<RunSubmission> {
    let mut by_time: BTreeMap<i64, Vec<ResultInput>> = BTreeMap::new();
    let QueryData::Matrix(series) = data else {
        return Vec::new();
    };
    for (labels, points) in series {
        let params = match &spec.mode {
            Mode::ByLabel(l) => match labels.get(l) {
                Some(v) => BTreeMap::from([(l.clone(), v.clone())]),
                None => continue,
            },
            Mode::Single if series.len() > 1 => continue,
            Mode::Single => BTreeMap::new(),
        };
        for (t, v) in points {
            if !v.is_finite() {
                continue;
            }
            by_time
                .entry((t * 1000.0) as i64)
                .or_default()
                .push(ResultInput {
                    benchmark: spec.name.clone(),
                    measure: spec.name.clone(),
                    unit: spec.unit.clone(),
                    direction: spec.direction,
                    params: params.clone(),
                    samples: vec![*v],
                    ..ResultInput::default()
                });
        }
    }
    by_time
        .into_iter()
        .filter_map(|(t, results)| {
            let at = DateTime::from_timestamp_millis(t)?;
            let meta = serde_json::json!({ "metric_source": source, "schedule": id });
            Some(RunSubmission {
                project: slug.to_string(),
                branch: None,
                commit: None,
                testbed: Some(format!("prometheus:{source}")),
                run_key: Some(format!("sched-{id}-{t}")),
                started_at: Some(at),
                finished_at: Some(at),
                trigger: Some("schedule".into()),
                metadata: meta.as_object().cloned().unwrap_or_default(),
                results,
            })
        })
        .collect()
}
