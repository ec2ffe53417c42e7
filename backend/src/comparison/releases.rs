//! The release timeline: each release compared with the previous one (the main-branch
//! history decides which runs stand for a release), and one series' medians with their
//! intervals across releases.

use perfwatch_compare::CompareConfig;
use perfwatch_core::comparison::{CompareSpec, ReleasePoint, ReleaseStep, ReleasesView};

use super::{build_view_with_history, ResolvedSide};
use crate::comparison_history::{release_sides, MainHistory};
use crate::error::Result;
use crate::Store;

/// The release timeline of project `slug`, with the points of `series_id` (or of the
/// project's first series).
pub async fn releases(store: &Store, slug: &str, series_id: Option<i64>) -> Result<ReleasesView> {
    let project = store.project(slug).await?;
    let releases = store.releases(project.id).await?;
    let series = store.list_series(project.id).await?;
    let chosen = series_id
        .and_then(|id| series.iter().find(|s| s.id == id))
        .or(series.first())
        .cloned();
    let history = MainHistory::load(store, &project).await?;
    let resolved: Vec<Option<ResolvedSide>> = release_sides(store, &history, &releases).await?;
    let mut steps = Vec::new();
    let mut points = Vec::new();
    for (i, r) in releases.iter().enumerate() {
        if let (Some(s), Some(side)) = (&chosen, &resolved[i]) {
            if let Some(samples) = side.samples.get(&s.id) {
                let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
                if !v.is_empty() {
                    v.sort_by(f64::total_cmp);
                    let ci = perfwatch_compare::median_ci::median_ci_sorted(&v, 0.95);
                    points.push(ReleasePoint {
                        release: r.name.clone(),
                        at: r.at,
                        median: ci.median,
                        ci_low: ci.low,
                        ci_high: ci.high,
                        n: v.len(),
                    });
                }
            }
        }
        let previous = i.checked_sub(1).map(|p| releases[p].name.clone());
        let mut step = ReleaseStep {
            name: r.name.clone(),
            previous: previous.clone(),
            at: r.at,
            query: None,
            summary: None,
            note: None,
        };
        match (i.checked_sub(1).map(|p| &resolved[p]), &resolved[i]) {
            (None, _) => step.note = Some("first release".into()),
            (Some(None), _) | (_, None) => {
                step.note = Some("no results at one of the two release commits".into())
            }
            (Some(Some(base)), Some(head)) => {
                let spec = CompareSpec {
                    base: Some(base.info.spec.clone()),
                    head: Some(head.info.spec.clone()),
                    ..Default::default()
                };
                step.query = Some(spec.to_query_string());
                let view = build_view_with_history(
                    &project,
                    spec,
                    false,
                    (base.clone(), head.clone()),
                    &series,
                    Some((&history, true)),
                    &CompareConfig::default(),
                );
                step.summary = Some(view.summary);
            }
        }
        steps.push(step);
    }
    Ok(ReleasesView {
        project,
        steps,
        series,
        chosen,
        points,
    })
}
