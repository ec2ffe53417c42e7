//! `/projects/:slug/deploys/:id`: a release or deploy marker and, per production
//! series, the value after it against its seasonal expectation (same hours of the week
//! in past weeks, scaled by the level before the deploy), the change with its 95 %
//! interval, the verdict after the many-metrics correction, and why.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api_deploys::{fetch_deploy, DeployRow, QueryLink};
use crate::components::BandSparkline;
use crate::format::{datetime, format_value};

#[component]
pub fn DeployPage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("slug").unwrap_or_default(),
            p.get("id")
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(-1),
        )
    };
    let data = Resource::new(key, |(slug, id)| fetch_deploy(slug, id));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        <Title text=format!("{} {} · perfwatch", d.kind, d.name) />
                        <h1>{format!("{} {}", d.kind, d.name)}</h1>
                        <p class="muted">
                            <a href=format!("/projects/{}", d.project)>{d.project.clone()}</a>
                            {format!(" · {} (UTC) · the {} h after it against the same hours of the last {} weeks, scaled by the level before it", datetime(d.time), d.window_h, d.weeks)}
                        </p>
                        <table class="list" data-testid="deploy-verdicts">
                            <thead><tr><th>"Series"</th><th>"Around the deploy"</th><th>"Expected"</th><th>"After"</th><th>"Change [95% CI]"</th><th>"Verdict"</th><th>"Why"</th></tr></thead>
                            <tbody>{d.rows.into_iter().map(row).collect_view()}</tbody>
                        </table>
                        <p class="muted">"The band: what the same hours of the past weeks predict, scaled by the level before the deploy, ± 1.96 × the series' normal deviation from that prediction; ringed points lie outside it. "
                            <a href=format!("/projects/{}/deploys/trend", d.project)>"Release trend"</a></p>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

// Type-erased (AnyView): the nested row type otherwise overflows the compiler's
// query depth in the wasm build.
fn row(r: DeployRow) -> AnyView {
    let value = |v: Option<f64>| v.map_or("—".to_string(), |v| format_value(v, &r.unit));
    let change = match (r.change_pct, r.low_pct, r.high_pct) {
        (Some(c), Some(lo), Some(hi)) => format!("{c:+.1}% [{lo:+.1}%, {hi:+.1}%]"),
        (Some(c), _, _) => format!("{c:+.1}%"),
        _ => "—".into(),
    };
    let class = match r.verdict.as_str() {
        "higher" | "lower" => "verdict regression",
        "pass" => "verdict no-change",
        _ => "verdict",
    };
    view! {
        <tr data-verdict=r.verdict.clone() data-after=r.after data-after-outside=r.after_outside>
            <td>
                <a href=format!("/series/{}", r.series_id)>{r.name.clone()}</a>
                {r.query.clone().map(query_cell)}
            </td>
            <td class="spark-cell">{r.spark.clone().map(|spark| view! { <BandSparkline spark /> }.into_any())}
                {(r.after > 0).then(|| view! { <div class="muted small">{format!("{} of {} points after it outside the band", r.after_outside, r.after)}</div> })}
            </td>
            <td>{value(r.expected)}</td>
            <td>{value(r.observed)}</td>
            <td>{change}</td>
            <td class=class>{r.verdict.replace('_', " ")}</td>
            <td class="muted">{r.reason.clone()}</td>
        </tr>
    }
    .into_any()
}

/// `/projects/:slug/deploys`: the project's release and deploy markers, newest first,
/// each linking to its verdicts.
#[component]
pub fn DeploysPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, crate::api_deploys::fetch_deploy_markers);
    view! {
        <Title text="Deploys · perfwatch" />
        <h1>"Deploys and releases"</h1>
        <p><a href=move || format!("/projects/{}/deploys/trend", slug())>"Release trend: every metric × the last releases"</a></p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let s = slug();
                match data.await {
                    Ok(list) if list.is_empty() => view! { <p class="note">"No deploy or release marker yet (perfwatch annotate deploy --version …, or GitHub deployments)."</p> }.into_any(),
                    Ok(list) => view! {
                        <table class="list" data-testid="deploy-list">
                            <thead><tr><th>"When (UTC)"</th><th>"Kind"</th><th>"Name"</th><th>"Note"</th></tr></thead>
                            <tbody>{list.into_iter().map(|m| view! {
                                <tr>
                                    <td>{datetime(m.time)}</td>
                                    <td>{m.kind.clone()}</td>
                                    <td><a href=format!("/projects/{s}/deploys/{}", m.id)>{m.name.clone()}</a></td>
                                    <td class="muted">{m.description.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The query that reads the series, and a link to the source's own graph of it.
fn query_cell(q: QueryLink) -> AnyView {
    view! {
        <details class="query">
            <summary>{format!("query ({})", q.source)}</summary>
            <code data-testid="query-text">{q.text.clone()}</code>
            {q.graph_url.map(|u| view! { " " <a href=u rel="noopener" target="_blank">"open in the source"</a> })}
        </details>
    }
    .into_any()
}
