//! `/projects/:slug/releases?series=<id>`: each release against the one before it
//! (counts, geomean, link to the compare page), and per-release medians with their
//! intervals for one series.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use perfwatch_core::comparison::ReleasePoint;

use crate::api_compare::fetch_releases;
use crate::format::{date, format_value, pct};

/// Medians (dots) with interval whiskers, one column per release.
#[component]
fn ReleaseChart(points: Vec<ReleasePoint>, unit: String) -> AnyView {
    let (w, h, left, bottom) = (720.0, 240.0, 80.0, 30.0);
    let lo = points.iter().map(|p| p.ci_low).fold(f64::MAX, f64::min);
    let hi = points.iter().map(|p| p.ci_high).fold(f64::MIN, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let pad = (hi - lo) * 0.1;
    let (lo, hi) = (lo - pad, hi + pad);
    let y = move |v: f64| 10.0 + (hi - v) / (hi - lo) * (h - bottom - 10.0);
    let n = points.len().max(1) as f64;
    let x = move |i: usize| left + (i as f64 + 0.5) / n * (w - left - 10.0);
    let path = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                x(i),
                y(p.median)
            )
        })
        .collect::<String>();
    let ticks = (0..=4)
        .map(|k| {
            let v = lo + (hi - lo) * k as f64 / 4.0;
            view! {
                <line class="grid" x1=left x2=w - 10.0 y1=y(v) y2=y(v) />
                <text class="tick" x=left - 6.0 y=y(v) + 4.0 text-anchor="end">{format_value(v, &unit)}</text>
            }
        })
        .collect_view();
    let items = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let title = format!(
                "{}: median {} [{}, {}], n={}",
                p.release,
                format_value(p.median, &unit),
                format_value(p.ci_low, &unit),
                format_value(p.ci_high, &unit),
                p.n
            );
            view! {
                <g class="release-point">
                    <title>{title}</title>
                    <line class="whisker" x1=x(i) x2=x(i) y1=y(p.ci_low) y2=y(p.ci_high) />
                    <circle cx=x(i) cy=y(p.median) r="4" />
                    <text class="tick" x=x(i) y=h - 10.0 text-anchor="middle">{p.release.clone()}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <svg class="releases-chart" viewBox=format!("0 0 {w} {h}") data-testid="release-chart">
            {ticks}
            <path class="median" d=path />
            {items}
        </svg>
    }
    .into_any()
}

#[component]
pub fn ReleasesPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        (
            params.read().get("slug").unwrap_or_default(),
            query
                .read()
                .get("series")
                .and_then(|s| s.parse::<i64>().ok()),
        )
    };
    let data = crate::codec::resource(key, |(slug, series)| fetch_releases(slug, series));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => {
                        let slug = r.project.slug.clone();
                        let chosen_id = r.chosen.as_ref().map(|s| s.id);
                        let unit = r.chosen.as_ref().map(|s| s.unit.clone()).unwrap_or_default();
                        let options = r.series.iter().map(|s| view! {
                            <option value=s.id selected=Some(s.id) == chosen_id>{s.label()}</option>
                        }).collect_view();
                        let steps = r.steps.iter().rev().map(|s| {
                            let link = s.query.as_ref().map(|q| format!("/projects/{slug}/compare?{q}"));
                            let (counts, geo) = match &s.summary {
                                Some(m) => (
                                    format!("{} regressions · {} improvements · {} unchanged · {} inconclusive",
                                        m.regressions, m.improvements, m.unchanged, m.inconclusive),
                                    m.geomean.change_pct.map(pct).unwrap_or_default(),
                                ),
                                None => (s.note.clone().unwrap_or_default(), String::new()),
                            };
                            view! {
                                <tr>
                                    <td>{s.name.clone()}</td>
                                    <td>{s.previous.clone().unwrap_or_default()}</td>
                                    <td>{date(s.at)}</td>
                                    <td>{counts}</td>
                                    <td>{geo}</td>
                                    <td>{link.map(|l| view! { <a href=l>"compare"</a> })}</td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            <Title text=format!("Releases · {} · perfwatch", r.project.name) />
                            <p class="crumbs"><a href=format!("/projects/{slug}")>{r.project.name.clone()}</a></p>
                            <h1>"Releases"</h1>
                            <table class="list" data-testid="release-steps">
                                <thead><tr><th>"Release"</th><th>"Against"</th><th>"Date"</th><th>"Series"</th><th>"Geomean"</th><th></th></tr></thead>
                                <tbody>{steps}</tbody>
                            </table>
                            <h2>"Per-release medians"</h2>
                            <form class="filters" method="get" action=format!("/projects/{slug}/releases")>
                                <select name="series">{options}</select>
                                <button type="submit">"Show"</button>
                            </form>
                            {if r.points.is_empty() {
                                view! { <p class="muted">"No release has results for this series."</p> }.into_any()
                            } else {
                                view! { <ReleaseChart points=r.points.clone() unit=unit /> }.into_any()
                            }}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}
