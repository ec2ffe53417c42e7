//! The comparison use case: resolve both sides to runs, read their samples, compare
//! (pure, `perfwatch-compare`), map into the read model. Read → compute → no write.
//!
//! * A side is every run at a commit, at a branch head, one run, the commit of a
//!   release, or every run in a time window; samples of one series over those runs
//!   are pooled. The testbed is part of the series, so testbeds never mix.
//! * Default base (no `base`): for a head `branch:X` with X not the main branch, the
//!   main branch's results at the merge-base, approximated as the latest main-branch
//!   commit with results whose time is at or before the branch's first commit time.
//! * Geomean groups: the benchmark suite, i.e. the benchmark name up to its first `/`
//!   (`BenchmarkInsert/size=10` → `BenchmarkInsert`).

use std::collections::{BTreeSet, HashMap};

pub use perfwatch_compare::CompareConfig;
use perfwatch_core::comparison::{CompareSpec, ComparisonView, SideInfo, SideSpec};
use perfwatch_core::view::ProjectInfo;

use crate::comparison_history::{release_side, MainHistory};
use crate::error::{Result, StoreError};
use crate::store::SideRun;
use crate::Store;

mod releases;
mod view;
pub use releases::releases;
pub use view::{build_view, build_view_with_history};

/// A resolved side: what it is and its pooled samples per series.
#[derive(Debug, Clone)]
pub struct ResolvedSide {
    pub info: SideInfo,
    pub samples: HashMap<i64, Vec<f64>>,
    /// Run levels (medians) per series, one per run of the side.
    pub levels: HashMap<i64, Vec<f64>>,
}

/// The suite a benchmark belongs to: its name up to the first `/`.
pub fn suite(benchmark: &str) -> String {
    benchmark.split('/').next().unwrap_or(benchmark).to_string()
}

/// Compares two sides of a project and applies the spec's filters and sort.
pub async fn compare(store: &Store, slug: &str, spec: &CompareSpec) -> Result<ComparisonView> {
    let project = store.project(slug).await?;
    let head_spec = spec.head.clone().ok_or_else(|| {
        StoreError::invalid("head", "required: what to compare (e.g. branch:my-pr)")
    })?;
    // A release side needs the whole main history (its window between markers); any
    // other comparison only the recent levels the noise is estimated from.
    let is_release = |s: &SideSpec| matches!(s, SideSpec::Release(_));
    let history = if is_release(&head_spec) || spec.base.as_ref().is_some_and(is_release) {
        MainHistory::load(store, &project).await?
    } else {
        MainHistory::load_recent(store, &project).await?
    };
    let head = side(store, &project, &history, &head_spec, "head").await?;
    let (base, base_defaulted) = match &spec.base {
        Some(b) => (side(store, &project, &history, b, "base").await?, false),
        None => (default_base(store, &project, &head_spec).await?, true),
    };
    let mut spec = spec.clone();
    spec.base = Some(base.info.spec.clone());
    let series = store.list_series(project.id).await?;
    let releases = matches!(base.info.spec, SideSpec::Release(_))
        || matches!(head.info.spec, SideSpec::Release(_));
    Ok(build_view_with_history(
        &project,
        spec,
        base_defaulted,
        (base, head),
        &series,
        Some((&history, releases)),
        &CompareConfig::default(),
    ))
}

/// A side, with a release read as its window on main (see `comparison_history`).
async fn side(
    store: &Store,
    project: &ProjectInfo,
    history: &MainHistory,
    spec: &SideSpec,
    field: &str,
) -> Result<ResolvedSide> {
    match spec {
        SideSpec::Release(name) => release_side(store, project, history, name, field).await,
        _ => resolve_side(store, project, spec, field).await,
    }
}

