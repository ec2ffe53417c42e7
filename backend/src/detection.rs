//! The detection use case: read → compute (pure) → write.
//!
//! For a project's main branch, each series is read in commit order (time order for
//! series whose runs have no branch), `perfwatch_detect::detect` runs on the medians,
//! Benjamini–Hochberg keeps the change points that survive across all series of the
//! pass, and each kept change point becomes (or updates) one alert whose suspect range
//! runs from the last good point's commit to the first bad point's commit. Threshold
//! rules are judged on the newest point (after ingestion) or on every point (on demand).
//! docs/alerts.md has the rules.
//!
//! Production series — time-indexed, points at most 2 h apart, or fed by a metric
//! schedule — have daily and weekly cycles: their cycle is removed in the schedule's
//! timezone before detection (`perfwatch_detect::deseason`), a change must last 6 h and
//! be at least 5 %, and each alert names the deploy marker it started with. Alerts of a
//! dry-run schedule's series are recorded but notify no one (docs/detection.md).

/// The pure detection crate, for callers (the CLI, the API) that do not depend on it.
pub use perfwatch_detect as engine;

use perfwatch_core::alerts::{AlertDirection, AlertKind, DetectSummary, RangeAxis, SuspectRange};
use perfwatch_core::units::Direction;
use perfwatch_core::view::Marker;
use perfwatch_core::view::SeriesInfo;
use perfwatch_detect::calendar::{parse_tz, Tz};
use perfwatch_detect::deseason::{detect_production_with, median_spacing, Cycle};
use perfwatch_detect::threshold::{Breach, Side, ThresholdRule};
use perfwatch_detect::{
    detect, fdr::fdr_mask, relative_change, ChangePoint, DetectConfig, Detection, Drift,
};

use crate::error::{Result, StoreError};
use crate::store::metric_sources::SeriesSchedule;
use crate::store::{DetectPoint, Matching, NewAlert, StoredRule};
use crate::Store;

/// How a pass detects and writes.
#[derive(Debug, Clone)]
pub struct DetectSettings {
    pub config: DetectConfig,
    /// Benjamini–Hochberg level across the series of one pass.
    pub fdr_q: f64,
    /// A change point within this many points of an existing alert's first bad point
    /// updates that alert instead of creating one.
    pub move_tolerance: usize,
    /// Judge threshold rules on every point (`true`) or on the newest only.
    pub threshold_history: bool,
    /// Newest points of a commit-indexed series a pass reads (`None`: all). A pass after
    /// every ingested run must not read, and hold, the whole history: its cost and the
    /// server's memory would grow with the data (docs/benchmarks.md "Soak"). What lies
    /// before the window was judged by earlier passes while it was recent; see
    /// [`DETECT_WINDOW`]. A pass judging thresholds over the history (on demand, REST and
    /// CLI) reads everything.
    pub window: Option<usize>,
}

/// Points an automatic pass reads per series. The detector needs a full segment on each
/// side of a change (`min_segment`, 5) and re-judges the newest change against at least
/// `incremental_margin` (100) points before it (perfwatch-detect's incremental rule);
/// 1,000 points leave nine tenths of the window to changes still moving. Change points in
/// the window's first `incremental_margin` points are not raised (their left segment is
/// cut), and existing alerts there or before are left as they are.
pub const DETECT_WINDOW: usize = 1000;

impl Default for DetectSettings {
    fn default() -> Self {
        Self {
            config: DetectConfig::default(),
            fdr_q: 0.05,
            move_tolerance: 5,
            threshold_history: false,
            window: Some(DETECT_WINDOW),
        }
    }
}

/// Which series a pass covers.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every series of the project.
    All,
    /// These series (e.g. those a run just touched).
    Series(Vec<i64>),
}

struct SeriesData {
    info: SeriesInfo,
    /// With a cut window: change points before this index are not raised, and alerts
    /// before its position are settled.
    settled_below: Option<usize>,
    axis: RangeAxis,
    points: Vec<DetectPoint>,
    change_points: Vec<ChangePoint>,
    drifts: Vec<Drift>,
    /// Set for a production series: how its cycle was handled.
    production: Option<Production>,
}

/// How a production series was detected on.
#[derive(Debug, Clone)]
struct Production {
    tz: Tz,
    /// The cycle removed (None: too short or sparse to have one).
    cycle: Option<Cycle>,
    /// From a dry-run schedule: alerts notify no one.
    dry_run: bool,
}

