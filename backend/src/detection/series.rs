//! The read-and-compute half of a pass: each series' points read in order, the
//! detector run on them (after the cycle of a production series is removed), and
//! Benjamini–Hochberg across every finding of the pass.

use std::collections::HashMap;

use perfwatch_core::alerts::RangeAxis;
use perfwatch_core::view::{ProjectInfo, SeriesInfo};
use perfwatch_detect::deseason::detect_production_with;
use perfwatch_detect::holidays::Holidays;
use perfwatch_detect::{
    detect, fdr::fdr_mask, ChangePoint, DetectConfig, DetectError, Detection, Drift,
};

use super::alerts::{changepoint_alert, drift_alert, drift_as_hypothesis, position};
use super::production::{production_of, Production};
use super::settings::{DetectSettings, Scope};
use crate::error::{Result, StoreError};
use crate::store::metric_sources::SeriesSchedule;
use crate::store::{DetectPoint, Matching, NewAlert};
use crate::Store;

/// What a pass reads once for all the series it covers.
pub(super) struct PassInputs {
    main_branch: Option<i64>,
    /// Newest points read per series (`None`: all).
    window: Option<usize>,
    /// What triage taught: series whose alerts were marked invalid ask for bigger changes.
    learned: HashMap<i64, f64>,
    schedules: Vec<SeriesSchedule>,
    /// Holiday points are replaced by the seasonal expectation: a holiday is not two changes.
    holidays: Holidays,
}

/// One series as read and detected on.
pub(super) struct SeriesData {
    pub(super) info: SeriesInfo,
    /// With a cut window: change points before this index are not raised, and alerts
    /// before its position are settled.
    settled_below: Option<usize>,
    pub(super) axis: RangeAxis,
    pub(super) points: Vec<DetectPoint>,
    change_points: Vec<ChangePoint>,
    drifts: Vec<Drift>,
    /// Too few points to test.
    pub(super) too_short: bool,
    /// Set for a production series: how its cycle was handled.
    pub(super) production: Option<Production>,
}

/// The series of the project a pass covers.
pub(super) async fn series_in_scope(
    store: &Store,
    project_id: i64,
    scope: Scope,
) -> Result<Vec<SeriesInfo>> {
    let all = store.list_series(project_id).await?;
    Ok(match scope {
        Scope::All => all,
        Scope::Series(ids) => all.into_iter().filter(|s| ids.contains(&s.id)).collect(),
    })
}

impl PassInputs {
    pub(super) async fn load(
        store: &Store,
        project: &ProjectInfo,
        settings: &DetectSettings,
    ) -> Result<Self> {
        Ok(Self {
            main_branch: store.branch_id(project.id, &project.main_branch).await?,
            window: settings.read_window(),
            learned: store.sensitivities(project.id).await?,
            schedules: store.series_schedules(project.id).await?,
            holidays: crate::holidays::calendar(store, project.id).await?,
        })
    }

    /// Reads one series and runs the detector on it.
    pub(super) async fn detect_series(
        &self,
        store: &Store,
        info: SeriesInfo,
        settings: &DetectSettings,
    ) -> Result<SeriesData> {
        let (axis, points, cut) = store
            .recent_detection_points(info.id, self.main_branch, self.window)
            .await?;
        let config = self.config_of(&info, &settings.config);
        let mut production = production_of(&info, axis, &points, &self.schedules);
        let found = self
            .run_detector(&points, production.as_mut(), &config)
            .map_err(|e| StoreError::Data(format!("detection on series {}: {e}", info.id)))?;
        let (change_points, drifts, too_short) = match found {
            Detection::TooShort { .. } => (vec![], vec![], true),
            Detection::Done {
                change_points,
                drifts,
            } => (change_points, drifts, false),
        };
        Ok(SeriesData {
            info,
            settled_below: cut.then_some(settings.config.incremental_margin),
            axis,
            points,
            change_points,
            drifts,
            too_short,
            production,
        })
    }

