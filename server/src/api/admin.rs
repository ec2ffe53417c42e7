//! Administration over REST: API tokens, users and roles, webhooks and their delivery
//! log, ticket templates. Every handler checks the admin right through the actor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::accounts::{Actor, Right, Role};
use perfwatch_backend::tickets::TicketTemplate;
use perfwatch_backend::time::now_ms;
use perfwatch_backend::tokens::{expiry, NewToken as TokenSettings};
use perfwatch_backend::StoreError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit::Audited;
use super::auth::Who;
use super::error::{ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;

fn global_admin(actor: &Actor) -> Result<(), StoreError> {
    actor.require(Right::Admin, None)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    #[serde(default)]
    pub project: Option<String>,
    /// Comma-separated: ingest, triage, admin.
    pub scopes: String,
    /// When the token stops working: RFC 3339 or ms since the epoch.
    #[serde(default)]
    pub expires_at: Option<TimeArg>,
    /// Or: it stops working this many days from now.
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// A time given as ms since the epoch or as text (RFC 3339).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum TimeArg {
    Ms(i64),
    Text(String),
}

#[utoipa::path(
    get,
    path = "/tokens",
    tag = "admin",
    summary = "List API tokens",
    responses((status = 200, description = "Every API token (no secrets)", body = Vec<perfwatch_backend::tokens::TokenInfo>), ApiErrors)
)]
pub async fn list_tokens(State(st): State<AppState>, Who(actor): Who) -> ApiResult<Json<Value>> {
    global_admin(&actor)?;
    Ok(Json(json!(st.store.list_tokens().await?)))
}

#[utoipa::path(
    post,
    path = "/tokens",
    tag = "admin",
    summary = "Create an API token",
    request_body(content = NewToken, example = json!({"name": "ci-checkout", "project": "checkout", "scopes": "ingest"})),
    responses((status = 201, description = "Created; the secret is shown this once", body = super::bodies::TokenCreated), ApiErrors)
)]
pub async fn create_token(
    State(st): State<AppState>,
    Who(actor): Who,
    Audited(who): Audited,
    JsonBody(b): JsonBody<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    global_admin(&actor)?;
    let at = b.expires_at.map(|t| match t {
        TimeArg::Ms(ms) => ms.to_string(),
        TimeArg::Text(s) => s,
    });
    let t = TokenSettings {
        name: b.name,
        project: b.project,
        scopes: b.scopes,
        expires_at: expiry(at.as_deref(), b.expires_in_days, now_ms())?,
    };
    let (id, secret) = perfwatch_backend::tokens::create_token_by(&st.store, &who, &t).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": secret })),
    ))
}

#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "admin",
    summary = "Revoke an API token",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), ApiErrors)
)]
pub async fn revoke_token(
    State(st): State<AppState>,
    Who(actor): Who,
    Audited(who): Audited,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    global_admin(&actor)?;
    st.store.revoke_token_by(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub role: Option<String>,
}

// By hand: password must never reach a log line.
impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field(
                "password",
                &perfwatch_core::redact::Redacted(&self.password),
            )
            .field("role", &self.role)
            .finish()
    }
}

fn role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::invalid("role", "viewer, triager or admin"))
}

#[utoipa::path(
    get,
    path = "/users",
    tag = "admin",
    summary = "List users",
    responses((status = 200, description = "Every user with roles", body = Vec<perfwatch_backend::accounts::UserInfo>), ApiErrors)
)]
pub async fn list_users(State(st): State<AppState>, Who(actor): Who) -> ApiResult<Json<Value>> {
    global_admin(&actor)?;
    Ok(Json(json!(st.store.list_users().await?)))
}