/// Points at most this far apart make a time-indexed series a production series even
/// without a schedule (nightly benchmark runs without commits stay commit-style).
const PRODUCTION_SPACING_MS: i64 = 2 * 3_600_000;

/// Whether a series is a production series, and its schedule's settings if it has one.
fn production_of(
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

/// Runs one detection pass over a project (by slug).
#[expect(
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "one detection pass (read, detect, write per series, in one transaction order); to be split by job (issue 10 item 8)"
)]
pub async fn detect_project(
    store: &Store,
    slug: &str,
    scope: Scope,
    settings: &DetectSettings,
) -> Result<DetectSummary> {
    let project = store.project(slug).await?;
    let main_branch = store.branch_id(project.id, &project.main_branch).await?;
    let all = store.list_series(project.id).await?;
    let series: Vec<SeriesInfo> = match scope {
        Scope::All => all,
        Scope::Series(ids) => all.into_iter().filter(|s| ids.contains(&s.id)).collect(),
    };
    let mut summary = DetectSummary {
        series: series.len(),
        ..Default::default()
    };
    // What triage taught: series whose alerts were marked invalid ask for bigger changes.
    let learned = store.sensitivities(project.id).await?;
    let schedules = store.series_schedules(project.id).await?;
    let mut markers: Option<Vec<Marker>> = None;
    // Holiday points are replaced by the seasonal expectation: a holiday is not two changes.
    let holidays = crate::holidays::calendar(store, project.id).await?;

    // Read and compute.
    let mut data = Vec::with_capacity(series.len());
    let window = (!settings.threshold_history)
        .then_some(settings.window)
        .flatten();
    for info in series {
        let (axis, points, cut) = store
            .recent_detection_points(info.id, main_branch, window)
            .await?;
        let settled_below = cut.then_some(settings.config.incremental_margin);
        let values: Vec<f64> = points.iter().map(|p| p.median).collect();
        let mut config = settings.config.clone();
        if let Some(m) = learned.get(&info.id) {
            config.min_relative_change = config.min_relative_change.max(*m);
        }
        let mut production = production_of(&info, axis, &points, &schedules);
        let found = match production.as_mut() {
            Some(p) => {
                let timed: Vec<(i64, f64)> = points.iter().map(|x| (x.time, x.median)).collect();
                detect_production_with(&timed, p.tz, &holidays, &config).map(|(cycle, d)| {
                    p.cycle = cycle;
                    d
                })
            }
            None => detect(&values, &config),
        };
        let (change_points, drifts) = match found
            .map_err(|e| StoreError::Data(format!("detection on series {}: {e}", info.id)))?
        {
            Detection::TooShort { .. } => {
                summary.too_short += 1;
                (vec![], vec![])
            }
            Detection::Done {
                change_points,
                drifts,
            } => (change_points, drifts),
        };
        summary.change_points_found += change_points.len() + drifts.len();
        data.push(SeriesData {
            info,
            settled_below,
            axis,
            points,
            change_points,
            drifts,
            production,
        });
    }
    // A drift is one hypothesis like a change point: its trend test's p-value joins the
    // Benjamini–Hochberg pool (as a change point at its start, for the mask).
    let lists: Vec<Vec<ChangePoint>> = data
        .iter()
        .map(|d| {
            let mut all = d.change_points.clone();
            all.extend(d.drifts.iter().map(drift_as_hypothesis));
            all
        })
        .collect();
    let masks = fdr_mask(&lists, settings.fdr_q);

    // Write.
    for (d, mask) in data.iter().zip(masks) {
        let (cp_mask, drift_mask) = mask.split_at(d.change_points.len());
        let kept_cps = d.change_points.iter().zip(cp_mask).filter(|(_, k)| **k);
        let kept_drifts = d.drifts.iter().zip(drift_mask).filter(|(_, k)| **k);
        let mut alerts: Vec<NewAlert> = kept_cps
            .filter_map(|(cp, _)| changepoint_alert(&d.info, d.axis, &d.points, cp))
            .collect();
        if let Some(p) = &d.production {
            if !alerts.is_empty() && markers.is_none() {
                markers = Some(store.markers(project.id, None).await?);
            }
            let times: Vec<i64> = d.points.iter().map(|x| x.time).collect();
            let step = median_spacing(&times);
            for a in &mut alerts {
                let deploy = deploy_of(markers.as_deref().unwrap_or(&[]), a.first_bad_at, step);
                a.details = production_details(p, deploy);
            }
        }
        alerts
            .extend(kept_drifts.filter_map(|(dr, _)| drift_alert(&d.info, d.axis, &d.points, dr)));
        if let Some(edge) = d.settled_below {
            alerts.retain(|a| a.index >= edge);
        }
        alerts.sort_by_key(|a| a.index);
        summary.change_points_kept += alerts.len();
        let supported: Vec<usize> = d
            .change_points
            .iter()
            .map(|c| c.index)
            .chain(d.drifts.iter().map(|dr| dr.start))
            .collect();
        let matching = Matching {
            tolerance: settings.move_tolerance,
            settled_before: d
                .settled_below
                .and_then(|i| d.points.get(i))
                .map(|p| position(d.axis, p)),
        };
        let c = store
            .upsert_changepoint_alerts_in(
                project.id, d.info.id, &d.points, &alerts, &supported, matching,
            )
            .await?;
        summary.alerts_created += c.created;
        summary.alerts_updated += c.updated;
        summary.alerts_unchanged += c.unchanged;
        summary.alerts_retracted += c.retracted;
    }
    let rules = store.threshold_rules(project.id).await?;
    if !rules.is_empty() {
        let parsed: Vec<(StoredRule, ThresholdRule)> = rules
            .into_iter()
            .filter_map(|r| {
                let rule = serde_json::from_str(&r.rule).ok()?;
                Some((r, rule))
            })
            .collect();
        for d in &data {
            let values: Vec<f64> = d.points.iter().map(|p| p.median).collect();
            let mut alerts = Vec::new();
            for (stored, rule) in parsed.iter().filter(|(r, _)| rule_applies(r, &d.info)) {
                let breaches = if settings.threshold_history {
                    rule.evaluate_history(&values)
                } else {
                    rule.evaluate_latest(&values).into_iter().collect()
                };
                alerts.extend(
                    breaches
                        .iter()
                        .filter_map(|b| threshold_alert(&d.info, d.axis, &d.points, stored.id, b)),
                );
            }
            let c = store.upsert_threshold_alerts(project.id, &alerts).await?;
            summary.threshold_alerts_created += c.created;
        }
    }
    summary.groups = store.alert_counts(project.id).await?.1 as usize;
    let dry: Vec<i64> = data
        .iter()
        .filter(|d| d.production.as_ref().is_some_and(|p| p.dry_run))
        .map(|d| d.info.id)
        .collect();
    // Every group not announced yet — made by this pass, or by a pass killed before it
    // announced — is announced once (marked in the transaction that queues it).
    for id in store.unannounced_groups(project.id).await? {
        // A group made only of dry-run series' alerts is recorded, not announced.
        let quiet = !dry.is_empty()
            && store
                .alert_group_series(id)
                .await?
                .iter()
                .all(|s| dry.contains(s));
        let payload = serde_json::to_string(&crate::notify::Event::GroupCreated { group_id: id })?;
        let event = crate::notify::Event::GroupCreated { group_id: id };
        store
            .announce_group(
                project.id,
                id,
                (!quiet).then_some((event.name(), payload.as_str())),
                crate::time::now_ms(),
            )
            .await?;
    }
    Ok(summary)
}

