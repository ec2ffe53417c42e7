//! `POST /api/v1/runs` and `GET /api/v1/runs/{id}`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::store::IngestOptions;
use perfwatch_core::validate::{parse_run_json, validate_run};
use perfwatch_core::view::{RunDetail, RunReceipt};

use super::auth::Token;
use super::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn submit(
    State(state): State<AppState>,
    Token(token): Token,
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
    let opts = IngestOptions {
        auto_create_project: state.config.auto_create_projects,
        token_project: token.project_id,
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

pub async fn get_run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunDetail>> {
    Ok(Json(state.store.run_detail(id).await?))
}
