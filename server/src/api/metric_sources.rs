//! Metric sources over REST (docs/metrics.md): a project's sources (admins) and the
//! collection of a source over a run's window (`POST /api/v1/runs/{id}/metrics`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::accounts::Right;
use perfwatch_backend::window_metrics::{
    list_sources, put_source, request, SourceInput, SourceView,
};
use serde::Deserialize;

use super::bodies::{CollectQueued, ScheduleCreated};

use super::auth::Who;
use super::error::{ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;

/// `GET /api/v1/projects/{slug}/metric-sources` (admins: URLs may be internal).
#[utoipa::path(
    get,
    path = "/projects/{slug}/metric-sources",
    tag = "metrics",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The project's metric sources (no tokens)", body = Vec<perfwatch_backend::window_metrics::SourceView>), ApiErrors)
)]
pub async fn list(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<SourceView>>> {
    let id = st.store.project(&slug).await?.id;
    actor.require(Right::Admin, Some(id))?;
    Ok(Json(list_sources(&st.store, &slug).await?))
}

/// `PUT /api/v1/projects/{slug}/metric-sources/{name}`: checked at save time.
#[utoipa::path(
    put,
    path = "/projects/{slug}/metric-sources/{name}",
    tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("name" = String, Path, description = "Source name")),
    request_body(content = perfwatch_backend::window_metrics::SourceInput, example = json!({"config": "url = \"http://127.0.0.1:9090\"\n\n[[query]]\nname = \"p99\"\nunit = \"s\"\nquery = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{window}}])))'\n"})),
    responses((status = 200, description = "Saved", body = perfwatch_backend::window_metrics::SourceView), ApiErrors)
)]
pub async fn put(
    State(st): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    JsonBody(b): JsonBody<SourceInput>,
) -> ApiResult<Json<SourceView>> {
    Ok(Json(
        put_source(&st.store, &st.seal, &slug, &name, &b).await?,
    ))
}

/// What the metric sources page's "Test query" form sends, without the source (it is in
/// the path).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestQueryBody {
    /// The PromQL template, checked like at save time.
    pub query: String,
    /// Label of a `by (label)` query; empty or absent for one value.
    #[serde(default)]
    pub by: String,
    /// `run` (the latest run's window, the default) or `hour` (the last settled hour).
    #[serde(default)]
    pub window: String,
}

/// `POST /api/v1/projects/{slug}/metric-sources/{name}/test-query`: evaluates an unsaved
/// query template against the stored source, as the page's "Test query" button does.
/// Admins of the project (it calls the source with its stored credentials); stores
/// nothing. The source's own error (unreachable, rejected query) is a 200 with `error`.
#[utoipa::path(
    post,
    path = "/projects/{slug}/metric-sources/{name}/test-query",
    tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("name" = String, Path, description = "Source name")),
    request_body(content = TestQueryBody, example = json!({"query": "sum(rate(http_requests_total[{{window}}]))", "by": "", "window": "hour"})),
    responses((status = 200, description = "The value(s) over the window, or the source's error", body = perfwatch_backend::query_test::QueryTest), ApiErrors)
)]
pub async fn test_query(
    State(st): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    JsonBody(b): JsonBody<TestQueryBody>,
) -> ApiResult<Json<perfwatch_backend::query_test::QueryTest>> {
    use perfwatch_backend::query_test::{test_query, TestInput, TestWindow};
    let window = TestWindow::parse(&b.window)?;
    let input = TestInput {
        source: &name,
        template: &b.query,
        by: &b.by,
        window,
    };
    Ok(Json(test_query(&st.store, &st.seal, &slug, &input).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    pub source: String,
}

/// `POST /api/v1/runs/{id}/metrics`: queue the collection; 202 with when it is due.
#[utoipa::path(
    post,
    path = "/runs/{id}/metrics",
    tag = "metrics",
    params(("id" = i64, Path, description = "Run id")),
    request_body(content = CollectBody, example = json!({"source": "prod"})),
    responses((status = 202, description = "Collection queued", body = super::bodies::CollectQueued), ApiErrors)
)]
pub async fn collect(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<CollectBody>,
) -> ApiResult<(StatusCode, Json<CollectQueued>)> {
    let run = st.store.run_detail(id).await?;
    let project = st.store.project(&run.project).await?;
    actor.require(Right::Ingest, Some(project.id))?;
    let (job, due) = request(&st.store, id, &b.source).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CollectQueued {
            queued: job,
            not_before: due,
        }),
    ))
}

