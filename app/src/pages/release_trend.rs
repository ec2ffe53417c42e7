//! `/projects/:slug/deploys/trend`: every production metric × the last releases and
//! deploys (oldest left), each cell the metric's change at that release against what
//! the previous release would have done at those hours, coloured better or worse for
//! the metric's direction, linking to the deploy page. "Slower or faster with this
//! release?" for every release at a glance.
//!
//! A page of its own rather than part of the releases page: the releases page compares
//! benchmark runs between two commits; this view judges production series at deploy
//! times, a different question with different data.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api_deploys::{fetch_release_trend, TrendCellData, TrendPage};
use crate::format::datetime;

/// Releases shown unless `?last=` says otherwise.
const DEFAULT_LAST: usize = 10;

#[component]
pub fn ReleaseTrendPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        (
            params.read().get("slug").unwrap_or_default(),
            query
                .read()
                .get("last")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(DEFAULT_LAST),
        )
    };
    let data = Resource::new(key, |(slug, last)| fetch_release_trend(slug, last));
    view! {
        <Title text="Release trend · perfwatch" />
        <h1>"Release trend"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(t) if t.releases.is_empty() || t.rows.is_empty() => view! {
                        <p class="note">"No release or deploy marker, or no production series, yet."</p>
                    }.into_any(),
                    Ok(t) => table(t).into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn table(t: TrendPage) -> impl IntoView {
    let slug = t.project.clone();
    let head = t
        .releases
        .iter()
        .map(|(id, name, time)| {
            view! {
                <th data-marker=*id>
                    <a href=format!("/projects/{slug}/deploys/{id}")>{name.clone()}</a>
                    <div class="muted small">{datetime(*time)}</div>
                </th>
            }
        })
        .collect_view();
    let rows = t
        .rows
        .into_iter()
        .map(|r| {
            let slug = t.project.clone();
            view! {
                <tr data-series=r.series_id>
                    <td>
                        <a href=format!("/series/{}", r.series_id)>{r.name.clone()}</a>
                        <div class="muted small">{format!("{} is better", r.direction)}</div>
                    </td>
                    {r.cells.into_iter().map(|c| cell(&slug, c)).collect_view()}
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted">
            <a href=format!("/projects/{}", t.project)>{t.project.clone()}</a>
            " · each cell: the change in the hours after the release against the same hours of past weeks scaled by the level before it (the deploy verdict), with its 95 % interval. "
            <a href=format!("/projects/{}/deploys", t.project)>"All deploys"</a>
        </p>
        <table class="list trend-table" data-testid="release-trend">
            <thead><tr><th>"Metric"</th>{head}</tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn cell(slug: &str, c: TrendCellData) -> impl IntoView {
    let class = match c.reading.as_str() {
        "worse" => "verdict regression",
        "better" => "verdict improvement",
        "same" => "verdict no-change",
        _ => "verdict",
    };
    let text = match c.change_pct {
        Some(p) => format!("{p:+.1}%"),
        None => "—".into(),
    };
    let title = match (c.low_pct, c.high_pct) {
        (Some(lo), Some(hi)) => format!("{} [{lo:+.1}%, {hi:+.1}%]", c.verdict.replace('_', " ")),
        _ => c.verdict.replace('_', " "),
    };
    view! {
        <td data-reading=c.reading.clone() data-verdict=c.verdict.clone()>
            <a class=class href=format!("/projects/{slug}/deploys/{}", c.marker_id) title=title.clone()>
                {text}
            </a>
            <div class="muted small">{title}</div>
        </td>
    }
}
