//! The write half of a pass: each series' kept change points and drifts upserted as
//! alerts (moved, updated or retracted against the stored ones), then the threshold
//! rules judged.

use perfwatch_core::alerts::DetectSummary;
use perfwatch_detect::threshold::ThresholdRule;

use super::alerts::{rule_applies, threshold_alert};
use super::production::{date_alerts, DeployMarkers};
use super::series::SeriesData;
use crate::error::Result;
use crate::store::{NewAlert, StoredRule, UpsertCounts};
use crate::Store;

/// Upserts the alerts of one series' findings that `mask` keeps; returns how many were
/// kept and what the upsert did.
pub(super) async fn write_change_alerts(
    store: &Store,
    project_id: i64,
    d: &SeriesData,
    mask: &[bool],
    markers: &mut DeployMarkers,
    tolerance: usize,
) -> Result<(usize, UpsertCounts)> {
    let mut alerts = d.kept_change_alerts(mask);
    if let Some(p) = &d.production {
        if !alerts.is_empty() {
            date_alerts(p, &d.points, markers.get(store).await?, &mut alerts);
        }
    }
    alerts.extend(d.kept_drift_alerts(mask));
    d.drop_settled(&mut alerts);
    alerts.sort_by_key(|a| a.index);
    let counts = store
        .upsert_changepoint_alerts_in(
            project_id,
            d.info.id,
            &d.points,
            &alerts,
            &d.supported(),
            d.matching(tolerance),
        )
        .await?;
    Ok((alerts.len(), counts))
}

/// Adds what one series' upsert did to the pass's summary.
pub(super) fn count_upserts(summary: &mut DetectSummary, c: UpsertCounts) {
    summary.alerts_created += c.created;
    summary.alerts_updated += c.updated;
    summary.alerts_unchanged += c.unchanged;
    summary.alerts_retracted += c.retracted;
}

/// Judges the project's threshold rules on every series of the pass (on every point
/// with `history`, else on the newest); returns the threshold alerts created.
pub(super) async fn judge_thresholds(
    store: &Store,
    project_id: i64,
    data: &[SeriesData],
    history: bool,
) -> Result<usize> {
    let rules = parsed_rules(store.threshold_rules(project_id).await?);
    if rules.is_empty() {
        return Ok(0);
    }
    let mut created = 0;
    for d in data {
        let alerts = breach_alerts(d, &rules, history);
        created += store
            .upsert_threshold_alerts(project_id, &alerts)
            .await?
            .created;
    }
    Ok(created)
}

/// The stored rules with their parsed form; a rule that no longer parses is skipped.
fn parsed_rules(rules: Vec<StoredRule>) -> Vec<(StoredRule, ThresholdRule)> {
    rules
        .into_iter()
        .filter_map(|r| {
            let rule = serde_json::from_str(&r.rule).ok()?;
            Some((r, rule))
        })
        .collect()
}

/// The alerts of the breaches of the rules that apply to one series.
fn breach_alerts(
    d: &SeriesData,
    rules: &[(StoredRule, ThresholdRule)],
    history: bool,
) -> Vec<NewAlert> {
    let values: Vec<f64> = d.points.iter().map(|p| p.median).collect();
    let mut alerts = Vec::new();
    for (stored, rule) in rules.iter().filter(|(r, _)| rule_applies(r, &d.info)) {
        let breaches = if history {
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
    alerts
}
