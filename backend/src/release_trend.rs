//! The release trend of a service (docs/ui.md, "Release trend"): metric × release for
//! the last N release and deploy markers, each cell the deploy verdict of that metric
//! at that release — the change against what the previous release would have done at
//! those hours (the seasonal expectation), with its interval — and whether that is
//! better or worse given the metric's direction. Answers "slower or faster with this
//! release?" for every release at a glance. Read → compute (pure) → no write.

use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesInfo;
use perfwatch_detect::seasonal::{DeployVerdictKind, SeasonalConfig};
use serde::{Deserialize, Serialize};

use crate::deploy_verdicts::{judge_context, judge_with, production_series};
use crate::error::{Result, StoreError};
use crate::Store;

/// Most releases shown.
pub const MAX_RELEASES: usize = 30;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendRelease {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub time: i64,
}

/// How a verdict reads for the metric's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Reading {
    Better,
    Worse,
    Same,
    /// No data or inconclusive.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendCell {
    pub marker_id: i64,
    pub verdict: DeployVerdictKind,
    pub reading: Reading,
    pub change_pct: Option<f64>,
    pub low_pct: Option<f64>,
    pub high_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendRow {
    pub series: SeriesInfo,
    /// One per release, in the order of [`ReleaseTrend::releases`].
    pub cells: Vec<TrendCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseTrend {
    pub project: String,
    /// Oldest first.
    pub releases: Vec<TrendRelease>,
    pub rows: Vec<TrendRow>,
}

/// Better, worse or the same, from the verdict and the direction.
pub fn reading(verdict: DeployVerdictKind, direction: Direction) -> Reading {
    match (verdict, direction) {
        (DeployVerdictKind::Pass, _) => Reading::Same,
        (DeployVerdictKind::Higher, Direction::Higher)
        | (DeployVerdictKind::Lower, Direction::Lower) => Reading::Better,
        (DeployVerdictKind::Higher, Direction::Lower)
        | (DeployVerdictKind::Lower, Direction::Higher) => Reading::Worse,
        (DeployVerdictKind::NoData | DeployVerdictKind::Inconclusive, _) => Reading::Unknown,
    }
}

/// The trend over the last `last` release and deploy markers of `slug`.
pub async fn release_trend(
    store: &Store,
    slug: &str,
    last: usize,
    cfg: &SeasonalConfig,
) -> Result<ReleaseTrend> {
    if !(1..=MAX_RELEASES).contains(&last) {
        return Err(StoreError::invalid(
            "last",
            format!("1 to {MAX_RELEASES} releases"),
        ));
    }
    let project = store.project(slug).await?;
    let mut markers: Vec<_> = store
        .markers(project.id, None)
        .await?
        .into_iter()
        .filter(|m| m.kind == "deploy" || m.kind == "release")
        .collect();
    markers.sort_by_key(|m| (m.time, m.id));
    let markers = markers.split_off(markers.len().saturating_sub(last));
    let series = production_series(store, project.id).await?;
    let mut ctx = judge_context(store, project.id).await?;
    let mut rows: Vec<TrendRow> = series
        .iter()
        .map(|p| TrendRow {
            series: p.series.clone(),
            cells: Vec::with_capacity(markers.len()),
        })
        .collect();
    for m in &markers {
        // The same verdicts as the deploy page (corrected across the deploy's metrics).
        let verdicts = judge_with(&series, m.time, cfg, &mut ctx);
        for row in &mut rows {
            let Some(v) = verdicts.iter().find(|v| v.series.id == row.series.id) else {
                continue;
            };
            row.cells.push(TrendCell {
                marker_id: m.id,
                verdict: v.verdict.verdict,
                reading: reading(v.verdict.verdict, row.series.direction),
                change_pct: v.verdict.change_pct,
                low_pct: v.verdict.low_pct,
                high_pct: v.verdict.high_pct,
            });
        }
    }
    rows.sort_by(|a, b| {
        (&a.series.benchmark, &a.series.params).cmp(&(&b.series.benchmark, &b.series.params))
    });
    Ok(ReleaseTrend {
        project: project.slug,
        releases: markers
            .into_iter()
            .map(|m| TrendRelease {
                id: m.id,
                name: m.name,
                kind: m.kind,
                time: m.time,
            })
            .collect(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lower_value_is_better_only_when_lower_is_better() {
        use DeployVerdictKind as V;
        assert_eq!(reading(V::Lower, Direction::Lower), Reading::Better);
        assert_eq!(reading(V::Lower, Direction::Higher), Reading::Worse);
        assert_eq!(reading(V::Higher, Direction::Lower), Reading::Worse);
        assert_eq!(reading(V::Higher, Direction::Higher), Reading::Better);
        assert_eq!(reading(V::Pass, Direction::Higher), Reading::Same);
        assert_eq!(reading(V::NoData, Direction::Lower), Reading::Unknown);
        assert_eq!(reading(V::Inconclusive, Direction::Lower), Reading::Unknown);
    }
}
