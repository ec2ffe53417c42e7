//! Change-point alerts of one series: this detection's change points matched to the
//! stored alerts (a match moved as data arrived), then retractions, updates and new
//! alerts written in one transaction under the project's lock.

use perfwatch_core::alerts::{match_moved, SuspectRange};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{
    insert_alert, lock_project, update_alert, DetectPoint, Matching, NewAlert, UpsertCounts,
};
use crate::error::Result;
use crate::store::alert_groups::{assign_group, refresh_group};
use crate::store::{Store, WriteTx};
use crate::time::now_ms;

/// Where an existing change-point alert sits.
struct Existing {
    id: i64,
    first_bad_run_id: i64,
    last_good_run_id: Option<i64>,
    range: SuspectRange,
    direction: String,
    before_median: f64,
    after_median: f64,
    p_value: Option<f64>,
    group_id: Option<i64>,
    status: String,
    /// `changepoint` or `drift`: a staircase of change points can become a drift (and
    /// back) as history grows; the alert stays one alert and takes the new kind.
    kind: String,
    details: Option<String>,
}

impl Existing {
    fn from_row(r: &AnyRow) -> Result<Self> {
        Ok(Self {
            id: r.try_get("id")?,
            first_bad_run_id: r.try_get("first_bad_run_id")?,
            last_good_run_id: r.try_get("last_good_run_id")?,
            range: SuspectRange {
                lo: r.try_get("range_lo")?,
                hi: r.try_get("range_hi")?,
            },
            direction: r.try_get("direction")?,
            before_median: r.try_get("before_median")?,
            after_median: r.try_get("after_median")?,
            p_value: r.try_get("p_value")?,
            group_id: r.try_get("group_id")?,
            status: r.try_get("status")?,
            kind: r.try_get("kind")?,
            details: r.try_get("details")?,
        })
    }

    /// Whether the new alert says exactly what this one already does.
    fn says_same_as(&self, a: &NewAlert) -> bool {
        self.first_bad_run_id == a.first_bad_run_id
            && self.last_good_run_id == a.last_good_run_id
            && self.range == a.range
            && self.direction == a.direction.as_str()
            && same(self.before_median, a.before_median)
            && same(self.after_median, a.after_median)
            && self.p_value.zip(a.p_value).is_none_or(|(x, y)| same(x, y))
            && self.kind == a.kind.as_str()
            && self.details == a.details
    }
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
}

/// How this detection's change points meet the stored alerts.
#[derive(Debug, PartialEq, Eq)]
struct Reconciled {
    /// Per new alert, the stored alert it is (an index into the stored ones).
    matches: Vec<Option<usize>>,
    /// The stored alerts to retract, in stored order.
    retract: Vec<usize>,
}

/// Matches the new alerts to the stored ones and picks the stored ones to retract:
/// untriaged, unmatched, not settled and with no supported change point near.
fn reconcile(
    existing: &[Existing],
    points: &[DetectPoint],
    alerts: &[NewAlert],
    supported: &[usize],
    matching: Matching,
) -> Reconciled {
    let Matching {
        tolerance,
        settled_before,
    } = matching;
    // Settled alerts lie before what this detection judged: they neither match nor
    // are retracted.
    let settled: Vec<bool> = existing
        .iter()
        .map(|e| settled_before.is_some_and(|b| e.range.hi < b))
        .collect();
    let positions: Vec<Option<usize>> = existing
        .iter()
        .zip(&settled)
        .map(|(e, s)| {
            (!s).then(|| points.iter().position(|p| p.run_id == e.first_bad_run_id))
                .flatten()
        })
        .collect();
    let new_pos: Vec<usize> = alerts.iter().map(|a| a.index).collect();
    let matches = match_moved(&positions, &new_pos, tolerance);
    let mut matched = vec![false; existing.len()];
    for ei in matches.iter().flatten() {
        matched[*ei] = true;
    }
    let retract = existing
        .iter()
        .enumerate()
        .filter(|(ei, e)| {
            let near = positions[*ei]
                .is_some_and(|p| supported.iter().any(|s| s.abs_diff(p) <= tolerance));
            !(matched[*ei] || near || settled[*ei] || e.status != "untriaged")
        })
        .map(|(ei, _)| ei)
        .collect();
    Reconciled { matches, retract }
}

