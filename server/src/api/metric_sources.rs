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
use serde_json::{json, Value};

use super::auth::Who;
use super::error::ApiResult;
use crate::state::AppState;

/// `GET /api/v1/projects/{slug}/metric-sources` (admins: URLs may be internal).
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
pub async fn put(
    State(st): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Json(b): Json<SourceInput>,
) -> ApiResult<Json<SourceView>> {
    Ok(Json(
        put_source(&st.store, &st.seal, &slug, &name, &b).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    pub source: String,
}

/// `POST /api/v1/runs/{id}/metrics`: queue the collection; 202 with when it is due.
pub async fn collect(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<CollectBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let run = st.store.run_detail(id).await?;
    let project = st.store.project(&run.project).await?;
    actor.require(Right::Ingest, Some(project.id))?;
    let (job, due) = request(&st.store, id, &b.source).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "queued": job, "not_before": due })),
    ))
}

/// `PUT /api/v1/projects/{slug}/metric-sources/{name}/schedule`: read one query of the
/// source every `step_s` seconds into time-indexed runs, backfilled from `from`.
pub async fn schedule(
    State(st): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Json(b): Json<perfwatch_backend::metric_schedules::ScheduleInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = perfwatch_backend::metric_schedules::put(&st.store, &slug, &name, &b).await?;
    Ok((StatusCode::CREATED, Json(json!({ "schedule": id }))))
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
