//! What the main branch's history adds to a comparison: each series' run-to-run noise
//! and, for a release, the runs around its marker that share its level.
//!
//! * **Noise**: `perfwatch_compare::run_noise` over the series' last [`NOISE_RUNS`] run
//!   levels on the main branch (robust to past steps; see docs/statistics.md).
//! * **Release window**: the runs of the series on main strictly between the previous
//!   and the next release markers, cut by `perfwatch_compare::level_window` to the
//!   stretch at the release commit's level. A change committed a few commits before or
//!   after the marker therefore splits the window instead of being averaged into it,
//!   so the change is called at the release that ships it. At most [`WINDOW_HALF`]
//!   runs on either side of the release's run are taken. Without a noise estimate
//!   (fewer than 8 runs of history) the window is the runs at the release commit.

use std::collections::{BTreeSet, HashMap};

use perfwatch_compare::{level_window, run_noise, Noise, Scale};
use perfwatch_core::comparison::{SideInfo, SideSpec};
use perfwatch_core::view::ProjectInfo;

use crate::comparison::ResolvedSide;
use crate::error::{Result, StoreError};
use crate::store::{MainLevel, ReleaseRow};
use crate::Store;

/// Run levels of history the noise is estimated from (the most recent ones).
pub const NOISE_RUNS: usize = 200;

/// At most this many runs on either side of the release's own run join its window:
/// 31 runs decide a 3σ shift with certainty, and the pooled samples stay small.
pub const WINDOW_HALF: usize = 15;

/// Every series' run levels on the main branch, in commit order.
#[derive(Debug, Default)]
pub struct MainHistory {
    by_series: HashMap<i64, Vec<MainLevel>>,
    /// Commit order on main of each sha with results.
    ord_of_sha: HashMap<String, i64>,
    /// Start time of each main-branch run, for the time span of a release side.
    started_of_run: HashMap<i64, i64>,
}

impl MainHistory {
    pub async fn load(store: &Store, project: &ProjectInfo) -> Result<Self> {
        let Some(main) = store.branch_id(project.id, &project.main_branch).await? else {
            return Ok(Self::default());
        };
        Ok(Self::from_levels(
            store.main_levels(project.id, main).await?,
        ))
    }

    /// Only what the noise needs: each series' last [`NOISE_RUNS`] levels. Enough for
    /// every comparison without a release side, and its size does not grow with the
    /// history (see docs/benchmarks.md, "Soak").
    pub async fn load_recent(store: &Store, project: &ProjectInfo) -> Result<Self> {
        let Some(main) = store.branch_id(project.id, &project.main_branch).await? else {
            return Ok(Self::default());
        };
        let levels = store
            .recent_main_levels(project.id, main, NOISE_RUNS)
            .await?;
        Ok(Self::from_levels(levels))
    }

    fn from_levels(levels: Vec<MainLevel>) -> Self {
        let mut h = Self::default();
        for l in levels {
            if let (Some(sha), Some(ord)) = (&l.sha, l.ord) {
                h.ord_of_sha.entry(sha.clone()).or_insert(ord);
            }
            h.started_of_run.insert(l.run_id, l.started_at);
            h.by_series.entry(l.series_id).or_default().push(l);
        }
        h
    }

    /// Run-to-run noise of a series (its recent main-branch history).
    pub fn noise(&self, series_id: i64) -> Option<Noise> {
        let levels: Vec<f64> = self
            .by_series
            .get(&series_id)?
            .iter()
            .map(|l| l.median)
            .collect();
        let recent = &levels[levels.len().saturating_sub(NOISE_RUNS)..];
        let scale = Scale::choose(recent, &[])?;
        run_noise(recent, scale)
    }

    /// The commit order of a release's marker on main.
    fn marker_ord(&self, r: &ReleaseRow) -> Option<i64> {
        r.sha.as_ref().and_then(|s| self.ord_of_sha.get(s)).copied()
    }

    /// The window runs of one series for the release at `this` between markers
    /// `prev` and `next` (exclusive), as (run id, level).
    fn window(
        &self,
        series_id: i64,
        prev: Option<i64>,
        this: i64,
        next: Option<i64>,
    ) -> Vec<(i64, f64)> {
        let Some(all) = self.by_series.get(&series_id) else {
            return vec![];
        };
        let rows: Vec<&MainLevel> = all
            .iter()
            .filter(|l| {
                l.ord
                    .is_some_and(|o| prev.is_none_or(|p| o > p) && next.is_none_or(|n| o < n))
            })
            .collect();
        // The release's own run, else the last run before its commit, else the first
        // after it (a testbed that measures every fourth commit).
        let at = rows
            .iter()
            .position(|l| l.ord == Some(this))
            .or_else(|| rows.iter().rposition(|l| l.ord.is_some_and(|o| o < this)))
            .or_else(|| (!rows.is_empty()).then_some(0));
        let Some(at) = at else {
            return vec![];
        };
        let picked: Vec<&MainLevel> = match self.noise(series_id) {
            Some(noise) => {
                let x: Vec<f64> = rows.iter().map(|l| noise.scale.apply(l.median)).collect();
                if x.iter().all(|v| v.is_finite()) {
                    let w = level_window(&x, at, noise.sigma);
                    let lo = w.start.max(at.saturating_sub(WINDOW_HALF));
                    let hi = w.end.min(at + WINDOW_HALF + 1);
                    rows[lo..hi].to_vec()
                } else {
                    at_commit(&rows, rows[at].ord)
                }
            }
            None => at_commit(&rows, rows[at].ord),
        };
        picked.iter().map(|l| (l.run_id, l.median)).collect()
    }
}

