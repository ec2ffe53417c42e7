//! `/projects/:slug/metric-sources`: the project's metric sources (admins of the
//! project) and a query form with a "Test query" button: the unsaved template is
//! checked like at save time and evaluated against the chosen source over the latest
//! run's window (or the last settled hour, what a schedule reads), showing the
//! value(s), series count and coverage, or the source's error. Under a successful test
//! a "Save query" form stores it in its source (`metric_sources_saved`), and the saved
//! queries are listed with a delete button each.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api_error::AppError;
use crate::api_metric_query::{fetch_metric_sources, test_metric_query, SourceItem, TestedQuery};
use crate::api_saved_queries::{fetch_saved_queries, SavedItem};
use crate::format::datetime;
use crate::pages::metric_sources_saved::{save_form, SavedQueries};

/// What the "Test query" form asked for (`?source=…&query=…&by=…&window=…`).
#[derive(Clone, Default, PartialEq)]
struct Tried {
    source: String,
    query: String,
    by: String,
    window: String,
}

#[component]
pub fn MetricSourcesPage() -> impl IntoView {
    let params = use_params_map();
    let q = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let tried = move || {
        let q = q.read();
        q.get("query").map(|query| Tried {
            source: q.get("source").unwrap_or_default(),
            query,
            by: q.get("by").unwrap_or_default(),
            window: q.get("window").unwrap_or_default(),
        })
    };
    let data = crate::codec::resource(slug, fetch_metric_sources);
    let saved = crate::codec::resource(slug, fetch_saved_queries);
    // The test runs when the page is asked for with the form's fields (a GET form).
    let test = crate::codec::resource(
        move || (slug(), tried()),
        |(slug, t)| async move {
            match t {
                Some(t) => test_metric_query(slug, t.source, t.query, t.by, t.window)
                    .await
                    .map(Some),
                None => Ok(None),
            }
        },
    );
    view! {
        <Title text="Metric sources · perfwatch" />
        <h1>"Metric sources"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match (data.await, saved.await) {
                    (Ok(list), _) if list.is_empty() => view! {
                        <p class="note">"No metric source yet (PUT /api/v1/projects/{slug}/metric-sources/{name})."</p>
                    }.into_any(),
                    (Ok(list), Ok(saved)) => {
                        let t = tried().unwrap_or_default();
                        page(slug(), list, saved, t, test.await).into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <p class="error" data-testid="forbidden">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The sources, the saved queries (server-function forms, `crate::enhance`), the
/// "Test query" form (a GET form: the page runs the test) and its result.
fn page(
    slug: String,
    list: Vec<SourceItem>,
    saved: Vec<SavedItem>,
    t: Tried,
    tested: Result<Option<TestedQuery>, AppError>,
) -> impl IntoView {
    let options = list
        .iter()
        .map(|s| {
            let on = s.name == t.source;
            view! { <option value=s.name.clone() selected=on>{s.name.clone()}</option> }
        })
        .collect_view();
    let sources = list
        .into_iter()
        .map(|s| {
            view! {
                <details class="source">
                    <summary>{format!("{} · queries: {}", s.name, s.queries.join(", "))}</summary>
                    <pre>{s.config}</pre>
                </details>
            }
        })
        .collect_view();
    let hour = t.window == "hour";
    let outcome = match tested {
        Ok(Some(r)) => Some(result(slug.clone(), r).into_any()),
        Ok(None) => None,
        Err(e) => Some(
            view! { <p class="error" data-testid="query-test-error">{e.to_string()}</p> }
                .into_any(),
        ),
    };
    view! {
        {sources}
        <SavedQueries slug=slug.clone() saved />
        <h2>"Test a query"</h2>
        <form method="get" action=format!("/projects/{slug}/metric-sources") class="query-form" data-testid="query-form">
            <label>"Source " <select name="source">{options}</select></label>
            <label>"PromQL template"
                <textarea name="query" rows="3" cols="80" placeholder="sum(rate(http_requests_total[{{window}}]))">{t.query}</textarea>
            </label>
            <label>"One value per label (by) " <input type="text" name="by" placeholder="endpoint" value=t.by /></label>
            <label>"Window "
                <select name="window">
                    <option value="run">"the latest run's window"</option>
                    <option value="hour" selected=hour>"the last hour (schedules)"</option>
                </select>
            </label>
            <button type="submit" data-testid="test-query">"Test query"</button>
        </form>
        {outcome}
    }
}

fn result(slug: String, t: TestedQuery) -> impl IntoView {
    // Only a query that the source answered can be saved from here.
    let form = t.error.is_none().then(|| save_form(slug, &t));
    let rows = t
        .values
        .into_iter()
        .map(|v| {
            view! {
                <tr>
                    <td>{v.label.unwrap_or_else(|| "—".into())}</td>
                    <td data-testid="tested-value">{v.value.map_or("no data".to_string(), |x| format!("{x}"))}</td>
                    <td>{v.series_count}</td>
                    <td>{format!("{:.0}%", v.coverage * 100.0)}</td>
                    <td class="muted">{v.invalid.map(|i| format!("invalid: {i}")).or(v.note).unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div data-testid="query-test-result">
            <p class="muted">{format!("Over {}: {} – {} (UTC)", t.window, datetime(t.start), datetime(t.end))}</p>
            {t.query_text.map(|q| view! { <p><code>{q}</code></p> })}
            {t.error.map(|e| view! { <p class="error" data-testid="query-test-error">{e}</p> })}
            <table class="list">
                <thead><tr><th>"Label"</th><th>"Value"</th><th>"Series"</th><th>"Coverage"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {form}
        </div>
    }
}