/// The master baseline of a branch head (see the module docs).
pub async fn default_base(
    store: &Store,
    project: &ProjectInfo,
    head: &SideSpec,
) -> Result<ResolvedSide> {
    let SideSpec::Branch(branch) = head else {
        return Err(StoreError::invalid(
            "base",
            "required unless head is a branch other than the main branch",
        ));
    };
    if *branch == project.main_branch {
        return Err(StoreError::invalid(
            "base",
            "required when head is the main branch",
        ));
    }
    let start = store
        .branch_start_time(project.id, branch)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("branch '{branch}'")))?;
    let runs = store
        .runs_at_main_before(project.id, &project.main_branch, start)
        .await?;
    let Some(sha) = runs.first().and_then(|r| r.sha.clone()) else {
        return Err(StoreError::invalid(
            "base",
            format!(
                "no results on '{}' at or before the start of '{branch}': give a base",
                project.main_branch
            ),
        ));
    };
    side_from_runs(store, SideSpec::Commit(sha), runs).await
}

/// Which runs a side means, and their pooled samples.
pub async fn resolve_side(
    store: &Store,
    project: &ProjectInfo,
    side: &SideSpec,
    field: &str,
) -> Result<ResolvedSide> {
    let runs = match side {
        SideSpec::Commit(prefix) => store.runs_at_commit(project.id, prefix, field).await?,
        SideSpec::Branch(b) => store.runs_at_branch_head(project.id, b).await?,
        SideSpec::Run(id) => store.run_of_project(project.id, *id).await?,
        SideSpec::Release(name) => {
            let release = store
                .releases(project.id)
                .await?
                .into_iter()
                .find(|r| r.name == *name)
                .ok_or_else(|| StoreError::NotFound(format!("release '{name}'")))?;
            let sha = release.sha.ok_or_else(|| {
                StoreError::invalid(field, format!("release '{name}' names no commit"))
            })?;
            store.runs_at_commit(project.id, &sha, field).await?
        }
        SideSpec::Time { from, to } => {
            let runs = store.runs_in_window(project.id, *from, *to).await?;
            if runs.is_empty() {
                return Err(StoreError::NotFound(format!("runs in {}", side.to_text())));
            }
            runs
        }
    };
    side_from_runs(store, side.clone(), runs).await
}

/// Why a run is invalid, readable: the stored JSON array of reasons joined by `; `.
pub fn invalid_reason_text(stored: &str) -> String {
    perfwatch_core::validity::reason_text(stored)
}

/// The runs of a side and their samples. Invalid runs (the load runner's validity gate)
/// are named in the label but left out of the samples, so they never move a verdict; a
/// side with no valid run is an error naming the reason, never "no change".
pub async fn side_from_runs(
    store: &Store,
    spec: SideSpec,
    runs: Vec<SideRun>,
) -> Result<ResolvedSide> {
    let (runs, invalid): (Vec<SideRun>, Vec<SideRun>) =
        runs.into_iter().partition(|r| r.invalid_reason.is_none());
    let reasons: Vec<String> = invalid
        .iter()
        .filter_map(|r| r.invalid_reason.as_deref())
        .map(invalid_reason_text)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if runs.is_empty() && !invalid.is_empty() {
        return Err(StoreError::invalid(
            "runs",
            format!(
                "{}: every run is invalid ({}), so there is nothing to compare",
                spec.to_text(),
                reasons.join("; ")
            ),
        ));
    }
    let ids: Vec<i64> = runs.iter().map(|r| r.run_id).collect();
    let samples = store.pooled_samples(&ids).await?;
    let levels = store.run_levels(&ids).await?;
    let commits: Vec<String> = runs
        .iter()
        .filter_map(|r| r.sha.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let branch = runs.iter().find_map(|r| r.branch.clone());
    let at = match commits.as_slice() {
        [one] => format!(" at {}", &one[..one.len().min(10)]),
        [] => String::new(),
        many => format!(" over {} commits", many.len()),
    };
    let left_out = if invalid.is_empty() {
        String::new()
    } else {
        format!(
            "; {} invalid run{} left out: {}",
            invalid.len(),
            if invalid.len() == 1 { "" } else { "s" },
            reasons.join("; ")
        )
    };
    let label = format!(
        "{}{at} ({} run{}{left_out})",
        spec.to_text(),
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    );
    Ok(ResolvedSide {
        info: SideInfo {
            spec,
            label,
            from_time: runs.iter().map(|r| r.started_at).min(),
            to_time: runs.iter().map(|r| r.started_at).max(),
            runs: ids,
            commits,
            branch,
        },
        samples,
        levels,
    })
}
