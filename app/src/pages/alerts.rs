//! `/alerts`: detected changes, newest first. The filters (project, direction, smallest
//! size in percent, age in days, kind, triage state, assignee) are in the query string,
//! so a link reproduces the list; the form submits with GET and works without
//! JavaScript. Triagers get checkboxes and a bulk "set state" action.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use perfwatch_core::alerts::{AlertDirection, AlertFilter, AlertKind, AlertView, TriageState};

use crate::api_alerts::{fetch_alert_list, AlertList};
use crate::api_triage::BulkSetAlertState;
use crate::format::{datetime, format_value, pct, short_sha};
use leptos::server_fn::ServerFn;

/// `worse` / `better`: the CSS class of an alert's direction.
pub fn direction_class(d: AlertDirection) -> &'static str {
    match d {
        AlertDirection::Regression => "worse",
        AlertDirection::Improvement => "better",
    }
}

/// The suspect range as links: `last good..first bad`.
pub fn suspect_range(a: &AlertView) -> impl IntoView {
    let link = |sha: Option<String>, url: Option<String>, fallback: String| match (sha, url) {
        (Some(s), Some(u)) => view! { <a href=u class="sha">{short_sha(&s)}</a> }.into_any(),
        (Some(s), None) => view! { <span class="sha">{short_sha(&s)}</span> }.into_any(),
        (None, _) => view! { <span>{fallback}</span> }.into_any(),
    };
    let good = a
        .last_good
        .clone()
        .map(|g| link(g.sha, g.url, datetime(g.time)));
    let bad = link(
        a.first_bad.sha.clone(),
        a.first_bad.url.clone(),
        datetime(a.first_bad.time),
    );
    let count = (a.suspect_total > 1).then(|| format!(" ({} commits)", a.suspect_total));
    view! {
        <span class="suspects">{good}{a.last_good.as_ref().map(|_| "..")}{bad}{count}</span>
    }
}

/// One alert's size: `+12.3% (+1.2 ms)`.
pub fn size(a: &AlertView) -> String {
    let abs = format_value(a.absolute_change.abs(), &a.series.unit);
    let sign = if a.absolute_change >= 0.0 { "+" } else { "-" };
    format!("{} ({sign}{abs})", pct(a.change_pct()))
}

