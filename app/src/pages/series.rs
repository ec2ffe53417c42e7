//! `/series/:id`: the trend chart of one series. Every setting (x axis, scale, range,
//! branch, overlays) lives in the query string, so the URL is a permalink of the view.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use perfwatch_core::chart::{ChartQuery, SeriesChart, XMode};

use crate::api::fetch_series_chart;
use crate::format::{datetime, short_sha};

fn href(id: i64, q: &ChartQuery) -> String {
    let qs = q.to_query_string();
    if qs.is_empty() {
        format!("/series/{id}")
    } else {
        format!("/series/{id}?{qs}")
    }
}

/// Links that change one setting of the current view.
fn controls(c: &SeriesChart) -> impl IntoView {
    let id = c.series.id;
    let q = &c.query;
    let other_x = if c.x_mode == XMode::Commit {
        XMode::Time
    } else {
        XMode::Commit
    };
    let x_link = href(
        id,
        &ChartQuery {
            x: Some(other_x),
            from: None,
            to: None,
            ..q.clone()
        },
    );
    let scale_link = href(
        id,
        &ChartQuery {
            log: !q.log,
            ..q.clone()
        },
    );
    let zoomed = q.from.is_some() || q.to.is_some();
    let reset = href(
        id,
        &ChartQuery {
            from: None,
            to: None,
            ..q.clone()
        },
    );
    let overlays = c
        .siblings
        .iter()
        .map(|s| {
            let on = q.overlay.contains(&s.id);
            let mut next = q.clone();
            if on {
                next.overlay.retain(|o| *o != s.id);
            } else {
                next.overlay.push(s.id);
            }
            view! { <a class=if on { "chip on" } else { "chip" } href=href(id, &next) data-overlay=s.id>{s.testbed.clone()}</a> }
        })
        .collect_view();
    let branches = c
        .branches
        .iter()
        .filter(|b| **b != c.main_branch)
        .map(|b| {
            let on = q.branches.contains(b);
            let mut next = q.clone();
            if on {
                next.branches.retain(|o| o != b);
            } else {
                next.branches.push(b.clone());
            }
            view! { <a class=if on { "chip on" } else { "chip" } href=href(id, &next)>{b.clone()}</a> }
        })
        .collect_view();
    view! {
        <div class="controls">
            <a class="chip" data-testid="toggle-x" href=x_link>{if c.x_mode == XMode::Commit { "x: commit order → time" } else { "x: time → commit order" }}</a>
            <a class="chip" data-testid="toggle-scale" href=scale_link>{if q.log { "scale: log → linear" } else { "scale: linear → log" }}</a>
            {zoomed.then(|| view! { <a class="chip" data-testid="reset-zoom" href=reset>"reset zoom"</a> })}
            <span class="muted">" Overlay testbeds: "</span>{overlays}
            <span class="muted">" Overlay branches: "</span>{branches}
        </div>
        <p class="hint muted">"Hover a point for its commit and value, click it to open its run, drag across the chart to zoom."</p>
    }
}

#[component]
pub fn SeriesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let id = params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1);
        let q = query.read();
        let keys = [
            "x",
            "scale",
            "from",
            "to",
            "branch",
            "overlay",
            "branches",
            "highlight",
        ];
        let pairs: Vec<(String, String)> = keys
            .iter()
            .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
            .collect();
        (
            id,
            ChartQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
        )
    };
    let data = crate::codec::resource(key, |(id, q)| fetch_series_chart(id, q));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(c) => {
                        let markers = c.raw_markers.clone();
                        view! {
                            <Title text=format!("{} · perfwatch", c.series.label()) />
                            <p class="crumbs"><a href=format!("/projects/{}", c.project.slug)>{c.project.name.clone()}</a>" · "<a data-testid="compare-link" href=format!("/projects/{}/compare?bench={}&measure={}&testbed={}", c.project.slug, perfwatch_core::chart::encode(&c.series.benchmark), perfwatch_core::chart::encode(&c.series.measure), perfwatch_core::chart::encode(&c.series.testbed))>"compare"</a></p>
                            <h1>{c.series.benchmark.clone()}</h1>
                            <p class="muted" data-testid="series-facts">{format!(
                                "{} in {} ({} is better) · testbed {}{} · branch {}",
                                c.series.measure, c.series.display_unit, c.series.direction.as_str(), c.series.testbed,
                                if c.series.params.is_empty() { String::new() } else { format!(" · {}", c.series.params) },
                                c.main_branch)}</p>
                            {controls(&c)}
                            <crate::components::SeasonalChart chart=c.clone() />
                            <crate::api_triage::LearnedSensitivity id=c.series.id />
                            <crate::components::ThresholdRules series_id=c.series.id />
                            <h2>"Releases and annotations"</h2>
                            <table class="list" data-testid="markers">
                                <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Commit"</th><th>"When"</th></tr></thead>
                                <tbody>
                                    {markers.into_iter().map(|m| view! {
                                        <tr><td>{m.name}</td><td>{m.kind}</td>
                                            <td>{m.sha.as_deref().map(short_sha).unwrap_or_default()}</td>
                                            <td>{datetime(m.time)}</td></tr>
                                    }).collect_view()}
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
