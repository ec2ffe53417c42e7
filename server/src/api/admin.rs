//! Administration over REST: API tokens, users and roles, webhooks and their delivery
//! log, ticket templates. Every handler checks the admin right through the actor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::accounts::{Actor, Right, Role};
use perfwatch_backend::tickets::TicketTemplate;
use perfwatch_backend::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Who;
use super::error::ApiResult;
use crate::state::AppState;

fn global_admin(actor: &Actor) -> Result<(), StoreError> {
    actor.require(Right::Admin, None)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    #[serde(default)]
    pub project: Option<String>,
    /// Comma-separated: ingest, triage, admin.
    pub scopes: String,
}

pub async fn list_tokens(State(st): State<AppState>, Who(actor): Who) -> ApiResult<Json<Value>> {
    global_admin(&actor)?;
    Ok(Json(json!(st.store.list_tokens().await?)))
}

pub async fn create_token(
    State(st): State<AppState>,
    Who(actor): Who,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    global_admin(&actor)?;
    let (id, secret) = st
        .store
        .create_token_with_scopes(&b.name, b.project.as_deref(), &b.scopes)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": secret })),
    ))
}

pub async fn revoke_token(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    global_admin(&actor)?;
    st.store.revoke_token(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub role: Option<String>,
}

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::invalid("role", "viewer, triager or admin"))
}

pub async fn list_users(State(st): State<AppState>, Who(actor): Who) -> ApiResult<Json<Value>> {
    global_admin(&actor)?;
    Ok(Json(json!(st.store.list_users().await?)))
}

pub async fn create_user(
    State(st): State<AppState>,
    Who(actor): Who,
    Json(b): Json<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    global_admin(&actor)?;
    let r = b.role.as_deref().map(role).transpose()?;
    let id = st.store.create_user(&b.name, &b.password, r).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    #[serde(default)]
    pub project: Option<String>,
    pub role: String,
}

pub async fn set_membership(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(name): Path<String>,
    Json(b): Json<MembershipBody>,
) -> ApiResult<StatusCode> {
    global_admin(&actor)?;
    let u = st.store.user_by_name(&name).await?;
    st.store
        .set_membership(u.id, b.project.as_deref(), role(&b.role)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    #[serde(default = "json_format")]
    pub format: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub secret: Option<String>,
}

fn json_format() -> String {
    "json".into()
}

pub async fn create_webhook(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    Json(b): Json<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (id, secret) = st
        .store
        .create_webhook(&actor, &slug, &b.url, &b.format, &b.events, b.secret)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "secret": secret })),
    ))
}

pub async fn list_webhooks(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(st.store.list_webhooks(&actor, &slug).await?)))
}

pub async fn delete_webhook(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    st.store.delete_webhook(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn deliveries(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(st.store.list_deliveries(&actor, &slug).await?)))
}

pub async fn set_ticket_template(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    Json(t): Json<Option<TicketTemplate>>,
) -> ApiResult<StatusCode> {
    st.store.set_ticket_template(&actor, &slug, t).await?;
    Ok(StatusCode::NO_CONTENT)
}
