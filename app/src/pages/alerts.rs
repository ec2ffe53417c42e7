//! `/alerts`: detected changes, newest first. The filters (project, direction, smallest
//! size in percent, age in days, kind) are in the query string, so a link reproduces
//! the list; the form submits with GET and works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use perfwatch_core::alerts::{AlertDirection, AlertFilter, AlertKind, AlertView};

use crate::api_alerts::fetch_alert_list;
use crate::format::{datetime, format_value, pct, short_sha};

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
                </select>
            </label>
            <label>"Min size % " <input type="number" name="min_change" min="0" step="any" value=min size="5" /></label>
            <label>"Max age (days) " <input type="number" name="max_age_days" min="1" step="1" value=age size="5" /></label>
            <button type="submit">"Filter"</button>
            <a class="chip" href="/alerts">"clear"</a>
        </form>
    }
}

#[component]
pub fn AlertsPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let q = query.read();
        let keys = [
            "project",
            "direction",
            "min_change",
            "max_age_days",
            "kind",
            "series",
            "limit",
        ];
        let pairs: Vec<(String, String)> = keys
            .iter()
            .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
            .collect();
        AlertFilter::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    };
    let data = Resource::new(filter, fetch_alert_list);
    view! {
        <Title text="Alerts · perfwatch" />
        <h1>"Alerts"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let f = filter();
                match data.await {
                    Ok(list) => {
                        let empty = list.alerts.is_empty();
                        view! {
                            {filter_form(&f, list.projects)}
                            <p class="muted">{format!("{} alerts", list.alerts.len())}</p>
                            {empty.then(|| view! { <p class="note" data-testid="no-alerts">"No alerts match."</p> })}
                            <table class="list alerts" data-testid="alerts">
                                <thead><tr><th>"Series"</th><th>"Change"</th><th>"Before → after"</th><th>"p"</th>
                                    <th>"Suspects"</th><th>"Group"</th><th>"Detected"</th><th>"Status"</th></tr></thead>
                                <tbody>
                                    {list.alerts.into_iter().map(alert_row).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn alert_row(a: AlertView) -> impl IntoView {
    let cls = direction_class(a.direction);
    let kind = match a.kind {
        AlertKind::Changepoint => "",
        AlertKind::Threshold => " · threshold",
    };
    let unit = a.series.unit.clone();
    view! {
        <tr data-alert=a.id class=format!("alert {}", a.direction.as_str())>
            <td><a href=format!("/series/{}", a.series.id)>{a.series.label()}</a>
                <span class="muted">{format!(" {}", a.project)}</span></td>
            <td class=cls>{format!("{} {}", a.direction.as_str(), size(&a))}<span class="muted">{kind}</span></td>
            <td>{format!("{} → {}", format_value(a.before_median, &unit), format_value(a.after_median, &unit))}</td>
            <td>{a.p_value.map(|p| format!("{p:.1e}")).unwrap_or_default()}</td>
            <td>{suspect_range(&a)}</td>
            <td>{a.group_id.map(|g| view! { <a href=format!("/alerts/groups/{g}")>{format!("#{g}")}</a> })}</td>
            <td>{datetime(a.detected_at)}</td>
            <td>{a.status.clone()}</td>
        </tr>
    }
}