/// Whether a stored rule covers a series: its series, its measure, or (neither) all.
pub fn rule_applies(rule: &StoredRule, s: &SeriesInfo) -> bool {
    match (&rule.series_id, &rule.measure) {
        (Some(id), _) => *id == s.id,
        (None, Some(m)) => *m == s.measure,
        (None, None) => true,
    }
}

/// Position of a point on the range axis.
fn position(axis: RangeAxis, p: &DetectPoint) -> i64 {
    match axis {
        RangeAxis::Commit => p.ord.unwrap_or_default(),
        RangeAxis::Time => p.time,
    }
}

/// The alert fields that locate a change at `index`: the first bad point is the point at
/// `index`, the last good one the point before it.
fn locate(
    axis: RangeAxis,
    points: &[DetectPoint],
    index: usize,
) -> Option<(&DetectPoint, Option<&DetectPoint>, SuspectRange)> {
    let bad = points.get(index)?;
    let good = index.checked_sub(1).and_then(|i| points.get(i));
    let range = SuspectRange::between(good.map(|g| position(axis, g)), position(axis, bad));
    Some((bad, good, range))
}

/// Maps a change point of a series to the alert it raises.
pub fn changepoint_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    cp: &ChangePoint,
) -> Option<NewAlert> {
    let (bad, good, range) = locate(axis, points, cp.index)?;
    Some(NewAlert {
        series_id: s.id,
        kind: AlertKind::Changepoint,
        rule_id: None,
        direction: AlertDirection::of_change(cp.absolute_change, s.direction),
        axis,
        range,
        index: cp.index,
        first_bad_run_id: bad.run_id,
        last_good_run_id: good.map(|g| g.run_id),
        first_bad_commit_id: bad.commit_id,
        last_good_commit_id: good.and_then(|g| g.commit_id),
        first_bad_at: bad.time,
        before_median: cp.before_median,
        after_median: cp.after_median,
        relative_change: finite_or_zero(cp.relative_change),
        absolute_change: cp.absolute_change,
        p_value: Some(cp.p_value),
        details: None,
    })
}