    /// The pass's detector settings, with what triage taught about this series.
    fn config_of(&self, info: &SeriesInfo, base: &DetectConfig) -> DetectConfig {
        let mut config = base.clone();
        if let Some(m) = self.learned.get(&info.id) {
            config.min_relative_change = config.min_relative_change.max(*m);
        }
        config
    }

    /// Detection on the medians; for a production series on the medians with its cycle
    /// removed (which `production` then records).
    fn run_detector(
        &self,
        points: &[DetectPoint],
        production: Option<&mut Production>,
        config: &DetectConfig,
    ) -> std::result::Result<Detection, DetectError> {
        match production {
            Some(p) => {
                let timed: Vec<(i64, f64)> = points.iter().map(|x| (x.time, x.median)).collect();
                detect_production_with(&timed, p.tz, &self.holidays, config).map(|(cycle, d)| {
                    p.cycle = cycle;
                    d
                })
            }
            None => {
                let values: Vec<f64> = points.iter().map(|p| p.median).collect();
                detect(&values, config)
            }
        }
    }
}

/// Which findings of each series survive Benjamini–Hochberg across the whole pass:
/// per series, its change points' flags, then its drifts'. A drift is one hypothesis
/// like a change point: its trend test's p-value joins the pool (as a change point at
/// its start, for the mask).
pub(super) fn fdr_masks(data: &[SeriesData], q: f64) -> Vec<Vec<bool>> {
    let lists: Vec<Vec<ChangePoint>> = data
        .iter()
        .map(|d| {
            let mut all = d.change_points.clone();
            all.extend(d.drifts.iter().map(drift_as_hypothesis));
            all
        })
        .collect();
    fdr_mask(&lists, q)
}

impl SeriesData {
    /// Change points and drifts found, before false-discovery-rate control.
    pub(super) fn findings(&self) -> usize {
        self.change_points.len() + self.drifts.len()
    }

    /// The alerts of the change points `mask` (from [`fdr_masks`]) keeps.
    pub(super) fn kept_change_alerts(&self, mask: &[bool]) -> Vec<NewAlert> {
        let (cp_mask, _) = mask.split_at(self.change_points.len());
        self.change_points
            .iter()
            .zip(cp_mask)
            .filter(|(_, k)| **k)
            .filter_map(|(cp, _)| changepoint_alert(&self.info, self.axis, &self.points, cp))
            .collect()
    }

    /// The alerts of the drifts `mask` (from [`fdr_masks`]) keeps.
    pub(super) fn kept_drift_alerts(&self, mask: &[bool]) -> Vec<NewAlert> {
        let (_, drift_mask) = mask.split_at(self.change_points.len());
        self.drifts
            .iter()
            .zip(drift_mask)
            .filter(|(_, k)| **k)
            .filter_map(|(dr, _)| drift_alert(&self.info, self.axis, &self.points, dr))
            .collect()
    }

    /// Drops alerts in the settled part of a cut window (their left segment is cut).
    pub(super) fn drop_settled(&self, alerts: &mut Vec<NewAlert>) {
        if let Some(edge) = self.settled_below {
            alerts.retain(|a| a.index >= edge);
        }
    }

    /// Every index the detection still finds, kept or not: a stored untriaged alert
    /// near none of them is retracted.
    pub(super) fn supported(&self) -> Vec<usize> {
        self.change_points
            .iter()
            .map(|c| c.index)
            .chain(self.drifts.iter().map(|dr| dr.start))
            .collect()
    }

    /// How stored alerts are matched with this pass's: within `tolerance` points, and
    /// none before the settled edge of a cut window.
    pub(super) fn matching(&self, tolerance: usize) -> Matching {
        Matching {
            tolerance,
            settled_before: self
                .settled_below
                .and_then(|i| self.points.get(i))
                .map(|p| position(self.axis, p)),
        }
    }

    /// A series of a dry-run schedule: its alerts notify no one.
    pub(super) fn is_dry_run(&self) -> bool {
        self.production.as_ref().is_some_and(|p| p.dry_run)
    }
}
