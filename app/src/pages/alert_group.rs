//! `/alerts/groups/:id`: the alerts that share one suspect push, each with a chart
//! zoomed around its change (the change marked) and the suspect commits with links.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use perfwatch_core::alerts::{AlertView, RangeAxis};
use perfwatch_core::chart::SeriesChart;

use super::alerts::{direction_class, size, suspect_range};
use crate::api_alerts::fetch_alert_group_page;
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
    let data = Resource::new(id, fetch_alert_group_page);
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
                        view! {
                            <Title text=format!("Alert group {} · perfwatch", g.id) />
                            <p class="crumbs"><a href=format!("/alerts?project={}", g.project)>{format!("Alerts of {}", g.project)}</a></p>
                            <h1>{format!("Alert group #{}", g.id)}</h1>
                            <p class="muted" data-testid="group-facts">{format!(
                                "{} · {} alerts: {} regressions, {} improvements · suspect range {} · updated {}",
                                g.project, g.alerts.len(), g.regressions, g.improvements, range, datetime(g.updated_at))}</p>
                            {triage_panel(&g)}
                            {g.alerts.into_iter().zip(page.charts).map(|(a, c)| alert_section(a, c)).collect_view()}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// State, assignee, ticket, notes and the history of every triage change.
fn triage_panel(g: &perfwatch_core::alerts::AlertGroupView) -> impl IntoView {
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
        <section class="triage" data-testid="triage">
            <p>
                <span class=format!("state state-{}", t.state.as_str()) data-testid="group-state">{state}</span>
                " · assignee: "{t.assignee.clone().unwrap_or_else(|| "nobody".into())}
                " · ticket: "{ticket}
            </p>
            <ul class="notes">{notes}</ul>
            <h3>"History"</h3>
            <table class="history" data-testid="history">
                <thead><tr><th>"when"</th><th>"who"</th><th>"what"</th><th>"from"</th><th>"to"</th></tr></thead>
                <tbody>{history}</tbody>
            </table>
        </section>
    }
}

fn alert_section(a: AlertView, chart: Option<SeriesChart>) -> impl IntoView {
    let unit = a.series.unit.clone();
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
                {format!(" · {} · detected {} · {}", a.kind.as_str(), datetime(a.detected_at), a.status)}
            </p>
            <p>"Suspects: "{suspect_range(&a)}</p>
            {chart.map(|c| view! { <TrendChart chart=c /> })}
            <ul class="suspect-commits" data-testid="suspect-commits">{commits}</ul>
            {more.map(|m| view! { <p class="muted">{m}</p> })}
        </section>
    }
}
