//! The events a subscription can receive, and what a finished comparison says.

use perfwatch_compare::{SeriesComparison, Verdict};
use perfwatch_core::alerts::TriageState;
use perfwatch_core::baseline::{BaselineKey, BaselineRule};
use serde::{Deserialize, Serialize};

use crate::baseline::RunVerdict;

pub const EVENTS: [&str; 3] = [
    "alert_group.created",
    "alert_group.state_changed",
    "comparison.finished",
];

/// Something subscribers may hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
// Events are few and short-lived (queued as JSON at once): boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    #[serde(rename = "alert_group.created")]
    GroupCreated { group_id: i64 },
    #[serde(rename = "alert_group.state_changed")]
    StateChanged {
        group_id: i64,
        from: TriageState,
        to: TriageState,
        actor: String,
    },
    /// A pull-request (non-main-branch) run compared with its main-branch baseline,
    /// emitted by `ingest::ingest_run`. Links are stored as paths and made absolute with
    /// the public URL when the message is rendered.
    #[serde(rename = "comparison.finished")]
    ComparisonFinished {
        run_id: i64,
        branch: Option<String>,
        head_sha: String,
        /// The head commit in the project's repository, when its URL is known.
        head_url: Option<String>,
        /// The newest base commit on main, when a baseline was found.
        base_sha: Option<String>,
        /// Human description of the base, e.g. `main at 0123456789 (parent of the head commit)`.
        base: String,
        total: usize,
        regressions: usize,
        improvements: usize,
        unchanged: usize,
        inconclusive: usize,
        /// Overall geomean change of head vs base, in %.
        geomean_pct: Option<f64>,
        /// The 5 biggest regressions and improvements, biggest change first.
        top_regressions: Vec<ChangeRow>,
        top_improvements: Vec<ChangeRow>,
        /// The compare page's path, `/projects/{slug}/compare?base=commit:…&head=run:…`,
        /// when a base commit is known.
        compare_path: Option<String>,
        /// `/runs/{id}`.
        run_path: String,
    },
}

/// One series of a finished comparison, as notifications carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub series_id: i64,
    pub benchmark: String,
    /// `k=v,k=v`, empty when none.
    pub params: String,
    pub measure: String,
    pub testbed: String,
    pub unit: String,
    pub change_pct: Option<f64>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub base_median: Option<f64>,
    pub head_median: Option<f64>,
}

/// The chart image of a series, absolute (`/api/v1/series/{id}/chart.svg`).
pub fn chart_image_url(base: &str, series_id: i64) -> String {
    format!("{base}/api/v1/series/{series_id}/chart.svg")
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GroupCreated { .. } => EVENTS[0],
            Self::StateChanged { .. } => EVENTS[1],
            Self::ComparisonFinished { .. } => EVENTS[2],
        }
    }
}

/// The `comparison.finished` event of a run's baseline comparison (pure); none for a
/// run without a commit.
pub fn comparison_event(v: &RunVerdict, head_url: Option<String>) -> Option<Event> {
    v.sha.as_ref()?;
    Some(finished_event(v, head_url))
}

/// What a run's baseline comparison says, as a `comparison.finished` event (the head
/// commit empty when the run has none): also what the CLI prints after a submission.
pub fn finished_event(v: &RunVerdict, head_url: Option<String>) -> Event {
    let head_sha = v.sha.clone().unwrap_or_default();
    let base_sha = v.base.commits.first().cloned();
    let short = |s: &str| s.chars().take(10).collect::<String>();
    let rule = match v.base.rule {
        BaselineRule::PreviousOnMain => "the commit before it on main",
        BaselineRule::Parent => "parent of the head commit",
        BaselineRule::CommitTime => "newest main commit no later than the head commit",
        BaselineRule::LatestOnMain => "newest main commit",
        BaselineRule::EarlierInTime => "earlier main-branch runs",
    };
    let base = match &base_sha {
        Some(b) if v.base.commits.len() > 1 => format!(
            "{} at {} ({rule}; {} series fall back to {} older commits)",
            v.base.branch,
            short(b),
            v.rows
                .iter()
                .filter(|r| r.key.base_sha.as_ref().is_some_and(|s| s != b))
                .count(),
            v.base.commits.len() - 1
        ),
        Some(b) => format!("{} at {} ({rule})", v.base.branch, short(b)),
        None => format!("no results on {} to compare with", v.base.branch),
    };
    let row = |r: &SeriesComparison<BaselineKey>| ChangeRow {
        series_id: r.key.series_id,
        benchmark: r.key.benchmark.clone(),
        params: r.key.params.clone(),
        measure: r.key.measure.clone(),
        testbed: r.key.testbed.clone(),
        unit: r.key.unit.clone(),
        change_pct: r.change_pct,
        p_value: r.p_value,
        p_adjusted: r.p_adjusted,
        base_median: r.base.as_ref().map(|s| s.median),
        head_median: r.head.as_ref().map(|s| s.median),
    };
    let top = |want: Verdict| {
        let mut rows: Vec<&SeriesComparison<BaselineKey>> =
            v.rows.iter().filter(|r| r.verdict == want).collect();
        rows.sort_by(|a, b| {
            let m = |r: &SeriesComparison<BaselineKey>| r.change_pct.map_or(0.0, f64::abs);
            m(b).total_cmp(&m(a))
        });
        rows.into_iter().take(5).map(row).collect::<Vec<_>>()
    };
    Event::ComparisonFinished {
        run_id: v.run_id,
        branch: v.branch.clone(),
        compare_path: base_sha.as_ref().map(|b| {
            format!(
                "/projects/{}/compare?base=commit:{b}&head=run:{}",
                v.project, v.run_id
            )
        }),
        run_path: format!("/runs/{}", v.run_id),
        head_sha,
        head_url,
        base_sha,
        base,
        total: v.summary.total,
        regressions: v.summary.regressions,
        improvements: v.summary.improvements,
        unchanged: v.summary.unchanged,
        inconclusive: v.summary.inconclusive,
        geomean_pct: v.summary.overall.change_pct,
        top_regressions: top(Verdict::Regression),
        top_improvements: top(Verdict::Improvement),
    }
}

/// The canonical event name: `comparison_finished` and the like (underscores for the
/// dot) are accepted as aliases.
pub fn canonical_event(name: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|e| **e == name || e.replace('.', "_") == name)
        .copied()
}