fn filter_form(f: &AlertFilter, projects: Vec<String>) -> impl IntoView {
    let project = f.project.clone().unwrap_or_default();
    let dir = f.direction.map(|d| d.as_str()).unwrap_or("");
    let kind = f.kind.map(|k| k.as_str()).unwrap_or("");
    let min = f.min_change.map(|m| m.to_string()).unwrap_or_default();
    let age = f.max_age_days.map(|d| d.to_string()).unwrap_or_default();
    let state = f.state.map(|s| s.as_str()).unwrap_or("");
    let assignee = f.assignee.clone().unwrap_or_default();
    let states = TriageState::ALL
        .into_iter()
        .map(|s| view! { <option value=s.as_str() selected=s.as_str() == state>{s.label()}</option> })
        .collect_view();
    view! {
        <form class="filters" method="get" action="/alerts" data-testid="alert-filters">
            <label>"Project "
                <select name="project">
                    <option value="" selected=project.is_empty()>"all"</option>
                    {projects.into_iter().map(|p| {
                        let sel = p == project;
                        view! { <option value=p.clone() selected=sel>{p.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>"Direction "
                <select name="direction">
                    <option value="" selected=dir.is_empty()>"both"</option>
                    <option value="regression" selected=dir == "regression">"regressions"</option>
                    <option value="improvement" selected=dir == "improvement">"improvements"</option>
                </select>
            </label>
            <label>"Kind "
                <select name="kind">
                    <option value="" selected=kind.is_empty()>"all"</option>
                    <option value="changepoint" selected=kind == "changepoint">"change points"</option>
                    <option value="threshold" selected=kind == "threshold">"thresholds"</option>
                    <option value="drift" selected=kind == "drift">"drifts"</option>
                </select>
            </label>
            <label>"Min size % " <input type="number" name="min_change" min="0" step="any" value=min size="5" /></label>
            <label>"Max age (days) " <input type="number" name="max_age_days" min="1" step="1" value=age size="5" /></label>
            <label>"State "
                <select name="state" data-testid="filter-state">
                    <option value="" selected=state.is_empty()>"any"</option>
                    {states}
                </select>
            </label>
            <label>"Assignee " <input name="assignee" value=assignee size="10" placeholder="anyone, or none" /></label>
            <button type="submit">"Filter"</button>
            <a class="chip" href="/alerts">"clear"</a>
        </form>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let pairs = {
        let q = query.read_untracked();
        let keys = [
            "project",
            "direction",
            "min_change",
            "max_age_days",
            "kind",
            "series",
            "limit",
            "state",
            "assignee",
        ];
        keys.iter()
            .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
            .collect::<Vec<_>>()
    };
    let filter = AlertFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let data = crate::codec::resource(move || filter.clone(), fetch_alert_list);
    view! {
        <Title text="Alerts · perfwatch" />
        <h1>"Alerts"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || { let pairs = pairs.clone(); Suspend::new(async move {
                match data.await {
                    Ok(list) => alerts_list(pairs, list).into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}}
        </Suspense>
    }
}

/// The filter, the list and (for triagers) the bulk form, server-rendered: the ticked
/// alerts and the bulk post run through `crate::enhance` (`picks`, `post`), and the
/// list (a region) is read again after a bulk change.
fn alerts_list(pairs: Vec<(String, String)>, list: AlertList) -> impl IntoView {
    let f = AlertFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let empty = list.alerts.is_empty();
    let triage = list.can_triage;
    view! {
        {filter_form(&f, list.projects)}
        {triage.then(bulk_form)}
        <div data-region="alerts">
            <p class="muted">{format!("{} alerts", list.alerts.len())}</p>
            {empty.then(|| view! { <p class="note" data-testid="no-alerts">"No alerts match."</p> })}
            <table class="list alerts" data-testid="alerts">
                <thead><tr>{triage.then(|| view! { <th></th> })}<th>"Series"</th><th>"Change"</th><th>"Before → after"</th><th>"p"</th>
                    <th>"Suspects"</th><th>"Group"</th><th>"Detected"</th><th>"Status"</th></tr></thead>
                <tbody>
                    {list.alerts.into_iter().map(|a| alert_row(a, triage)).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// Bulk "set state" of the checked alerts (triagers only; needs the hydrated page,
/// which keeps the checked ids in the form).
fn bulk_form() -> impl IntoView {
    view! {
        <form method="post" action=BulkSetAlertState::url() class="bulk" data-testid="bulk-form" data-picks
            data-post data-result="bulk-result" data-ok="{} alerts changed" data-ok-one="1 alert changed"
            data-ok-testid="bulk-result" data-err-testid="bulk-result">
            <input type="hidden" name="ids" value="" />
            <span data-picks-count>"0 selected: "</span>
            <label>"set state "
                <select name="state">
                    {TriageState::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                </select>
            </label>
            <input name="fixed_commit" size="14" placeholder="fixing commit" />
            <button type="submit" data-testid="bulk-apply" disabled=true>"Apply"</button>
            {crate::enhance::result_slot::<BulkSetAlertState>("bulk-result", Some("bulk-result"))}
        </form>
    }
}

fn alert_row(a: AlertView, triage: bool) -> impl IntoView {
    let cls = direction_class(a.direction);
    // The list has no history at hand: the words and the reason, without the variation.
    let why = perfwatch_core::confidence::explain_alert(&a, None);
    let kind = match a.kind {
        AlertKind::Changepoint => "",
        AlertKind::Threshold => " · threshold",
        AlertKind::Drift => " · drift",
    };
    let unit = a.series.unit.clone();
    view! {
        <tr data-alert=a.id class=format!("alert {}", a.direction.as_str())>
            {triage.then(|| view! {
                <td><input type="checkbox" class="pick" data-testid="pick" aria-label="select" /></td>
            })}
            <td><a href=format!("/series/{}", a.series.id)>{a.series.label()}</a>
                <span class="muted">{format!(" {}", a.project)}</span></td>
            <td class=cls>{format!("{} {}", a.direction.as_str(), size(&a))}<span class="muted">{kind}</span></td>
            <td>{format!("{} → {}", format_value(a.before_median, &unit), format_value(a.after_median, &unit))}</td>
            <td title=why.why.clone()>{a.p_value.map(|p| format!("{p:.1e}")).unwrap_or_default()}
                {why.likelihood.map(|l| view! { <br /><small class=format!("likely {}", l.as_str()) data-testid="likelihood">{l.words()}</small> })}</td>
            <td>{suspect_range(&a)}</td>
            <td>{a.group_id.map(|g| view! { <a href=format!("/alerts/groups/{g}")>{format!("#{g}")}</a> })}</td>
            <td>{datetime(a.detected_at)}</td>
            <td><span class=format!("state state-{}", a.status)>{a.status.clone()}</span>
                {a.assignee.clone().map(|p| view! { <span class="muted">{format!(" · {p}")}</span> })}</td>
        </tr>
    }
}
