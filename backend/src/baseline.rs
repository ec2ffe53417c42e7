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
use perfwatch_core::baseline::{BaselineInfo, BaselineKey, BaselineRule};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
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
        (Some(c), Some(main)) => {
            let own = if on_main {
                store.commit_order(project.id, Some(main), &c.sha).await?
            } else {
                None
            };
            let parent = match (&c.parent, own) {
                (Some(p), None) => store
                    .commit_order(project.id, Some(main), p)
                    .await?
                    .map(|o| (p.clone(), o)),
                _ => None,
            };
            if let Some(o) = own {
                (
                    BaselineRule::PreviousOnMain,
                    Some(c.sha.clone()),
                    Bound::Ord(o - 1),
                )
            } else if let Some((p, o)) = parent {
                (BaselineRule::Parent, Some(p), Bound::Ord(o))
            } else if let Some(o) = match c.time {
                Some(t) => store.main_ord_at_time(main, t).await?,
                None => None,
            } {
                (BaselineRule::CommitTime, c.parent.clone(), Bound::Ord(o))
            } else if c.time.is_some() {
                // Every main commit is newer than this one: no base.
                (BaselineRule::CommitTime, c.parent.clone(), Bound::Ord(-1))
            } else {
                (
                    BaselineRule::LatestOnMain,
                    c.parent.clone(),
                    Bound::Ord(i64::MAX),
                )
            }
        }
    };

    // One read for the bases of all series of the run.
    let mut bases = match (&bound, main_id) {
        (Bound::Ord(max), Some(main)) if *max >= 0 => {
            store.bases_at_ord(run_id, main, *max).await?
        }
        (Bound::Time(t), _) => store.bases_in_time(run_id, *t).await?,
        _ => Default::default(),
    };
    let mut inputs = Vec::with_capacity(run.measurements.len());
    let mut commits: Vec<(i64, String)> = Vec::new();
    for m in run.measurements {
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
            commits: commits.into_iter().map(|(_, s)| s).collect(),
        },
        summary,
        rows,
    })
}
