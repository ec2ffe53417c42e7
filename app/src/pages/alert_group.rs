//! `/alerts/groups/:id`: the alerts that share one suspect push, each with a chart
//! zoomed around its change (the change marked) and the suspect commits with links.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use perfwatch_core::alerts::{
    AlertGroupView, AlertView, GroupTriage as Triage, RangeAxis, TriageState,
};
use perfwatch_core::chart::SeriesChart;
use perfwatch_core::confidence::{explain_alert, run_to_run_pct};

use super::alerts::{direction_class, size, suspect_range};
use crate::api_alerts::fetch_alert_group_page;
use crate::api_error::AppError;
use crate::api_triage::{AddGroupNote, LinkGroupTicket, SetGroupAssignee, SetGroupState};
use crate::chart::TrendChart;
use crate::format::{datetime, format_value, short_sha};

#[component]
pub fn AlertGroupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let data = crate::codec::resource(id, fetch_alert_group_page);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let g = page.group;
                        let range = match g.axis {
                            RangeAxis::Commit => format!("commits {}..{} on the main branch", g.range.lo, g.range.hi),
                            RangeAxis::Time => format!("{} .. {}", datetime(g.range.lo), datetime(g.range.hi)),
                        };
                        let alerts = g.alerts.clone();
                        view! {
                            <Title text=format!("Alert group {} · perfwatch", g.id) />
                            <p class="crumbs"><a href=format!("/alerts?project={}", g.project)>{format!("Alerts of {}", g.project)}</a></p>
                            <h1>{format!("Alert group #{}", g.id)}</h1>
                            <p class="muted" data-testid="group-facts">{format!(
                                "{} · {} alerts: {} regressions, {} improvements · suspect range {} · updated {}",
                                g.project, g.alerts.len(), g.regressions, g.improvements, range, datetime(g.updated_at))}</p>
                            {group_triage(&g, page.can_triage, page.has_ticket_template)}
                            {alerts.into_iter().zip(page.charts).map(|(a, c)| alert_section(a, c)).collect_view()}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The group's triage state, the controls of a triager and the history: a region,
/// read again after every action (server-function forms, `crate::enhance`), so state
/// and history update in place without a page load.
fn group_triage(g: &AlertGroupView, can_triage: bool, has_template: bool) -> AnyView {
    view! {
        <div data-region="group-triage">
            {triage_panel(g)}
            {can_triage.then(|| triage_controls(g.id, &g.triage, has_template))}
            {history_table(g)}
        </div>
    }
    // Server-only: erasing the type keeps the page's view type within the compiler's
    // query depth.
    .into_any()
}

/// A triage form posting to server function `S`; its error shows under it (in the
/// element with id `result`).
fn triage_form<S>(testid: &'static str, result: &'static str, children: impl IntoView) -> AnyView
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    view! {
        <form method="post" action=S::url() class="triage-form" data-testid=testid data-post
            data-result=result data-ok="" data-err-testid="triage-error">
            {children}
        </form>
        {crate::enhance::result_slot::<S>(result, Some("triage-error"))}
    }
    .into_any()
}

/// The controls of someone who may triage this group: state (with the fixing commit),
/// assignee, note, ticket link and "open new issue" from the project's template.
fn triage_controls(gid: i64, t: &Triage, has_template: bool) -> impl IntoView {
    let current = t.state;
    let options = TriageState::ALL
        .into_iter()
        .map(|s| view! { <option value=s.as_str() selected=s == current>{s.label()}</option> })
        .collect_view();
    let assignee = t.assignee.clone().unwrap_or_default();
    let key = t.ticket_key.clone().unwrap_or_default();
    let url = t.ticket_url.clone().unwrap_or_default();
    let fixed = t.fixed_commit.clone().unwrap_or_default();
    view! {
        <section class="triage-controls" data-testid="triage-controls">
            {triage_form::<SetGroupState>("state-form", "state-form-result", view! {
                <input type="hidden" name="group_id" value=gid />
                <label>"State "<select name="state" data-testid="state-select">{options}</select></label>
                <label>" fixing commit "<input name="fixed_commit" value=fixed size="14"
                    placeholder="sha (for fixed)" /></label>
                <button type="submit" data-testid="set-state">"Set state"</button>
            })}
            {triage_form::<SetGroupAssignee>("assignee-form", "assignee-form-result", view! {
                <input type="hidden" name="group_id" value=gid />
                <label>"Assignee "<input name="assignee" value=assignee size="16" placeholder="nobody" /></label>
                <button type="submit">"Assign"</button>
            })}
            {triage_form::<LinkGroupTicket>("ticket-form", "ticket-form-result", view! {
                <input type="hidden" name="group_id" value=gid />
                <label>"Ticket "<input name="key" value=key size="12" placeholder="PERF-123" /></label>
                <label>" URL "<input name="url" type="url" value=url size="36"
                    placeholder="https://…" /></label>
                <button type="submit" data-testid="link-ticket">"Link ticket"</button>
                {has_template.then(|| view! {
                    " "<a class="chip" data-testid="new-ticket" target="_blank" rel="noopener"
                        href=format!("/api/v1/alert-groups/{gid}/new-ticket?go=1")>"Open new issue"</a>
                })}
            })}
            {triage_form::<AddGroupNote>("note-form", "note-form-result", view! {
                <input type="hidden" name="group_id" value=gid />
                <label>"Note "<textarea name="body" rows="2" cols="50" required></textarea></label>
                <button type="submit">"Add note"</button>
            })}
        </section>
    }
}

