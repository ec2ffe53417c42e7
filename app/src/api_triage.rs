//! Server functions of triage: thin. Each finds the request's actor (resolved by the
//! server's middleware from the session cookie or a bearer token), calls one backend
//! use case (which checks the right) and maps the error.

use leptos::prelude::*;

use crate::api_error::AppError;
use serde::{Deserialize, Serialize};

/// What triage taught a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// Minimum relative change, as a fraction.
    pub min_change: f64,
    pub alert_id: Option<i64>,
    pub set_by: String,
    pub set_at: i64,
}

#[server(prefix = "/fn", endpoint = "series_sensitivity")]
pub async fn fetch_series_sensitivity(id: i64) -> Result<Option<Learned>, AppError> {
    let s = crate::api_ctx::store()?
        .sensitivity(id)
        .await
        .map_err(AppError::from)?;
    Ok(s.map(|s| Learned {
        min_change: s.min_change,
        alert_id: s.alert_id,
        set_by: s.set_by,
        set_at: s.set_at,
    }))
}

#[server(prefix = "/fn", endpoint = "reset_sensitivity")]
pub async fn reset_series_sensitivity(id: i64) -> Result<(), AppError> {
    perfwatch_backend::triage::reset_sensitivity(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        id,
    )
    .await
    .map_err(AppError::from)
}

#[server(prefix = "/fn", endpoint = "set_group_state")]
pub async fn set_group_state(
    group_id: i64,
    state: String,
    fixed_commit: Option<String>,
) -> Result<(), AppError> {
    let st = perfwatch_core::alerts::TriageState::parse(&state)
        .ok_or_else(|| AppError::invalid("state", "unknown state"))?;
    perfwatch_backend::triage::set_group_state(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        group_id,
        st,
        fixed_commit.filter(|c| !c.is_empty()),
    )
    .await
    .map_err(AppError::from)
}

#[server(prefix = "/fn", endpoint = "link_group_ticket")]
pub async fn link_group_ticket(group_id: i64, key: String, url: String) -> Result<(), AppError> {
    perfwatch_backend::triage::link_ticket(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        group_id,
        &key,
        &url,
    )
    .await
    .map_err(AppError::from)
}

#[server(prefix = "/fn", endpoint = "set_group_assignee")]
pub async fn set_group_assignee(group_id: i64, assignee: String) -> Result<(), AppError> {
    let a = Some(assignee).filter(|a| !a.trim().is_empty());
    perfwatch_backend::triage::set_group_assignee(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        group_id,
        a,
    )
    .await
    .map_err(AppError::from)
}

#[server(prefix = "/fn", endpoint = "add_group_note")]
pub async fn add_group_note(group_id: i64, body: String) -> Result<(), AppError> {
    perfwatch_backend::triage::add_note(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        group_id,
        &body,
    )
    .await
    .map(|_| ())
    .map_err(AppError::from)
}

/// Bulk action of the alerts list: `ids` is a comma-separated list of alert ids.
#[server(prefix = "/fn", endpoint = "bulk_alert_state")]
pub async fn bulk_set_alert_state(
    ids: String,
    state: String,
    fixed_commit: Option<String>,
) -> Result<usize, AppError> {
    let ids: Vec<i64> = ids
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| AppError::invalid("ids", "a comma-separated list of alert ids"))?;
    let st = perfwatch_core::alerts::TriageState::parse(&state)
        .ok_or_else(|| AppError::invalid("state", "unknown state"))?;
    perfwatch_backend::triage::bulk_set_alert_state(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        &ids,
        st,
        fixed_commit.filter(|c| !c.is_empty()),
    )
    .await
    .map_err(AppError::from)
}

/// An API token as the admin page lists it (never the secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub project: Option<String>,
    pub scopes: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[server(prefix = "/fn", endpoint = "list_tokens")]
pub async fn fetch_tokens() -> Result<Vec<TokenRow>, AppError> {
    use perfwatch_backend::accounts::Right;
    crate::api_ctx::actor()
        .require(Right::Admin, None)
        .map_err(AppError::from)?;
    let tokens = crate::api_ctx::store()?
        .list_tokens()
        .await
        .map_err(AppError::from)?;
    Ok(tokens
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            project: t.project,
            scopes: t
                .scopes
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
        })
        .collect())
}

