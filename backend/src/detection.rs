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

use perfwatch_core::alerts::DetectSummary;

use crate::error::Result;
use crate::Store;

mod alerts;
mod announce;
mod production;
mod series;
mod settings;
mod write;

pub use alerts::{changepoint_alert, drift_alert, rule_applies, threshold_alert};
pub use settings::{DetectSettings, Scope, DETECT_WINDOW};

use announce::announce_new_groups;
use production::DeployMarkers;
use series::{fdr_masks, series_in_scope, PassInputs};
use write::{count_upserts, judge_thresholds, write_change_alerts};

/// Runs one detection pass over a project (by slug): read and detect on each series,
/// keep what survives Benjamini–Hochberg across the pass, upsert the alerts series by
/// series, judge the threshold rules, announce the new groups.
pub async fn detect_project(
    store: &Store,
    slug: &str,
    scope: Scope,
    settings: &DetectSettings,
) -> Result<DetectSummary> {
    let project = store.project(slug).await?;
    let inputs = PassInputs::load(store, &project, settings).await?;
    let series = series_in_scope(store, project.id, scope).await?;
    let mut summary = DetectSummary {
        series: series.len(),
        ..Default::default()
    };

    // Read and compute.
    let mut data = Vec::with_capacity(series.len());
    for info in series {
        let d = inputs.detect_series(store, info, settings).await?;
        summary.too_short += usize::from(d.too_short);
        summary.change_points_found += d.findings();
        data.push(d);
    }
    let masks = fdr_masks(&data, settings.fdr_q);

    // Write.
    let mut markers = DeployMarkers::of(project.id);
    for (d, mask) in data.iter().zip(masks) {
        let (kept, counts) = write_change_alerts(
            store,
            project.id,
            d,
            &mask,
            &mut markers,
            settings.move_tolerance,
        )
        .await?;
        summary.change_points_kept += kept;
        count_upserts(&mut summary, counts);
    }
    summary.threshold_alerts_created =
        judge_thresholds(store, project.id, &data, settings.threshold_history).await?;
    summary.groups = store.alert_counts(project.id).await?.1 as usize;
    let dry_run: Vec<i64> = data
        .iter()
        .filter(|d| d.is_dry_run())
        .map(|d| d.info.id)
        .collect();
    announce_new_groups(store, project.id, &dry_run).await?;
    Ok(summary)
}
