//! Administration pages (global admins): `/admin/tokens` lists (with last use and
//! expiry), creates (the secret is shown once, an expiry optional) and revokes API
//! tokens; `/admin/deliveries` shows a project's webhook
//! delivery log. Everyone else sees a refusal; the server functions check again.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api_alerts::fetch_alert_list;
use crate::api_triage::{
    fetch_deliveries, fetch_is_admin, fetch_tokens, CreateApiToken, RevokeApiToken,
};
use crate::format::datetime;

#[component]
pub fn TokensPage() -> impl IntoView {
    let admin = crate::codec::resource(|| (), |_| fetch_is_admin());
    let tokens = crate::codec::resource(|| (), |_| fetch_tokens());
    view! {
        <Title text="API tokens · perfwatch" />
        <h1>"API tokens"</h1>
        <p class="crumbs"><a href="/admin/deliveries">"Webhook deliveries"</a>" · "<a href="/admin/audit">"Audit log"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                if !matches!(admin.await, Ok(true)) {
                    return view! { <p class="error" data-testid="not-admin">"Only administrators may manage tokens: log in as one."</p> }.into_any();
                }
                match tokens.await {
                    Ok(t) => tokens_view(t).into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The token form and list: server-function forms (`crate::enhance`); the list is
/// read again after each, and a new token's secret is shown once, under the form.
fn tokens_view(rows: Vec<crate::api_triage::TokenRow>) -> impl IntoView {
    view! {
        <form method="post" action=CreateApiToken::url() class="triage-form" data-testid="token-form"
            data-post data-result="token-result" data-ok-code="new-token"
            data-ok="New token (copy it now: it is not shown again): {}">
            <label>"Name "<input name="name" required size="16" /></label>
            <label>" project "<input name="project" size="12" placeholder="all projects" /></label>
            <label>" scopes "<input name="scopes" value="ingest" size="20"
                title="comma-separated: ingest, triage, admin" /></label>
            <label>" expires in "<input name="expires_in_days" size="4" placeholder="never"
                inputmode="numeric" />" days"</label>
            <button type="submit">"Create token"</button>
        </form>
        {crate::enhance::result_slot::<CreateApiToken>("token-result", None)}
        {crate::enhance::result_slot::<RevokeApiToken>("revoke-result", None)}
        <table class="list" data-testid="tokens">
            <thead><tr><th>"Name"</th><th>"Project"</th><th>"Scopes"</th><th>"Created"</th>
                <th>"Last used"</th><th>"Expires"</th><th>"Revoked"</th><th></th></tr></thead>
            <tbody data-region="tokens">
                {rows.into_iter().map(|t| {
                    let live = t.revoked_at.is_none();
                    view! {
                        <tr data-token=t.id>
                            <td>{t.name}</td>
                            <td>{t.project.unwrap_or_else(|| "all".into())}</td>
                            <td>{t.scopes}</td>
                            <td>{datetime(t.created_at)}</td>
                            <td data-testid="last-used">{t.last_used_at.map(datetime).unwrap_or_else(|| "never".into())}</td>
                            <td>{t.expires_at.map(datetime).unwrap_or_else(|| "never".into())}</td>
                            <td>{t.revoked_at.map(datetime).unwrap_or_default()}</td>
                            <td>{live.then(|| view! {
                                <form method="post" action=RevokeApiToken::url() data-post
                                    data-result="revoke-result" data-ok="Revoked.">
                                    <input type="hidden" name="id" value=t.id />
                                    <button type="submit">"Revoke"</button>
                                </form>
                            })}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let q = use_query_map();
    let project = move || q.read().get("project").unwrap_or_default();
    let projects = crate::codec::resource(|| (), |_| fetch_alert_list(Default::default()));
    let log = crate::codec::resource(project, |p| async move {
        if p.is_empty() {
            Ok(Vec::new())
        } else {
            fetch_deliveries(p).await
        }
    });
    view! {
        <Title text="Webhook deliveries · perfwatch" />
        <h1>"Webhook deliveries"</h1>
        <p class="crumbs"><a href="/admin/tokens">"API tokens"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let current = project();
                let names = projects.await.map(|l| l.projects).unwrap_or_default();
                let form = view! {
                    <form method="get" action="/admin/deliveries" class="filters">
                        <label>"Project "
                            <select name="project">
                                {names.into_iter().map(|p| {
                                    let sel = p == current;
                                    view! { <option value=p.clone() selected=sel>{p.clone()}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit">"Show"</button>
                    </form>
                };
                let body = match log.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="note">"No deliveries."</p> }.into_any(),
                    Ok(rows) => view! {
                        <table class="list" data-testid="deliveries">
                            <thead><tr><th>"#"</th><th>"Webhook"</th><th>"Event"</th><th>"Status"</th><th>"Attempts"</th>
                                <th>"Last answer"</th><th>"Queued"</th><th>"Delivered"</th></tr></thead>
                            <tbody>
                                {rows.into_iter().map(|d| view! {
                                    <tr>
                                        <td>{d.id}</td><td>{d.webhook_id}</td><td>{d.event}</td><td>{d.status}</td>
                                        <td>{d.attempts}</td>
                                        <td>{d.last_status.map(|s| s.to_string()).unwrap_or_default()}
                                            <span class="muted">{d.last_error.map(|e| format!(" {e}")).unwrap_or_default()}</span></td>
                                        <td>{datetime(d.created_at)}</td>
                                        <td>{d.delivered_at.map(datetime).unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                };
                view! { {form} {body} }.into_any()
            })}
        </Suspense>
    }
}
