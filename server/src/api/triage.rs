//! Triage over REST (the pages use server functions that call the same use cases):
//! states, assignee, notes, tickets, bulk state changes, learned sensitivity.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use perfwatch_core::alerts::TriageState;
use serde::Deserialize;

use super::bodies::{Changed, Created, SensitivityBody, TicketUrl};

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;

fn state_of(s: &str) -> ApiResult<TriageState> {
    TriageState::parse(s).ok_or_else(|| {
        ApiError::from(perfwatch_backend::StoreError::invalid(
            "state",
            "untriaged, acknowledged, fixed, wontfix, expected or invalid",
        ))
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    pub state: String,
    #[serde(default)]
    pub fixed_commit: Option<String>,
}

#[utoipa::path(
    post,
    path = "/alert-groups/{id}/state",
    tag = "triage",
    summary = "Set an alert group's state",
    params(("id" = i64, Path, description = "Alert group id")),
    request_body(content = StateBody, example = json!({"state": "acknowledged"})),
    responses((status = 204, description = "Changed"), ApiErrors)
)]
pub async fn group_state(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StateBody>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::triage::set_group_state(
        &st.store,
        &actor,
        id,
        state_of(&b.state)?,
        b.fixed_commit,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/alerts/{id}/state",
    tag = "triage",
    summary = "Set an alert's state",
    params(("id" = i64, Path, description = "Alert id")),
    request_body(content = StateBody, example = json!({"state": "invalid"})),
    responses((status = 204, description = "Changed"), ApiErrors)
)]
pub async fn alert_state(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StateBody>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::triage::set_alert_state(
        &st.store,
        &actor,
        id,
        state_of(&b.state)?,
        b.fixed_commit,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub ids: Vec<i64>,
    pub state: String,
    #[serde(default)]
    pub fixed_commit: Option<String>,
}

#[utoipa::path(
    post,
    path = "/alerts/bulk-state",
    tag = "triage",
    summary = "Set the state of many alerts",
    request_body(content = BulkBody, example = json!({"ids": [1], "state": "acknowledged"})),
    responses((status = 200, description = "Changed", body = super::bodies::Changed), ApiErrors)
)]
pub async fn bulk_state(
    State(st): State<AppState>,
    Who(actor): Who,
    JsonBody(b): JsonBody<BulkBody>,
) -> ApiResult<Json<Changed>> {
    let n = perfwatch_backend::triage::bulk_set_alert_state(
        &st.store,
        &actor,
        &b.ids,
        state_of(&b.state)?,
        b.fixed_commit,
    )
    .await?;
    Ok(Json(Changed { changed: n }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssigneeBody {
    pub assignee: Option<String>,
}

#[utoipa::path(
    post,
    path = "/alert-groups/{id}/assignee",
    tag = "triage",
    summary = "Assign an alert group",
    params(("id" = i64, Path, description = "Alert group id")),
    request_body(content = AssigneeBody, example = json!({"assignee": "alice"})),
    responses((status = 204, description = "Changed"), ApiErrors)
)]
pub async fn assignee(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssigneeBody>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::triage::set_group_assignee(&st.store, &actor, id, b.assignee).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
}

#[utoipa::path(
    post,
    path = "/alert-groups/{id}/notes",
    tag = "triage",
    summary = "Add a note to an alert group",
    params(("id" = i64, Path, description = "Alert group id")),
    request_body(content = NoteBody, example = json!({"body": "Bisected to the allocator change; fix in #812."})),
    responses((status = 201, description = "Created", body = super::bodies::Created), ApiErrors)
)]
pub async fn note(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<NoteBody>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let nid = perfwatch_backend::triage::add_note(&st.store, &actor, id, &b.body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: nid })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    pub key: String,
    #[serde(default)]
    pub url: String,
}

#[utoipa::path(
    post,
    path = "/alert-groups/{id}/ticket",
    tag = "triage",
    summary = "Link a ticket to an alert group",
    params(("id" = i64, Path, description = "Alert group id")),
    request_body(content = TicketBody, example = json!({"key": "PERF-12", "url": "https://tracker.example.com/browse/PERF-12"})),
    responses((status = 204, description = "Linked"), ApiErrors)
)]
pub async fn ticket(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TicketBody>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::triage::link_ticket(&st.store, &actor, id, &b.key, &b.url).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
pub struct NewTicketQuery {
    /// `go=1`: answer a redirect to the new-issue page (the alert-group page links here).
    #[serde(default)]
    pub go: Option<String>,
}

/// `GET /alert-groups/{id}/new-ticket`: the prefilled "new issue" URL of the project's
/// ticket template (404 when the project has none); with `?go=1` a 303 redirect to it.
#[utoipa::path(
    get,
    path = "/alert-groups/{id}/new-ticket",
    tag = "triage",
    summary = "Prefilled new-ticket URL",
    params(("id" = i64, Path, description = "Alert group id"), ("go" = Option<String>, Query, description = "`1`: answer a redirect to the new-issue page")),
    responses(
        (status = 200, description = "The prefilled new-issue URL", body = super::bodies::TicketUrl),
        (status = 303, description = "With `go=1`: to the new-issue page"),
        ApiErrors
    )
)]
pub async fn new_ticket(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<NewTicketQuery>,
) -> ApiResult<Response> {
    let g = st.store.alert_group(id).await?;
    let p = st.store.project(&g.project).await?;
    let t = st.store.ticket_template(p.id).await?.ok_or_else(|| {
        perfwatch_backend::StoreError::NotFound(format!("ticket template of '{}'", p.slug))
    })?;
    let url = perfwatch_backend::tickets::new_ticket_url(&t, &g, &st.public_url);
    if q.go.is_some_and(|g| !g.is_empty() && g != "0") {
        return Ok(Redirect::to(&url).into_response());
    }
    Ok(Json(TicketUrl { url }).into_response())
}

#[utoipa::path(
    get,
    path = "/series/{id}/sensitivity",
    tag = "triage",
    summary = "Learned sensitivity of a series",
    params(("id" = i64, Path, description = "Series id")),
    responses((status = 200, description = "The learned sensitivity", body = super::bodies::SensitivityBody), ApiErrors)
)]
pub async fn sensitivity(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<SensitivityBody>> {
    Ok(Json(SensitivityBody {
        learned: st.store.sensitivity(id).await?,
    }))
}

#[utoipa::path(
    delete,
    path = "/series/{id}/sensitivity",
    tag = "triage",
    summary = "Forget the learned sensitivity",
    params(("id" = i64, Path, description = "Series id")),
    responses((status = 204, description = "Forgotten"), ApiErrors)
)]
pub async fn reset_sensitivity(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::triage::reset_sensitivity(&st.store, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