/// A drift as the hypothesis Benjamini–Hochberg counts: its start and its p-value.
fn drift_as_hypothesis(d: &Drift) -> ChangePoint {
    ChangePoint {
        index: d.start,
        before_start: d.start,
        after_end: d.end,
        before_median: d.start_level,
        after_median: d.end_level,
        before_mean: d.start_level,
        after_mean: d.end_level,
        relative_change: d.relative_change,
        absolute_change: d.absolute_change,
        p_value: d.p_value,
        energy: 0.0,
    }
}

/// What a drift alert stores in `details`: the drift as found (start, end, slope per
/// point, levels, p-value), with `"kind": "drift"`, plus whether it is still going on.
fn drift_details(d: &Drift, len: usize) -> Option<String> {
    let mut v = serde_json::to_value(d).ok()?;
    let o = v.as_object_mut()?;
    o.insert("kind".into(), "drift".into());
    o.insert("ongoing".into(), (d.end >= len).into());
    Some(v.to_string())
}

/// Maps a drift to the alert it raises: its suspect range is where the creep started
/// (last point before the ramp, first point on it); before/after are the fitted levels
/// at the ramp's start and end, and `details` has the slope and span.
pub fn drift_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    d: &Drift,
) -> Option<NewAlert> {
    let (bad, good, range) = locate(axis, points, d.start)?;
    Some(NewAlert {
        series_id: s.id,
        kind: AlertKind::Drift,
        rule_id: None,
        direction: AlertDirection::of_change(d.absolute_change, s.direction),
        axis,
        range,
        index: d.start,
        first_bad_run_id: bad.run_id,
        last_good_run_id: good.map(|g| g.run_id),
        first_bad_commit_id: bad.commit_id,
        last_good_commit_id: good.and_then(|g| g.commit_id),
        first_bad_at: bad.time,
        before_median: d.start_level,
        after_median: d.end_level,
        relative_change: finite_or_zero(d.relative_change),
        absolute_change: d.absolute_change,
        p_value: Some(d.p_value),
        details: drift_details(d, points.len()),
    })
}