fn at_commit<'a>(rows: &[&'a MainLevel], ord: Option<i64>) -> Vec<&'a MainLevel> {
    rows.iter().copied().filter(|l| l.ord == ord).collect()
}

/// Each release as a side: per series its window runs' pooled samples and levels.
/// `None` for a release whose commit has no results on main.
pub async fn release_sides(
    store: &Store,
    history: &MainHistory,
    releases: &[ReleaseRow],
) -> Result<Vec<Option<ResolvedSide>>> {
    let mut out = Vec::with_capacity(releases.len());
    for i in 0..releases.len() {
        out.push(release_at(store, history, releases, i).await?);
    }
    Ok(out)
}

/// Release `i` of `releases` (oldest first) as a side.
async fn release_at(
    store: &Store,
    history: &MainHistory,
    releases: &[ReleaseRow],
    i: usize,
) -> Result<Option<ResolvedSide>> {
    let ords: Vec<Option<i64>> = releases.iter().map(|r| history.marker_ord(r)).collect();
    let Some(this) = ords[i] else {
        return Ok(None);
    };
    let prev = ords[..i].iter().rev().flatten().next().copied();
    let next = ords[i + 1..].iter().flatten().next().copied();
    let mut windows: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    for &series in history.by_series.keys() {
        let w = history.window(series, prev, this, next);
        if !w.is_empty() {
            windows.insert(series, w);
        }
    }
    Ok(Some(side_of(store, history, &releases[i], windows).await?))
}

/// The release named `name` as a side (see [`release_sides`]).
pub async fn release_side(
    store: &Store,
    project: &ProjectInfo,
    history: &MainHistory,
    name: &str,
    field: &str,
) -> Result<ResolvedSide> {
    let releases = store.releases(project.id).await?;
    let i = releases
        .iter()
        .position(|r| r.name == name)
        .ok_or_else(|| StoreError::NotFound(format!("release '{name}'")))?;
    if releases[i].sha.is_none() {
        return Err(StoreError::invalid(
            field,
            format!("release '{name}' names no commit"),
        ));
    }
    release_at(store, history, &releases, i)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("results at the commit of release '{name}'")))
}

async fn side_of(
    store: &Store,
    history: &MainHistory,
    r: &ReleaseRow,
    windows: HashMap<i64, Vec<(i64, f64)>>,
) -> Result<ResolvedSide> {
    let runs: BTreeSet<i64> = windows.values().flatten().map(|(id, _)| *id).collect();
    let runs: Vec<i64> = runs.into_iter().collect();
    let by_run = store.samples_by_run(&runs).await?;
    let meta = store.run_shas(&runs).await?;
    let mut samples = HashMap::new();
    let mut levels = HashMap::new();
    for (series, w) in windows {
        let pooled: Vec<f64> = w
            .iter()
            .flat_map(|(run, _)| by_run.get(&(series, *run)).into_iter().flatten().copied())
            .collect();
        samples.insert(series, pooled);
        levels.insert(series, w.iter().map(|(_, l)| *l).collect());
    }
    let commits: BTreeSet<String> = meta.values().cloned().collect();
    let sha = r.sha.clone().unwrap_or_default();
    let label = format!(
        "release:{} at {} ({} run{} on main at its level, {} commit{})",
        r.name,
        &sha[..sha.len().min(10)],
        runs.len(),
        if runs.len() == 1 { "" } else { "s" },
        commits.len(),
        if commits.len() == 1 { "" } else { "s" },
    );
    Ok(ResolvedSide {
        info: SideInfo {
            spec: SideSpec::Release(r.name.clone()),
            label,
            // The span of the runs the side pools, so its chart link frames them.
            from_time: runs
                .iter()
                .filter_map(|r| history.started_of_run.get(r))
                .min()
                .copied(),
            to_time: runs
                .iter()
                .filter_map(|r| history.started_of_run.get(r))
                .max()
                .copied(),
            runs,
            commits: commits.into_iter().collect(),
            branch: None,
        },
        samples,
        levels,
    })
}
