//! `/admin/audit`: the audit log for global admins, newest first, 100 a page, filtered
//! by action (or family: `job`); everyone else sees a refusal (the server function
//! checks again).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api_account::fetch_audit;
use crate::api_triage::fetch_is_admin;
use crate::format::datetime;

/// The filter's choices: every family and action the log records.
const FILTERS: &[&str] = &[
    "login",
    "login.failed",
    "logout",
    "token",
    "user",
    "membership",
    "github",
    "metric_source",
    "job",
];

#[component]
pub fn AuditPage() -> impl IntoView {
    let q = use_query_map();
    let action = move || q.read().get("action").unwrap_or_default();
    let before = move || q.read().get("before").and_then(|b| b.parse::<i64>().ok());
    let admin = crate::codec::resource(|| (), |_| fetch_is_admin());
    let log = crate::codec::resource(
        move || (action(), before()),
        |(a, b)| fetch_audit(Some(a), b),
    );
    view! {
        <Title text="Audit log · perfwatch" />
        <h1>"Audit log"</h1>
        <p class="crumbs"><a href="/admin/tokens">"API tokens"</a>" · "<a href="/admin/deliveries">"Webhook deliveries"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                if !matches!(admin.await, Ok(true)) {
                    return view! { <p class="error" data-testid="not-admin">"Only administrators may read the audit log: log in as one."</p> }.into_any();
                }
                let current = action();
                let form = view! {
                    <form method="get" action="/admin/audit" class="filters">
                        <label>"Action "
                            <select name="action">
                                <option value="" selected=current.is_empty()>"all"</option>
                                {FILTERS.iter().map(|f| {
                                    let sel = *f == current;
                                    view! { <option value=*f selected=sel>{*f}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                        <button type="submit">"Show"</button>
                    </form>
                };
                let body = match log.await {
                    Ok(l) if l.rows.is_empty() => view! { <p class="note">"Nothing recorded."</p> }.into_any(),
                    Ok(l) => {
                        let older = l.next_before.map(|b| {
                            let href = if current.is_empty() {
                                format!("/admin/audit?before={b}")
                            } else {
                                format!(
                                    "/admin/audit?action={}&before={b}",
                                    perfwatch_core::chart::encode(&current)
                                )
                            };
                            view! { <p><a href=href data-testid="older">"Older entries"</a></p> }
                        });
                        view! {
                            <table class="list" data-testid="audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Target"</th>
                                    <th>"Details"</th><th>"Address"</th></tr></thead>
                                <tbody>
                                    {l.rows.into_iter().map(|r| view! {
                                        <tr data-audit=r.id>
                                            <td>{datetime(r.at)}</td><td>{r.actor}</td><td>{r.action}</td>
                                            <td>{r.target}</td><td><code>{r.details}</code></td>
                                            <td>{r.address.unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {older}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{crate::pages::load_error(&e)}</p> }.into_any(),
                };
                view! { {form} {body} }.into_any()
            })}
        </Suspense>
    }
}