/// `PUT /api/v1/projects/{slug}/metric-sources/{name}/schedule`: read one query of the
/// source every `step_s` seconds into time-indexed runs, backfilled from `from`.
#[utoipa::path(
    put,
    path = "/projects/{slug}/metric-sources/{name}/schedule",
    tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("name" = String, Path, description = "Source name")),
    request_body(content = perfwatch_backend::metric_schedules::ScheduleInput, example = json!({"query": "p99", "step_s": 3600, "from": "2026-11-01T00:00:00Z"})),
    responses((status = 201, description = "Scheduled", body = super::bodies::ScheduleCreated), ApiErrors)
)]
pub async fn schedule(
    State(st): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    JsonBody(b): JsonBody<perfwatch_backend::metric_schedules::ScheduleInput>,
) -> ApiResult<(StatusCode, Json<ScheduleCreated>)> {
    let id = perfwatch_backend::metric_schedules::put(&st.store, &slug, &name, &b).await?;
    Ok((StatusCode::CREATED, Json(ScheduleCreated { schedule: id })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployQuery {
    /// Post-deploy window judged, hours (default 6).
    #[serde(default)]
    pub window_h: Option<i64>,
    /// Past weeks the expectation comes from (default 4).
    #[serde(default)]
    pub weeks: Option<usize>,
}

/// `GET /api/v1/projects/{slug}/deploys/{id}`: the verdict of every production series
/// at a release or deploy marker, against its seasonal expectation.
#[utoipa::path(
    get,
    path = "/projects/{slug}/deploys/{id}",
    tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path, description = "Release or deploy marker id"),
        ("window_h" = Option<i64>, Query, description = "Post-deploy window judged, hours (default 6)"),
        ("weeks" = Option<usize>, Query, description = "Past weeks the expectation comes from (default 4)")
    ),
    responses((status = 200, description = "The verdict of every production series at the marker", body = perfwatch_backend::deploy_verdicts::DeployView), ApiErrors)
)]
pub async fn deploy(
    State(st): State<AppState>,
    Path((slug, id)): Path<(String, i64)>,
    axum::extract::Query(q): axum::extract::Query<DeployQuery>,
) -> ApiResult<Json<perfwatch_backend::deploy_verdicts::DeployView>> {
    let mut cfg = perfwatch_detect::seasonal::SeasonalConfig::default();
    if let Some(h) = q.window_h {
        if !(1..=24 * 14).contains(&h) {
            return Err(
                perfwatch_backend::StoreError::invalid("window_h", "1 to 336 hours").into(),
            );
        }
        cfg.window_ms = h * 3_600_000;
    }
    if let Some(w) = q.weeks {
        if !(2..=52).contains(&w) {
            return Err(perfwatch_backend::StoreError::invalid("weeks", "2 to 52").into());
        }
        cfg.weeks = w;
    }
    Ok(Json(
        perfwatch_backend::deploy_verdicts::deploy_verdicts(&st.store, &slug, id, &cfg).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestQuery {
    /// Days before now judged (default 90).
    #[serde(default)]
    pub days: Option<i64>,
    /// Random non-deploy moments judged (default 100).
    #[serde(default)]
    pub probes: Option<usize>,
    /// End of the period: RFC 3339 (default now).
    #[serde(default)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /api/v1/series/{id}/backtest`: what deploy verdicts and production detection
/// would have said over the last `days` — deploys flagged, the false-alarm rate at
/// random non-deploy moments, alerts away from deploys.
#[utoipa::path(
    get,
    path = "/series/{id}/backtest",
    tag = "metrics",
    params(("id" = i64, Path, description = "Series id"),
        ("days" = Option<i64>, Query, description = "Days before now judged, 1–365 (default 90)"),
        ("probes" = Option<usize>, Query, description = "Random non-deploy moments judged, 1–1000 (default 100)"),
        ("to" = Option<String>, Query, description = "End of the period, RFC 3339 (default now)")
    ),
    responses((status = 200, description = "The series' backtest", body = perfwatch_backend::backtest::BacktestView), ApiErrors)
)]
pub async fn backtest(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<BacktestQuery>,
) -> ApiResult<Json<perfwatch_backend::backtest::BacktestView>> {
    Ok(Json(
        perfwatch_backend::backtest::backtest_series(
            &st.store,
            id,
            q.days.unwrap_or(90),
            q.to.map(|t| t.timestamp_millis()),
            q.probes,
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollupQuery {
    /// From this time, RFC 3339 (default: the beginning).
    #[serde(default)]
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Up to this time, RFC 3339 (default: now and later).
    #[serde(default)]
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /api/v1/series/{id}/rollups`: the hourly rollups a production series keeps
/// after its raw points aged out (docs/metrics.md, "Retention").
#[utoipa::path(
    get,
    path = "/series/{id}/rollups",
    tag = "metrics",
    params(("id" = i64, Path, description = "Series id"),
        ("from" = Option<String>, Query, description = "From this time, RFC 3339"),
        ("to" = Option<String>, Query, description = "Up to this time, RFC 3339")
    ),
    responses((status = 200, description = "Hourly rollups, oldest first", body = Vec<perfwatch_core::rollup::Rollup>), ApiErrors)
)]
pub async fn rollups(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<RollupQuery>,
) -> ApiResult<Json<Vec<perfwatch_core::rollup::Rollup>>> {
    st.store.series(id).await?;
    let from = q.from.map_or(i64::MIN, |t| t.timestamp_millis());
    let to = q.to.map_or(i64::MAX, |t| t.timestamp_millis());
    Ok(Json(st.store.rollups(id, from, to).await?))
}
