//! The metric sources page's "Save query" form (shown under a successful test, with
//! the tested source, template and `by` carried over) and the list of saved queries
//! with a delete button each. `ActionForm`s over `crate::api_saved_queries`: plain form
//! posts before hydration, `fetch` plus a reload of the list after it.

use leptos::prelude::*;

use crate::api_metric_query::TestedQuery;
use crate::api_saved_queries::{
    fetch_saved_queries, DeleteMetricQuery, SaveMetricQuery, SavedItem,
};

/// The form saving the query `t` was tested with.
pub fn save_form(
    slug: String,
    t: &TestedQuery,
    save: ServerAction<SaveMetricQuery>,
) -> impl IntoView {
    let (source, template, by) = (t.source.clone(), t.template.clone(), t.by.clone());
    view! {
        <ActionForm action=save attr:class="query-form" attr:data-testid="save-query-form">
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
        </ActionForm>
        {move || save.value().get().map(|r| match r {
            Ok(q) => view! {
                <p class="ok" data-testid="query-saved">{format!("Saved {} in source {}.", q.name, q.source)}</p>
            }.into_any(),
            Err(e) => view! { <p class="error" data-testid="save-query-error">{e.to_string()}</p> }.into_any(),
        })}
    }
}

/// The saved queries of every source, read again after each save or delete.
#[component]
pub fn SavedQueries(
    slug: String,
    save: ServerAction<SaveMetricQuery>,
    delete: ServerAction<DeleteMetricQuery>,
    initial: Vec<SavedItem>,
) -> impl IntoView {
    let s = slug.clone();
    let data = crate::island_data::refreshed(
        initial,
        move || (save.version().get(), delete.version().get()),
        move |_| fetch_saved_queries(s.clone()),
    );
    view! {
        <h2>"Saved queries"</h2>
        {move || table(slug.clone(), data.get(), delete)}
        {move || delete.value().get().and_then(|r| r.err()).map(|e| view! {
            <p class="error" data-testid="delete-query-error">{e.to_string()}</p>
        })}
    }
}

fn table(
    slug: String,
    list: Vec<SavedItem>,
    delete: ServerAction<DeleteMetricQuery>,
) -> impl IntoView {
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
                        <ActionForm action=delete attr:class="inline-form">
                            <input type="hidden" name="slug" value=slug />
                            <input type="hidden" name="source" value=source />
                            <input type="hidden" name="name" value=name />
                            <button type="submit" data-testid="delete-query">"Delete"</button>
                        </ActionForm>
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
