//! The deploy page's sparklines (docs/ui.md, "Deploy page"): per production series,
//! the day before and after a deploy with the seasonal expected band
//! ([`perfwatch_detect::band`], scaled by the level before the deploy like the verdict),
//! the observed points, how many of the points after the deploy fall outside the band,
//! and the query that reads the series with a link to the source's graph over the same
//! range. Read → compute (pure) → no write.

use perfwatch_detect::band::{outside, seasonal_band, Band, BandConfig, Level};
use perfwatch_detect::seasonal::SeasonalConfig;
use serde::{Deserialize, Serialize};

use crate::deploy_verdicts::{marker, production_series, Production};
use crate::error::Result;
use crate::store::metric_sources::SeriesSchedule;
use crate::Store;

/// Hours drawn on either side of the deploy.
pub const SPAN_H: i64 = 24;

/// The query behind a scheduled series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceQuery {
    pub source: String,
    /// The PromQL as evaluated for one point (`{{window}}` = the schedule's step).
    pub text: String,
    /// The source's own graph of the query over the sparkline's range.
    pub graph_url: Option<String>,
}

/// One series around a deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sparkline {
    pub series_id: i64,
    pub from: i64,
    pub to: i64,
    pub deploy: i64,
    /// Observed points in `[from, to]`.
    pub observed: Vec<(i64, f64)>,
    pub band: Band,
    /// Points from the deploy on, and how many of them lie outside the band.
    pub after: usize,
    pub after_outside: usize,
    pub query: Option<SourceQuery>,
}

/// Sparklines of every production series of `slug` around marker `marker_id`.
pub async fn deploy_sparklines(
    store: &Store,
    slug: &str,
    marker_id: i64,
    cfg: &SeasonalConfig,
) -> Result<Vec<Sparkline>> {
    let project = store.project(slug).await?;
    let m = marker(store, project.id, marker_id).await?;
    let series = production_series(store, project.id).await?;
    let mut out = Vec::with_capacity(series.len());
    for p in &series {
        let mut s = sparkline(p, m.time, cfg);
        if let Some(sc) = &p.schedule {
            s.query = source_query(store, sc, s.from, s.to).await;
        }
        out.push(s);
    }
    Ok(out)
}

/// The sparkline of one series around `deploy` (pure).
pub fn sparkline(p: &Production, deploy: i64, cfg: &SeasonalConfig) -> Sparkline {
    let (from, to) = (deploy - SPAN_H * 3_600_000, deploy + SPAN_H * 3_600_000);
    let band = seasonal_band(
        &p.points,
        from,
        to,
        &BandConfig {
            weeks: cfg.weeks,
            level_ms: cfg.level_ms,
            level: Level::Anchored(deploy),
            tz: p.tz,
            max_points: 200,
        },
    );
    let observed: Vec<(i64, f64)> = p
        .points
        .iter()
        .copied()
        .filter(|(t, _)| (from..=to).contains(t))
        .collect();
    let after: Vec<&(i64, f64)> = observed.iter().filter(|(t, _)| *t >= deploy).collect();
    let after_outside = after
        .iter()
        .filter(|(t, v)| outside(&band, *t, *v) == Some(true))
        .count();
    Sparkline {
        series_id: p.series.id,
        from,
        to,
        deploy,
        after: after.len(),
        after_outside,
        observed,
        band,
        query: None,
    }
}

/// The schedule's query text and the source's graph URL (None when the source or
/// query is gone, or its config no longer parses: the page then shows no link).
async fn source_query(
    store: &Store,
    sc: &SeriesSchedule,
    from: i64,
    to: i64,
) -> Option<SourceQuery> {
    let row = store.metric_schedule(sc.schedule_id).await.ok()?;
    let src = store.metric_source_by_id(row.source_id).await.ok()?;
    let table: toml::Table = toml::from_str(&src.config).ok()?;
    let (prom, queries) = perfwatch_sources::parse_metrics_table(&table).ok()?;
    let spec = queries.into_iter().find(|q| q.name == row.query_name)?;
    let end = chrono::DateTime::from_timestamp_millis(to)?;
    let vars = perfwatch_sources::WindowVars {
        start: end - chrono::Duration::seconds(row.step_s),
        end,
        run_id: None,
        commit: None,
    };
    let text = perfwatch_sources::expand(&spec.template, &vars).ok()?;
    Some(SourceQuery {
        source: src.name,
        graph_url: graph_url(&prom.base_url, &text, from, to),
        text,
    })
}

/// Prometheus's graph page (`/graph?g0.expr=…`) over `[from, to]`; Thanos, Mimir's
/// and VictoriaMetrics' Prometheus-compatible UIs read the same parameters.
pub fn graph_url(base: &str, expr: &str, from: i64, to: i64) -> Option<String> {
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let mut u = url::Url::parse(&base).ok()?.join("graph").ok()?;
    let end = chrono::DateTime::from_timestamp_millis(to)?;
    let hours = ((to - from) / 3_600_000).max(1);
    u.query_pairs_mut()
        .append_pair("g0.expr", expr)
        .append_pair("g0.tab", "0")
        .append_pair("g0.range_input", &format!("{hours}h"))
        .append_pair("g0.end_input", &end.format("%Y-%m-%d %H:%M:%S").to_string());
    Some(u.to_string())
}

#[cfg(test)]
mod tests {
    use super::graph_url;

    #[test]
    fn the_graph_link_keeps_a_path_prefix_and_encodes_the_query() {
        let u = graph_url(
            "https://mimir.example/prometheus",
            "sum(rate(jobs_total[5m]))",
            0,
            48 * 3_600_000,
        )
        .unwrap();
        assert_eq!(
            u,
            "https://mimir.example/prometheus/graph?g0.expr=sum%28rate%28jobs_total%5B5m%5D%29%29\
             &g0.tab=0&g0.range_input=48h&g0.end_input=1970-01-03+00%3A00%3A00"
        );
        assert!(graph_url("not a url", "x", 0, 1).is_none());
    }
}
