//! The metric sources page's "Save query" form (shown under a successful test, with
//! the tested source, template and `by` carried over) and the list of saved queries
//! with a delete button each. Server-function forms over `crate::api_saved_queries`
//! (`crate::enhance`): plain form posts before hydration, `fetch` plus a fresh server
//! render of the list after it.

use leptos::prelude::*;

use leptos::server_fn::ServerFn;

use crate::api_metric_query::TestedQuery;
use crate::api_saved_queries::{DeleteMetricQuery, SaveMetricQuery, SavedItem};

/// The form saving the query `t` was tested with.
pub fn save_form(slug: String, t: &TestedQuery) -> impl IntoView {
    let (source, template, by) = (t.source.clone(), t.template.clone(), t.by.clone());
    view! {
        <form method="post" action=SaveMetricQuery::url() class="query-form" data-testid="save-query-form"
            data-post data-result="save-query-result" data-ok="Saved {name} in source {source}."
            data-ok-testid="query-saved" data-err-testid="save-query-error">
            <h3>"Save this query"</h3>
            <input type="hidden" name="slug" value=slug />
            <input type="hidden" name="source" value=source />
            <input type="hidden" name="query" value=template />
            <input type="hidden" name="by" value=by />
            <label>"Name " <input type="text" name="name" size="20" placeholder="p99_latency" /></label>
            <label>" Unit " <input type="text" name="unit" size="8" placeholder="s" /></label>
            <label>" Better when "
                <select name="direction">
                    <option value="">"not said"</option>
                    <option value="lower">"lower"</option>
                    <option value="higher">"higher"</option>
                </select>
            </label>
            <label>" An empty result means "
                <select name="empty">
                    <option value="no_data">"no data"</option>
                    <option value="zero">"zero"</option>
                    <option value="error">"an error"</option>
                </select>
            </label>
            <br />
            <label>"Collect "
                <select name="collect">
                    <option value="window">"over run windows"</option>
                    <option value="schedule">"on a schedule (production series)"</option>
                </select>
            </label>
            <label>" every " <input type="text" name="step_s" size="6" inputmode="numeric" placeholder="300" />" s"</label>
            <label>" from " <input type="text" name="from" size="22" placeholder="RFC 3339; empty: a day ago" /></label>
            <label>" timezone " <input type="text" name="timezone" size="16" placeholder="UTC" /></label>
            <button type="submit" data-testid="save-query">"Save query"</button>
        </form>
        {crate::enhance::result_slot::<SaveMetricQuery>("save-query-result", Some("save-query-error"))}
    }
}

/// The saved queries of every source (a region: read again after a save or delete).
#[component]
pub fn SavedQueries(slug: String, saved: Vec<SavedItem>) -> impl IntoView {
    view! {
        <h2>"Saved queries"</h2>
        <div data-region="saved-queries">{table(slug, saved)}</div>
        {crate::enhance::result_slot::<DeleteMetricQuery>("delete-query-result", Some("delete-query-error"))}
    }
}

fn table(slug: String, list: Vec<SavedItem>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|q| {
            let how = match q.step_s {
                Some(s) => format!("every {s} s"),
                None => "run windows".to_string(),
            };
            let details = format!(
                "{}{}{}, empty: {}",
                q.unit,
                q.direction
                    .map(|d| format!(", {d} is better"))
                    .unwrap_or_default(),
                q.by.map(|b| format!(", by {b}")).unwrap_or_default(),
                q.empty
            );
            let (slug, source, name, key) = (
                slug.clone(),
                q.source.clone(),
                q.name.clone(),
                q.name.clone(),
            );
            view! {
                <tr data-testid="saved-query" data-name=key>
                    <td>{q.source}</td>
                    <td>{q.name}</td>
                    <td><code>{q.template}</code></td>
                    <td>{details}</td>
                    <td>{how}</td>
                    <td>
                        <form method="post" action=DeleteMetricQuery::url() class="inline-form" data-post
                            data-result="delete-query-result" data-ok="" data-err-testid="delete-query-error">
                            <input type="hidden" name="slug" value=slug />
                            <input type="hidden" name="source" value=source />
                            <input type="hidden" name="name" value=name />
                            <button type="submit" data-testid="delete-query">"Delete"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="saved-queries">
            <thead><tr><th>"Source"</th><th>"Name"</th><th>"Template"</th><th>"Unit, direction"</th><th>"Collected"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