#[utoipa::path(
    post,
    path = "/users",
    tag = "admin",
    summary = "Create a user",
    request_body(content = NewUser, example = json!({"name": "alice", "password": "a long passphrase", "role": "triager"})),
    responses((status = 201, description = "Created", body = super::bodies::Created), ApiErrors)
)]
pub async fn create_user(
    State(st): State<AppState>,
    Who(actor): Who,
    Audited(who): Audited,
    JsonBody(b): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    global_admin(&actor)?;
    let r = b.role.as_deref().map(role).transpose()?;
    let id = perfwatch_backend::accounts::create_user_by(&st.store, &who, &b.name, &b.password, r)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    #[serde(default)]
    pub project: Option<String>,
    pub role: String,
}

#[utoipa::path(
    post,
    path = "/users/{name}/memberships",
    tag = "admin",
    summary = "Set a user's role",
    params(("name" = String, Path, description = "User name")),
    request_body(content = MembershipBody, example = json!({"project": "checkout", "role": "admin"})),
    responses((status = 204, description = "Set"), ApiErrors)
)]
pub async fn set_membership(
    State(st): State<AppState>,
    Who(actor): Who,
    Audited(who): Audited,
    Path(name): Path<String>,
    JsonBody(b): JsonBody<MembershipBody>,
) -> ApiResult<StatusCode> {
    global_admin(&actor)?;
    let u = st.store.user_by_name(&name).await?;
    st.store
        .set_membership_by(&who, u.id, b.project.as_deref(), role(&b.role)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    pub url: String,
    #[serde(default = "json_format")]
    pub format: String,
    pub events: Vec<String>,
    #[serde(default)]
    pub secret: Option<String>,
}

// By hand: secret must never reach a log line.
impl std::fmt::Debug for NewWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhook")
            .field("url", &self.url)
            .field("format", &self.format)
            .field("events", &self.events)
            .field("secret", &perfwatch_core::redact::Redacted(&self.secret))
            .finish()
    }
}

fn json_format() -> String {
    "json".into()
}

#[utoipa::path(
    post,
    path = "/projects/{slug}/webhooks",
    tag = "admin",
    summary = "Add a webhook",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = NewWebhook, example = json!({"url": "https://hooks.example.com/perfwatch", "format": "json", "events": ["alert_group.created"]})),
    responses((status = 201, description = "Created", body = super::bodies::WebhookCreated), ApiErrors)
)]
pub async fn create_webhook(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    JsonBody(b): JsonBody<NewWebhook>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (id, secret) = perfwatch_backend::notify::create_webhook(
        &st.store, &st.seal, &actor, &slug, &b.url, &b.format, &b.events, b.secret,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "secret": secret })),
    ))
}

#[utoipa::path(
    get,
    path = "/projects/{slug}/webhooks",
    tag = "admin",
    summary = "A project's webhooks",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The project's webhooks", body = Vec<perfwatch_backend::notify::Webhook>), ApiErrors)
)]
pub async fn list_webhooks(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        perfwatch_backend::notify::list_webhooks(&st.store, &actor, &slug).await?
    )))
}

#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "admin",
    summary = "Delete a webhook",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 204, description = "Deleted"), ApiErrors)
)]
pub async fn delete_webhook(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::notify::delete_webhook(&st.store, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/projects/{slug}/deliveries",
    tag = "admin",
    summary = "Webhook delivery log",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The webhook delivery log", body = Vec<perfwatch_backend::notify::Delivery>), ApiErrors)
)]
pub async fn deliveries(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(
        perfwatch_backend::notify::list_deliveries(&st.store, &actor, &slug).await?
    )))
}

#[utoipa::path(
    put,
    path = "/projects/{slug}/ticket-template",
    tag = "admin",
    summary = "Set the ticket template",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = Option<perfwatch_backend::tickets::TicketTemplate>, description = "The template, or `null` to remove it", example = json!({"kind": "github", "base_url": "https://github.com/example/checkout", "jira_project": null})),
    responses((status = 204, description = "Saved"), ApiErrors)
)]
pub async fn set_ticket_template(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    JsonBody(t): JsonBody<Option<TicketTemplate>>,
) -> ApiResult<StatusCode> {
    perfwatch_backend::tickets::set_ticket_template(&st.store, &actor, &slug, t).await?;
    Ok(StatusCode::NO_CONTENT)
}