impl Store {
    /// Creates or updates the change-point alerts of one series. An alert whose first
    /// bad point lies within `tolerance` points of a new change point is that change
    /// point's alert (it moved as data arrived) and is updated; the others are created.
    ///
    /// An existing alert that matches nothing is retracted (deleted) when it is still
    /// untriaged and no change point of the current detection (`supported`: every
    /// change point found, before false-discovery-rate control) lies within `tolerance`
    /// of it: it was an artefact of a shorter history. Triaged alerts always stay.
    pub async fn upsert_changepoint_alerts(
        &self,
        project_id: i64,
        series_id: i64,
        points: &[DetectPoint],
        alerts: &[NewAlert],
        supported: &[usize],
        tolerance: usize,
    ) -> Result<UpsertCounts> {
        let matching = Matching {
            tolerance,
            settled_before: None,
        };
        self.upsert_changepoint_alerts_in(
            project_id, series_id, points, alerts, supported, matching,
        )
        .await
    }

    /// [`Store::upsert_changepoint_alerts`] for a detection that saw only the newest part
    /// of the series: alerts before [`Matching::settled_before`] are left as they are.
    pub async fn upsert_changepoint_alerts_in(
        &self,
        project_id: i64,
        series_id: i64,
        points: &[DetectPoint],
        alerts: &[NewAlert],
        supported: &[usize],
        matching: Matching,
    ) -> Result<UpsertCounts> {
        // Nothing to write and nothing to retract: no write transaction at all.
        if alerts.is_empty() && !self.has_changepoint_alerts(series_id).await? {
            return Ok(UpsertCounts::default());
        }
        let mut tx = self.begin_write().await?;
        lock_project(&mut tx, project_id).await?;
        let existing = changepoint_alerts(&mut tx, series_id).await?;
        let plan = reconcile(&existing, points, alerts, supported, matching);
        let now = now_ms();
        let mut counts = UpsertCounts::default();
        for ei in plan.retract {
            retract(&mut tx, &existing[ei], now).await?;
            counts.retracted += 1;
        }
        for (a, m) in alerts.iter().zip(plan.matches) {
            match m.map(|ei| &existing[ei]) {
                Some(e) if e.says_same_as(a) => counts.unchanged += 1,
                Some(e) => {
                    update_moved(&mut tx, project_id, e, a, now).await?;
                    counts.updated += 1;
                }
                None => {
                    let id = insert_alert(&mut tx, project_id, a, now).await?;
                    assign_group(&mut tx, project_id, id, a.axis, a.range, None, now).await?;
                    counts.created += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(counts)
    }

    async fn has_changepoint_alerts(&self, series_id: i64) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM alerts WHERE series_id = $1 AND kind IN ('changepoint', 'drift')",
        )
        .bind(series_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}

/// The series' stored change-point and drift alerts, oldest first.
async fn changepoint_alerts(tx: &mut WriteTx, series_id: i64) -> Result<Vec<Existing>> {
    let rows = sqlx::query(
        "SELECT id, first_bad_run_id, last_good_run_id, range_lo, range_hi, direction, before_median,
                after_median, p_value, group_id, status, kind, details
         FROM alerts WHERE series_id = $1 AND kind IN ('changepoint', 'drift') ORDER BY id",
    )
    .bind(series_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(Existing::from_row).collect()
}

/// Deletes an alert the detection no longer supports; its group's summary follows.
async fn retract(tx: &mut WriteTx, e: &Existing, now: i64) -> Result<()> {
    sqlx::query("DELETE FROM alerts WHERE id = $1")
        .bind(e.id)
        .execute(&mut **tx)
        .await?;
    if let Some(g) = e.group_id {
        refresh_group(tx, g, now).await?;
    }
    Ok(())
}

/// Rewrites a stored alert with what the detection says now; a moved range (or an
/// alert without a group) is grouped again.
async fn update_moved(
    tx: &mut WriteTx,
    project_id: i64,
    e: &Existing,
    a: &NewAlert,
    now: i64,
) -> Result<()> {
    update_alert(tx, e.id, a, now).await?;
    if e.range != a.range || e.group_id.is_none() {
        assign_group(tx, project_id, e.id, a.axis, a.range, e.group_id, now).await?;
    }
    Ok(())
}