/// Maps a threshold breach to the alert it raises.
pub fn threshold_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    rule_id: i64,
    b: &Breach,
) -> Option<NewAlert> {
    let (bad, good, range) = locate(axis, points, b.index)?;
    let signed = match b.side {
        Side::Decrease => -1.0,
        _ => 1.0,
    };
    let direction = match (signed > 0.0, s.direction) {
        (true, Direction::Lower) | (false, Direction::Higher) => AlertDirection::Regression,
        _ => AlertDirection::Improvement,
    };
    Some(NewAlert {
        series_id: s.id,
        kind: AlertKind::Threshold,
        rule_id: Some(rule_id),
        direction,
        axis,
        range,
        index: b.index,
        first_bad_run_id: bad.run_id,
        last_good_run_id: good.map(|g| g.run_id),
        first_bad_commit_id: bad.commit_id,
        last_good_commit_id: good.and_then(|g| g.commit_id),
        first_bad_at: bad.time,
        before_median: b.baseline,
        after_median: b.value,
        relative_change: finite_or_zero(relative_change(b.baseline, b.value)),
        absolute_change: b.value - b.baseline,
        p_value: None,
        details: serde_json::to_string(b).ok(),
    })
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(direction: Direction) -> SeriesInfo {
        SeriesInfo {
            id: 7,
            project: "p".into(),
            benchmark: "b".into(),
            measure: "time".into(),
            unit: "ns".into(),
            display_unit: "ns".into(),
            direction,
            testbed: "t".into(),
            params: String::new(),
        }
    }

    fn pts() -> Vec<DetectPoint> {
        (0..6)
            .map(|i| DetectPoint {
                run_id: 100 + i,
                commit_id: Some(200 + i),
                ord: Some(10 + 2 * i),
                time: 1000 * i,
                median: 1.0,
            })
            .collect()
    }

    fn cp(index: usize, before: f64, after: f64) -> ChangePoint {
        ChangePoint {
            index,
            before_start: 0,
            after_end: 6,
            before_median: before,
            after_median: after,
            before_mean: before,
            after_mean: after,
            relative_change: (after - before) / before,
            absolute_change: after - before,
            p_value: 1e-6,
            energy: 1.0,
        }
    }

    #[test]
    fn change_point_maps_to_first_bad_and_last_good_commits() {
        let a = changepoint_alert(
            &info(Direction::Lower),
            RangeAxis::Commit,
            &pts(),
            &cp(3, 10.0, 12.0),
        )
        .unwrap();
        assert_eq!(a.first_bad_run_id, 103);
        assert_eq!(a.last_good_run_id, Some(102));
        assert_eq!(a.first_bad_commit_id, Some(203));
        assert_eq!(a.last_good_commit_id, Some(202));
        // Commit 14 is the last good one, 16 the first bad: the suspects are (14, 16].
        assert_eq!(a.range, SuspectRange { lo: 14, hi: 16 });
        assert_eq!(a.direction, AlertDirection::Regression);
        assert!((a.relative_change - 0.2).abs() < 1e-12);
    }

    #[test]
    fn direction_depends_on_the_measure() {
        let a = changepoint_alert(
            &info(Direction::Higher),
            RangeAxis::Time,
            &pts(),
            &cp(2, 10.0, 12.0),
        )
        .unwrap();
        assert_eq!(a.direction, AlertDirection::Improvement);
        assert_eq!(a.range, SuspectRange { lo: 1000, hi: 2000 });
    }

    #[test]
    fn drift_maps_to_a_drift_alert_at_its_start_with_slope_and_span() {
        let d = Drift {
            start: 2,
            end: 6,
            slope: 0.5,
            start_level: 10.0,
            end_level: 12.0,
            relative_change: 0.2,
            absolute_change: 2.0,
            p_value: 1e-5,
            replaced: 3,
        };
        let a = drift_alert(&info(Direction::Lower), RangeAxis::Commit, &pts(), &d).unwrap();
        assert_eq!(a.kind, AlertKind::Drift);
        assert_eq!((a.first_bad_run_id, a.last_good_run_id), (102, Some(101)));
        assert_eq!(a.range, SuspectRange { lo: 12, hi: 14 });
        assert_eq!(a.direction, AlertDirection::Regression);
        assert_eq!((a.before_median, a.after_median), (10.0, 12.0));
        let details: serde_json::Value = serde_json::from_str(&a.details.unwrap()).unwrap();
        assert_eq!(details["kind"], "drift");
        assert_eq!(details["slope"], 0.5);
        assert_eq!(
            (details["start"].as_u64(), details["end"].as_u64()),
            (Some(2), Some(6))
        );
        // It runs to the last point read: still going on.
        assert_eq!(details["ongoing"], true);
    }

    #[test]
    fn out_of_range_index_raises_nothing() {
        assert!(changepoint_alert(
            &info(Direction::Lower),
            RangeAxis::Commit,
            &pts(),
            &cp(9, 1.0, 2.0)
        )
        .is_none());
    }

    #[test]
    fn rules_apply_by_series_measure_or_project() {
        let s = info(Direction::Lower);
        let r = |series_id, measure: Option<&str>| StoredRule {
            id: 1,
            series_id,
            measure: measure.map(str::to_string),
            rule: String::new(),
        };
        assert!(rule_applies(&r(Some(7), None), &s));
        assert!(!rule_applies(&r(Some(8), None), &s));
        assert!(rule_applies(&r(None, Some("time")), &s));
        assert!(!rule_applies(&r(None, Some("rss")), &s));
        assert!(rule_applies(&r(None, None), &s));
    }
}
