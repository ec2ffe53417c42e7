//! `/projects/:slug`: the project's series grouped by benchmark, each with a
//! sparkline, its latest value and its change against the recent median.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesOverview;

use crate::api::fetch_project_overview;
use crate::components::Sparkline;
use crate::format::{format_value, pct};

/// `worse`, `better` or `` for a change in percent, given which way is better. Changes
/// under 2% are not coloured: run-to-run noise of most benchmarks is that large.
pub fn change_class(change: f64, direction: Direction) -> &'static str {
    if change.abs() < 2.0 {
        return "";
    }
    match (change > 0.0, direction) {
        (true, Direction::Lower) | (false, Direction::Higher) => "worse",
        _ => "better",
    }
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, fetch_project_overview);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => {
                        let mut groups: BTreeMap<String, Vec<SeriesOverview>> = BTreeMap::new();
                        for s in o.series {
                            groups.entry(s.series.benchmark.clone()).or_default().push(s);
                        }
                        let count = groups.len();
                        view! {
                            <Title text=format!("{} · perfwatch", o.project.name) />
                            <h1>{o.project.name.clone()}</h1>
                            <p class="controls"><a class="chip" data-testid="compare-link" href=format!("/projects/{}/compare", o.project.slug)>"Compare"</a><a class="chip" href=format!("/projects/{}/releases", o.project.slug)>"Releases"</a></p>
                            <p class="muted">{format!("{} benchmarks · {} series · {} runs · main branch {}",
                                count, o.project.series_count, o.project.run_count, o.project.main_branch)}</p>
                            {groups.into_iter().map(|(bench, rows)| view! {
                                <section class="bench">
                                    <h2>{bench}</h2>
                                    <table class="list series-table">
                                        <thead><tr><th>"Measure"</th><th>"Testbed"</th><th>"Params"</th><th>"Recent"</th><th>"Latest"</th><th>"Change"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|s| {
                                                let cls = s.change_pct.map(|c| change_class(c, s.series.direction)).unwrap_or("");
                                                view! {
                                                    <tr>
                                                        <td><a href=format!("/series/{}", s.series.id)>{s.series.measure.clone()}</a>
                                                            <span class="muted">{format!(" {} is better", s.series.direction.as_str())}</span></td>
                                                        <td>{s.series.testbed.clone()}</td>
                                                        <td>{s.series.params.clone()}</td>
                                                        <td><Sparkline values=s.spark.clone() /></td>
                                                        <td>{s.latest.map(|v| format_value(v, &s.series.unit)).unwrap_or_default()}</td>
                                                        <td class=cls>{s.change_pct.map(pct).unwrap_or_default()}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </section>
                            }).collect_view()}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
