//! Production series: time-indexed, points at most 2 h apart or fed by a metric
//! schedule. Their cycle is removed before detection, and each change-point alert
//! names the deploy marker it started with (docs/detection.md).

use perfwatch_core::alerts::RangeAxis;
use perfwatch_core::view::{Marker, SeriesInfo};
use perfwatch_detect::calendar::{parse_tz, Tz};
use perfwatch_detect::deseason::{median_spacing, Cycle};

use crate::error::Result;
use crate::store::metric_sources::SeriesSchedule;
use crate::store::{DetectPoint, NewAlert};
use crate::Store;

/// How a production series was detected on.
#[derive(Debug, Clone)]
pub(super) struct Production {
    pub(super) tz: Tz,
    /// The cycle removed (None: too short or sparse to have one).
    pub(super) cycle: Option<Cycle>,
    /// From a dry-run schedule: alerts notify no one.
    pub(super) dry_run: bool,
}

/// Points at most this far apart make a time-indexed series a production series even
/// without a schedule (nightly benchmark runs without commits stay commit-style).
const PRODUCTION_SPACING_MS: i64 = 2 * 3_600_000;

/// Whether a series is a production series, and its schedule's settings if it has one.
pub(super) fn production_of(
    info: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    schedules: &[SeriesSchedule],
) -> Option<Production> {
    if axis != RangeAxis::Time {
        return None;
    }
    let schedule = schedules
        .iter()
        .find(|s| s.testbed == info.testbed && s.query_name == info.benchmark);
    if schedule.is_none() {
        let times: Vec<i64> = points.iter().map(|p| p.time).collect();
        let spacing = median_spacing(&times);
        if spacing == 0 || spacing > PRODUCTION_SPACING_MS {
            return None;
        }
    }
    Some(Production {
        // The timezone was checked when the schedule was saved.
        tz: schedule
            .and_then(|s| parse_tz(&s.settings.timezone).ok())
            .unwrap_or(Tz::UTC),
        cycle: None,
        dry_run: schedule.is_some_and(|s| s.settings.dry_run),
    })
}

/// The deploy (or release) marker a production change started with: the newest marker
/// from 12 h before the first changed point to 2 h after it (or one step, if longer).
fn deploy_of(markers: &[Marker], first_bad_at: i64, step_ms: i64) -> Option<&Marker> {
    let late = step_ms.max(perfwatch_detect::backtest::EARLY_MS);
    markers
        .iter()
        .filter(|m| {
            m.time <= first_bad_at.saturating_add(late)
                && first_bad_at.saturating_sub(m.time) <= perfwatch_detect::backtest::NEAR_DEPLOY_MS
        })
        .max_by_key(|m| m.time)
}

/// `details` of a production change-point alert: the cycle removed, the timezone and the
/// deploy it started with (which links it, through the release, to its commits).
fn production_details(p: &Production, deploy: Option<&Marker>) -> Option<String> {
    let deploy = deploy.map(|m| {
        serde_json::json!({
            "id": m.id, "name": m.name, "kind": m.kind, "time": m.time, "sha": m.sha,
        })
    });
    let v = serde_json::json!({
        "kind": "production",
        "cycle": p.cycle,
        "timezone": p.tz.name(),
        "dry_run": p.dry_run,
        "deploy": deploy,
    });
    Some(v.to_string())
}

/// Names in each change-point alert of a production series the cycle removed and the
/// deploy the change started with.
pub(super) fn date_alerts(
    p: &Production,
    points: &[DetectPoint],
    markers: &[Marker],
    alerts: &mut [NewAlert],
) {
    let times: Vec<i64> = points.iter().map(|x| x.time).collect();
    let step = median_spacing(&times);
    for a in alerts {
        a.details = production_details(p, deploy_of(markers, a.first_bad_at, step));
    }
}

/// The project's markers, read at most once a pass and only when a production change
/// needs its deploy.
pub(super) struct DeployMarkers {
    project_id: i64,
    read: Option<Vec<Marker>>,
}

impl DeployMarkers {
    pub(super) fn of(project_id: i64) -> Self {
        Self {
            project_id,
            read: None,
        }
    }

    pub(super) async fn get(&mut self, store: &Store) -> Result<&[Marker]> {
        if self.read.is_none() {
            self.read = Some(store.markers(self.project_id, None).await?);
        }
        Ok(self.read.as_deref().unwrap_or_default())
    }
}