/// Creates a token (global admins only), expiring after `expires_in_days` when given;
/// answers the secret, shown once.
#[server(prefix = "/fn", endpoint = "create_token")]
pub async fn create_api_token(
    name: String,
    project: String,
    scopes: String,
    #[server(default)] expires_in_days: String,
) -> Result<String, AppError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::tokens::{expiry, NewToken};
    crate::api_ctx::actor()
        .require(Right::Admin, None)
        .map_err(AppError::from)?;
    let days = match expires_in_days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| {
            AppError::invalid(
                "expires_in_days",
                "a whole number of days (or empty: never)",
            )
        })?),
    };
    let new = NewToken {
        name: name.trim().to_string(),
        project: Some(project.trim().to_string()).filter(|p| !p.is_empty()),
        scopes,
        expires_at: expiry(None, days, perfwatch_backend::time::now_ms())
            .map_err(AppError::from)?,
    };
    let (_, secret) = perfwatch_backend::tokens::create_token_by(
        &crate::api_ctx::store()?,
        &crate::api_ctx::audit(),
        &new,
    )
    .await
    .map_err(AppError::from)?;
    Ok(secret)
}

#[server(prefix = "/fn", endpoint = "revoke_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    use perfwatch_backend::accounts::Right;
    crate::api_ctx::actor()
        .require(Right::Admin, None)
        .map_err(AppError::from)?;
    crate::api_ctx::store()?
        .revoke_token_by(&crate::api_ctx::audit(), id)
        .await
        .map_err(AppError::from)
}

/// One webhook delivery as the admin page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    pub status: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// The delivery log of a project's webhooks (admins of the project).
#[server(prefix = "/fn", endpoint = "list_deliveries")]
pub async fn fetch_deliveries(project: String) -> Result<Vec<DeliveryRow>, AppError> {
    let d = perfwatch_backend::notify::list_deliveries(
        &crate::api_ctx::store()?,
        &crate::api_ctx::actor(),
        &project,
    )
    .await
    .map_err(AppError::from)?;
    Ok(d.into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            webhook_id: d.webhook_id,
            event: d.event,
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        })
        .collect())
}

/// Whether the visitor is a global admin (the admin pages show their forms only then).
#[server(prefix = "/fn", endpoint = "is_admin")]
pub async fn fetch_is_admin() -> Result<bool, AppError> {
    Ok(crate::api_ctx::actor().can(perfwatch_backend::accounts::Right::Admin, None))
}

#[server(prefix = "/fn", endpoint = "can_triage")]
pub async fn fetch_can_triage(project: String) -> Result<bool, AppError> {
    let store = crate::api_ctx::store()?;
    let p = store.project(&project).await.map_err(AppError::from)?;
    Ok(crate::api_ctx::actor().can(perfwatch_backend::accounts::Right::Triage, Some(p.id)))
}

/// The learned sensitivity of a series and a way to undo it (rendered on the server;
/// the reset is a server-function form, `crate::enhance`, after which the panel is
/// read again and goes away).
#[component]
pub fn LearnedSensitivity(id: i64) -> impl IntoView {
    let data = crate::codec::resource(move || id, fetch_series_sensitivity);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(l)) => learned_view(id, l).into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// The panel with its reset button.
fn learned_view(id: i64, l: Learned) -> impl IntoView {
    use leptos::server_fn::ServerFn;
    view! {
        <div data-region="learned">
            <section class="learned" data-testid="learned">
                <h2>"Learned sensitivity"</h2>
                <p>{format!(
                    "Alert {} was marked invalid by {}: detection now reports only changes of at least {:.1} % on this series.",
                    l.alert_id.map(|a| a.to_string()).unwrap_or_default(), l.set_by, l.min_change * 100.0)}</p>
                <form method="post" action=ResetSeriesSensitivity::url() data-post
                    data-result="learned-result" data-ok="">
                    <input type="hidden" name="id" value=id />
                    <button type="submit">"Reset to the default sensitivity"</button>
                </form>
            </section>
        </div>
        {crate::enhance::result_slot::<ResetSeriesSensitivity>("learned-result", None)}
    }
}
