//! Triage over REST (the pages use server functions that call the same use cases):
//! states, assignee, notes, tickets, bulk state changes, learned sensitivity.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use perfwatch_core::alerts::TriageState;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Who;
use super::error::{ApiError, ApiResult};
use crate::state::AppState;

fn state_of(s: &str) -> ApiResult<TriageState> {
    TriageState::parse(s).ok_or_else(|| {
        ApiError::from(perfwatch_backend::StoreError::invalid(
            "state",
            "untriaged, acknowledged, fixed, wontfix, expected or invalid",
        ))
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    pub state: String,
    #[serde(default)]
    pub fixed_commit: Option<String>,
}

pub async fn group_state(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<StateBody>,
) -> ApiResult<StatusCode> {
    st.store
        .set_group_state(&actor, id, state_of(&b.state)?, b.fixed_commit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn alert_state(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<StateBody>,
) -> ApiResult<StatusCode> {
    st.store
        .set_alert_state(&actor, id, state_of(&b.state)?, b.fixed_commit)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    pub ids: Vec<i64>,
    pub state: String,
    #[serde(default)]
    pub fixed_commit: Option<String>,
}

pub async fn bulk_state(
    State(st): State<AppState>,
    Who(actor): Who,
    Json(b): Json<BulkBody>,
) -> ApiResult<Json<Value>> {
    let n = st
        .store
        .bulk_set_alert_state(&actor, &b.ids, state_of(&b.state)?, b.fixed_commit)
        .await?;
    Ok(Json(json!({ "changed": n })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssigneeBody {
    pub assignee: Option<String>,
}

pub async fn assignee(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<AssigneeBody>,
) -> ApiResult<StatusCode> {
    st.store.set_group_assignee(&actor, id, b.assignee).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
}

pub async fn note(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<NoteBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let nid = st.store.add_note(&actor, id, &b.body).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": nid }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketBody {
    pub key: String,
    #[serde(default)]
    pub url: String,
}

pub async fn ticket(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
    Json(b): Json<TicketBody>,
) -> ApiResult<StatusCode> {
    st.store.link_ticket(&actor, id, &b.key, &b.url).await?;
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
    Ok(Json(json!({ "url": url })).into_response())
}

pub async fn sensitivity(
    State(st): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "learned": st.store.sensitivity(id).await? })))
}

pub async fn reset_sensitivity(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    st.store.reset_sensitivity(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
