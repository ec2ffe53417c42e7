//! Server functions of triage: thin. Each finds the request's actor (resolved by the
//! server's middleware from the session cookie or a bearer token), calls one backend
//! use case (which checks the right) and maps the error.

use leptos::prelude::*;
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

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use leptos::prelude::*;
    use perfwatch_backend::accounts::Actor;
    use perfwatch_backend::{Store, StoreError};

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("storage is not configured"))
    }

    pub fn actor() -> Actor {
        use_context::<http::request::Parts>()
            .and_then(|p| p.extensions.get::<Actor>().cloned())
            .unwrap_or_default()
    }

    /// Refusals answer 403 (401 for anonymous) with the reason; other errors as usual.
    pub fn map_err(e: StoreError) -> ServerFnError {
        if let StoreError::Forbidden(why) = &e {
            if let Some(r) = use_context::<leptos_axum::ResponseOptions>() {
                r.set_status(if actor() == Actor::Anonymous {
                    http::StatusCode::UNAUTHORIZED
                } else {
                    http::StatusCode::FORBIDDEN
                });
            }
            return ServerFnError::new(format!("forbidden: {why}"));
        }
        crate::api_alerts::map_store_err(e)
    }
}

#[server(prefix = "/fn", endpoint = "series_sensitivity")]
pub async fn fetch_series_sensitivity(id: i64) -> Result<Option<Learned>, ServerFnError> {
    let s = server::store()?
        .sensitivity(id)
        .await
        .map_err(server::map_err)?;
    Ok(s.map(|s| Learned {
        min_change: s.min_change,
        alert_id: s.alert_id,
        set_by: s.set_by,
        set_at: s.set_at,
    }))
}

#[server(prefix = "/fn", endpoint = "reset_sensitivity")]
pub async fn reset_series_sensitivity(id: i64) -> Result<(), ServerFnError> {
    server::store()?
        .reset_sensitivity(&server::actor(), id)
        .await
        .map_err(server::map_err)
}

#[server(prefix = "/fn", endpoint = "set_group_state")]
pub async fn set_group_state(
    group_id: i64,
    state: String,
    fixed_commit: Option<String>,
) -> Result<(), ServerFnError> {
    let st = perfwatch_core::alerts::TriageState::parse(&state)
        .ok_or_else(|| ServerFnError::new("unknown state"))?;
    server::store()?
        .set_group_state(
            &server::actor(),
            group_id,
            st,
            fixed_commit.filter(|c| !c.is_empty()),
        )
        .await
        .map_err(server::map_err)
}

#[server(prefix = "/fn", endpoint = "link_group_ticket")]
pub async fn link_group_ticket(
    group_id: i64,
    key: String,
    url: String,
) -> Result<(), ServerFnError> {
    server::store()?
        .link_ticket(&server::actor(), group_id, &key, &url)
        .await
        .map_err(server::map_err)
}

#[server(prefix = "/fn", endpoint = "can_triage")]
pub async fn fetch_can_triage(project: String) -> Result<bool, ServerFnError> {
    let store = server::store()?;
    let p = store.project(&project).await.map_err(server::map_err)?;
    Ok(server::actor().can(perfwatch_backend::accounts::Right::Triage, Some(p.id)))
}

/// The learned sensitivity of a series and a way to undo it.
#[component]
pub fn LearnedSensitivity(id: i64) -> impl IntoView {
    let reset = ServerAction::<ResetSeriesSensitivity>::new();
    let data = Resource::new(
        move || (id, reset.version().get()),
        |(id, _)| fetch_series_sensitivity(id),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(l)) => view! {
                        <section class="learned" data-testid="learned">
                            <h2>"Learned sensitivity"</h2>
                            <p>{format!(
                                "Alert {} was marked invalid by {}: detection now reports only changes of at least {:.1} % on this series.",
                                l.alert_id.map(|a| a.to_string()).unwrap_or_default(), l.set_by, l.min_change * 100.0)}</p>
                            <ActionForm action=reset>
                                <input type="hidden" name="id" value=id />
                                <button type="submit">"Reset to the default sensitivity"</button>
                            </ActionForm>
                        </section>
                    }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}
