//! A run against its baseline: the use case behind `GET /api/v1/runs/{id}/baseline` and
//! `perfwatch submit|run --fail-on regression`.
//!
//! For every series of the run, the base samples are the raw samples of the main
//! branch's runs at the nearest main commit that has results for that series, searching
//! back from
//! * the commit before the run's own, for a run on main;
//! * the run's commit's parent, when that commit is on main;
//! * otherwise the newest main commit made no later than the run's commit.
//!
//! Read (one query for the bases of all series, `store/baseline.rs`), then compute
//! with the pure `perfwatch-compare`, nothing written.

use perfwatch_compare::{
    compare_all, CompareConfig, ComparisonSummary, SeriesComparison, SeriesInput,
};
use std::collections::HashMap;

use perfwatch_core::baseline::{BaselineInfo, BaselineKey, BaselineRule};
use perfwatch_core::view::{CommitInfo, MeasurementView};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::baseline::BaseSamples;
use crate::Store;

/// The verdict of one run against its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunVerdict {
    pub run_id: i64,
    pub project: String,
    pub branch: Option<String>,
    pub sha: Option<String>,
    pub base: BaselineInfo,
    pub summary: ComparisonSummary,
    /// One row per series of the run, in the run's series order.
    pub rows: Vec<SeriesComparison<BaselineKey>>,
}

/// Where to look for base samples.
enum Bound {
    /// Main-branch runs at commit order ≤ this.
    Ord(i64),
    /// Commit-less runs started before this (ms since the epoch).
    Time(i64),
}

/// Compares run `run_id` with its baseline on the project's main branch.
pub async fn compare_run_to_baseline(store: &Store, run_id: i64) -> Result<RunVerdict> {
    let run = store.run_detail(run_id).await?;
    let project = store.project(&run.project).await?;
    let main_id = store.branch_id(project.id, &project.main_branch).await?;
    let on_main = run.branch.as_deref() == Some(project.main_branch.as_str());
    let sha = run.commit.as_ref().map(|c| c.sha.clone());
    let (rule, reference, bound) = match (&run.commit, main_id) {
        (None, _) => (
            BaselineRule::EarlierInTime,
            None,
            Bound::Time(run.started_at),
        ),
        (Some(_), None) => (BaselineRule::LatestOnMain, None, Bound::Ord(-1)),
        (Some(c), Some(main)) => base_on_main(store, project.id, main, on_main, c).await?,
    };
    // One read for the bases of all series of the run.
    let bases = match (&bound, main_id) {
        (Bound::Ord(max), Some(main)) if *max >= 0 => {
            store.bases_at_ord(run_id, main, *max).await?
        }
        (Bound::Time(t), _) => store.bases_in_time(run_id, *t).await?,
        _ => Default::default(),
    };
    let (inputs, commits) = series_inputs(run.measurements, bases);
    let (rows, summary) = compare_all(inputs, &CompareConfig::default())
        .map_err(|e| StoreError::Data(format!("comparison settings: {e}")))?;
    Ok(RunVerdict {
        run_id,
        project: run.project,
        branch: run.branch,
        sha,
        base: BaselineInfo {
            branch: project.main_branch,
            rule,
            reference,
            max_ord: match bound {
                Bound::Ord(o) if (0..i64::MAX).contains(&o) => Some(o),
                _ => None,
            },
            commits,
        },
        summary,
        rows,
    })
}

/// Which main commit a run with a commit is compared with (the rules in the module
/// comment, in order): the rule, the commit it is reckoned from, and the bound.
async fn base_on_main(
    store: &Store,
    project_id: i64,
    main: i64,
    on_main: bool,
    c: &CommitInfo,
) -> Result<(BaselineRule, Option<String>, Bound)> {
    let own = if on_main {
        store.commit_order(project_id, Some(main), &c.sha).await?
    } else {
        None
    };
    if let Some(o) = own {
        return Ok((
            BaselineRule::PreviousOnMain,
            Some(c.sha.clone()),
            Bound::Ord(o - 1),
        ));
    }
    if let Some(p) = &c.parent {
        if let Some(o) = store.commit_order(project_id, Some(main), p).await? {
            return Ok((BaselineRule::Parent, Some(p.clone()), Bound::Ord(o)));
        }
    }
    let Some(t) = c.time else {
        return Ok((
            BaselineRule::LatestOnMain,
            c.parent.clone(),
            Bound::Ord(i64::MAX),
        ));
    };
    // `None`: every main commit is newer than this one, so there is no base.
    let ord = store.main_ord_at_time(main, t).await?.unwrap_or(-1);
    Ok((BaselineRule::CommitTime, c.parent.clone(), Bound::Ord(ord)))
}

/// The comparison inputs of the run's series with their bases, and the base commits
/// (newest first, each once).
fn series_inputs(
    measurements: Vec<MeasurementView>,
    mut bases: HashMap<i64, BaseSamples>,
) -> (Vec<SeriesInput<BaselineKey>>, Vec<String>) {
    let mut inputs = Vec::with_capacity(measurements.len());
    let mut commits: Vec<(i64, String)> = Vec::new();
    for m in measurements {
        let (base_samples, base_sha, base_runs) = match bases.remove(&m.series.id) {
            Some(b) => {
                if let (Some(s), Some(o)) = (&b.sha, b.ord) {
                    if !commits.iter().any(|(_, x)| x == s) {
                        commits.push((o, s.clone()));
                    }
                }
                (Some(b.samples), b.sha, b.runs)
            }
            None => (None, None, vec![]),
        };
        let s = m.series;
        inputs.push(SeriesInput {
            key: BaselineKey {
                series_id: s.id,
                benchmark: s.benchmark.clone(),
                measure: s.measure,
                params: s.params,
                testbed: s.testbed,
                unit: s.unit,
                base_sha,
                base_runs,
            },
            group: s.benchmark,
            direction: s.direction,
            base: base_samples,
            head: Some(m.samples),
        });
    }
    commits.sort_by_key(|c| std::cmp::Reverse(c.0));
    (inputs, commits.into_iter().map(|(_, s)| s).collect())
}
