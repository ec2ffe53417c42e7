//! `POST /api/v1/runs` and `GET /api/v1/runs/{id}`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::store::IngestOptions;
use perfwatch_core::validate::{parse_run_json, validate_run};
use perfwatch_core::view::{RunDetail, RunReceipt};

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;
use perfwatch_backend::accounts::Right;

#[utoipa::path(
    post,
    path = "/runs",
    tag = "runs",
    summary = "Submit a run",
    request_body(
        content = perfwatch_core::model::RunSubmission,
        description = "One run in the native format (docs/api.md): project, branch, commit, testbed and results with raw samples",
        example = json!({
            "project": "checkout",
            "branch": "main",
            "commit": {"sha": "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39", "message": "Faster cart totals", "time": "2026-11-02T10:00:00Z"},
            "testbed": "ci-linux-4core",
            "run_key": "ci-1234-1",
            "started_at": "2026-11-02T10:05:00Z",
            "finished_at": "2026-11-02T10:15:00Z",
            "metadata": {"ci_job": "1234"},
            "results": [{"benchmark": "BenchmarkCartTotal", "measure": "latency", "unit": "ns", "params": {"items": "100"}, "samples": [1210.0, 1195.0, 1230.0, 1202.0]}]
        })
    ),
    responses(
        (status = 201, description = "Stored", body = perfwatch_core::view::RunReceipt),
        (status = 200, description = "A run with this run_key exists: nothing written", body = perfwatch_core::view::RunReceipt),
        ApiErrors
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    Who(actor): Who,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<RunReceipt>)> {
    let body = body.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("request body rejected: {}", e.body_text()),
        )
    })?;
    let run = parse_run_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    let run =
        validate_run(run).map_err(|e| ApiError::invalid(StatusCode::UNPROCESSABLE_ENTITY, e))?;
    // The policy decides on the run's project. An actor with the right everywhere
    // (the common CI token) needs no look-up and may create the project; anyone else
    // needs it on that existing project (an unknown one is the store's "invalid
    // project" answer, as creating it is not theirs to do).
    let everywhere = actor.can(Right::Ingest, None);
    if !everywhere {
        match state.store.project(&run.project).await {
            Ok(p) => actor.require(Right::Ingest, Some(p.id))?,
            Err(perfwatch_backend::StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let opts = IngestOptions {
        auto_create_project: state.config.auto_create_projects && everywhere,
    };
    let stored = match &state.followups {
        Some(f) => {
            perfwatch_backend::ingest::ingest_run_deferred(&state.store, &run, &opts, f).await?
        }
        None => perfwatch_backend::ingest::ingest_run(&state.store, &run, &opts).await?,
    };
    let receipt = RunReceipt {
        run_id: stored.run_id,
        duplicate: stored.duplicate,
        series: if stored.duplicate {
            0
        } else {
            stored.series_ids.len()
        },
        url: format!("{}/runs/{}", state.public_url, stored.run_id),
    };
    state
        .metrics
        .observe_ingest(stored.duplicate, receipt.series);
    let status = if stored.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(receipt)))
}

#[utoipa::path(
    get,
    path = "/runs/{id}",
    tag = "runs",
    summary = "One run with its measurements",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run with its measurements and samples", body = perfwatch_core::view::RunDetail), ApiErrors)
)]
pub async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(state.store.run_detail(id).await?))
}