/// State, assignee, ticket, notes and the history of every triage change.
fn triage_panel(g: &AlertGroupView) -> impl IntoView {
    let t = g.triage.clone();
    let state = format!(
        "{}{}{}",
        t.state.label(),
        t.fixed_commit
            .as_deref()
            .map(|c| format!(" by {c}"))
            .unwrap_or_default(),
        if t.state_set {
            ""
        } else {
            " (follows its alerts)"
        }
    );
    let ticket = match (t.ticket_key.clone(), t.ticket_url.clone()) {
        (Some(k), Some(u)) => view! { <a data-testid="ticket" href=u>{k}</a> }.into_any(),
        _ => view! { <span class="muted">"none"</span> }.into_any(),
    };
    let notes = g
        .notes
        .iter()
        .map(|n| view! { <li><span class="muted">{format!("{} · {}: ", datetime(n.created_at), n.author)}</span>{n.body.clone()}</li> })
        .collect_view();
    view! {
        <section class="triage" data-testid="triage">
            <p>
                <span class=format!("state state-{}", t.state.as_str()) data-testid="group-state">{state}</span>
                " · assignee: "{t.assignee.clone().unwrap_or_else(|| "nobody".into())}
                " · ticket: "{ticket}
            </p>
            <ul class="notes">{notes}</ul>
        </section>
    }
}

/// Every triage change: who, when, from → to.
fn history_table(g: &AlertGroupView) -> impl IntoView {
    let history = g
        .history
        .iter()
        .map(|h| {
            view! {
                <tr>
                    <td>{datetime(h.at)}</td>
                    <td>{h.actor.clone()}</td>
                    <td>{h.field.clone()}{h.alert_id.map(|a| format!(" (alert {a})")).unwrap_or_default()}</td>
                    <td>{h.from.clone().unwrap_or_else(|| "—".into())}</td>
                    <td>{h.to.clone().unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="triage-history">
            <h3>"History"</h3>
            <table class="history" data-testid="history">
                <thead><tr><th>"when"</th><th>"who"</th><th>"what"</th><th>"from"</th><th>"to"</th></tr></thead>
                <tbody>{history}</tbody>
            </table>
        </section>
    }
}

fn alert_section(a: AlertView, chart: Option<SeriesChart>) -> AnyView {
    let unit = a.series.unit.clone();
    // Typical run-to-run variation from the charted points of the series' own line.
    let levels: Vec<f64> = chart
        .as_ref()
        .and_then(|c| c.lines.iter().find(|l| l.series_id == a.series.id))
        .map(|l| l.points.iter().map(|p| p.y).collect())
        .unwrap_or_default();
    let why = explain_alert(&a, run_to_run_pct(&levels));
    let more = (a.suspect_total > a.suspect_commits.len() as i64).then(|| {
        format!(
            "… and {} more",
            a.suspect_total - a.suspect_commits.len() as i64
        )
    });
    let commits = a
        .suspect_commits
        .iter()
        .map(|c| {
            let sha = match &c.url {
                Some(u) => view! { <a class="sha" href=u.clone()>{short_sha(&c.sha)}</a> }.into_any(),
                None => view! { <span class="sha">{short_sha(&c.sha)}</span> }.into_any(),
            };
            let msg = c.message.as_deref().and_then(|m| m.lines().next()).unwrap_or("").to_string();
            view! {
                <li>{sha}" "{msg}<span class="muted">{c.author.clone().map(|a| format!(" — {a}")).unwrap_or_default()}</span></li>
            }
        })
        .collect_view();
    view! {
        <section class="alert-detail" data-alert=a.id>
            <h2><a href=format!("/series/{}", a.series.id)>{a.series.label()}</a></h2>
            <p>
                <span class=direction_class(a.direction)>{format!("{} {}", a.direction.as_str(), size(&a))}</span>
                {format!(" · {} → {}", format_value(a.before_median, &unit), format_value(a.after_median, &unit))}
                {a.p_value.map(|p| format!(" · p = {p:.1e}"))}
                {why.likelihood.map(|l| view! { " " <small class=format!("likely {}", l.as_str()) data-testid="likelihood">{format!("({})", l.words())}</small> })}
                {why.variation.clone().map(|v| view! { <span class="muted" data-testid="variation">{format!(" · {v}")}</span> })}
                {format!(" · {} · detected {} · {}", a.kind.as_str(), datetime(a.detected_at), a.status)}
            </p>
            <p class="why" data-testid="why">{why.why.clone()}</p>
            <p>"Suspects: "{suspect_range(&a)}</p>
            {chart.map(|c| view! { <TrendChart chart=c expected=Vec::new() /> }.into_any())}
            <ul class="suspect-commits" data-testid="suspect-commits">{commits}</ul>
            {more.map(|m| view! { <p class="muted">{m}</p> })}
        </section>
    }
    .into_any()
}
