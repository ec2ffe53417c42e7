//! `/projects/:slug/compare?base=…&head=…&only=significant&bench=&measure=&testbed=&sort=`:
//! base vs head, series by series. Every choice is in the query string (links and a
//! GET form), so the URL is a permalink that shows the same rows to whoever opens it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use perfwatch_core::chart::encode;
use perfwatch_core::comparison::{
    CompareRow, CompareSpec, ComparisonView, RowVerdict, SideSummary, SortKey,
};
use perfwatch_core::confidence::explain_row;

use super::compare_picker::ShortLinkButton;
use crate::api_compare::{fetch_comparison, ComparePageData};
use crate::format::{format_value, pct};

const KEYS: [&str; 7] = [
    "base", "head", "only", "bench", "measure", "testbed", "sort",
];

/// The raw query string of the page's known keys, re-encoded.
fn current_query(q: &leptos_router::params::ParamsMap) -> String {
    KEYS.iter()
        .filter_map(|k| q.get(k).map(|v| format!("{k}={}", encode(&v))))
        .collect::<Vec<_>>()
        .join("&")
}

fn side_cell(s: &Option<SideSummary>, unit: &str) -> String {
    match s {
        Some(s) => {
            let half = ((s.ci_high - s.ci_low) / 2.0).abs();
            if s.median != 0.0 {
                format!(
                    "{} ±{:.1}%",
                    format_value(s.median, unit),
                    half / s.median.abs() * 100.0
                )
            } else {
                format_value(s.median, unit)
            }
        }
        None => "–".into(),
    }
}

fn side_title(s: &Option<SideSummary>, unit: &str) -> String {
    s.map(|s| {
        format!(
            "n={} · {:.1}% interval [{}, {}]",
            s.n,
            s.confidence * 100.0,
            format_value(s.ci_low, unit),
            format_value(s.ci_high, unit)
        )
    })
    .unwrap_or_default()
}

/// Both sides' samples as dots on one axis: base above, head below.
#[component]
fn DotStrip(base: Vec<f64>, head: Vec<f64>) -> impl IntoView {
    let (w, h) = (120.0, 24.0);
    let all = base.iter().chain(head.iter()).filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x = move |v: f64| 4.0 + (v - lo) / span * (w - 8.0);
    let dots = |vals: &[f64], y: f64, class: &'static str| {
        vals.iter()
            .filter(|v| v.is_finite())
            .map(|v| view! { <circle class=class cx=format!("{:.1}", x(*v)) cy=y r="2.5" /> })
            .collect_view()
    };
    view! {
        <svg class="dots" viewBox=format!("0 0 {w} {h}") width=w height=h aria-hidden="true">
            {dots(&base, 7.0, "base")}
            {dots(&head, 17.0, "head")}
        </svg>
    }
}

fn verdict_cell(r: &CompareRow) -> String {
    match (r.verdict, r.needed, r.run_basis) {
        (RowVerdict::NotEnoughSamples, Some(n), Some(_)) => {
            format!("inconclusive (needs {n} runs/side)")
        }
        (RowVerdict::NotEnoughSamples, Some(n), None) => format!("inconclusive (needs {n}/side)"),
        (v, _, _) => v.label().to_string(),
    }
}

fn row_view(v: &ComparisonView, r: CompareRow) -> AnyView {
    let link = v.series_link(&r);
    let unit = r.series.unit.clone();
    let name = if r.series.params.is_empty() {
        r.series.benchmark.clone()
    } else {
        format!("{} [{}]", r.series.benchmark, r.series.params)
    };
    let change = match (r.change_pct, r.change_low, r.change_high) {
        (Some(c), Some(lo), Some(hi)) => format!("{} [{}, {}]", pct(c), pct(lo), pct(hi)),
        (Some(c), _, _) => pct(c),
        _ => "–".into(),
    };
    let p = match (r.p_adjusted, r.p_value) {
        (Some(a), _) => format!("{a:.3}"),
        (None, Some(p)) => format!("{p:.3}"),
        _ => "–".into(),
    };
    // The words come from core so every page (and the CLI) says the same thing.
    let why = explain_row(&r);
    let likely = why.likelihood.map(|l| {
        view! { <small class=format!("likely {}", l.as_str()) data-testid="likelihood">{l.words()}</small> }
    });
    let variation = why
        .variation
        .clone()
        .map(|v| view! { <small class="muted variation" data-testid="variation">{v}</small> });
    let verdict = r.verdict.as_str();
    view! {
        <tr data-verdict=verdict data-series=r.series.id>
            <td><a href=link>{name}</a></td>
            <td>{r.series.measure.clone()}</td>
            <td>{r.series.testbed.clone()}</td>
            <td title=side_title(&r.base, &unit)>{side_cell(&r.base, &unit)}</td>
            <td title=side_title(&r.head, &unit)>{side_cell(&r.head, &unit)}</td>
            <td class="num">{change}<br />{variation}</td>
            <td class="num">{p}<br />{likely}</td>
            <td><span class=format!("verdict {verdict}")>{verdict_cell(&r)}</span>
                <br /><small class="why" data-testid="why">{why.why.clone()}</small></td>
            <td><DotStrip base=r.base_samples.clone() head=r.head_samples.clone() /></td>
        </tr>
    }
    .into_any()
}

fn picker(d: &ComparePageData, spec: &CompareSpec) -> AnyView {
    let action = format!("/projects/{}/compare", d.slug);
    let base = spec.base.as_ref().map(|s| s.to_text()).unwrap_or_default();
    let head = spec.head.as_ref().map(|s| s.to_text()).unwrap_or_default();
    view! {
        <form class="filters" method="get" action=action data-testid="compare-form">
            <label>"Base " <input name="base" value=base placeholder="default: main at merge-base" size="28" /></label>
            <label>"Head " <input name="head" value=head placeholder="branch:my-pr" size="28" /></label>
            {spec.only_significant.then(|| view! { <input type="hidden" name="only" value="significant" /> })}
            {spec.bench.clone().map(|b| view! { <input type="hidden" name="bench" value=b /> })}
            {spec.measure.clone().map(|b| view! { <input type="hidden" name="measure" value=b /> })}
            {spec.testbed.clone().map(|b| view! { <input type="hidden" name="testbed" value=b /> })}
            <button type="submit">"Compare"</button>
            <span class="muted">"commit:SHA · branch:NAME · run:ID · release:NAME · time:FROM..TO"</span>
        </form>
        {super::compare_picker::picker_lists(d, d.now)}
    }
    .into_any()
}

fn filters(v: &ComparisonView) -> AnyView {
    let spec = &v.spec;
    let slug = &v.project;
    let mut toggled = spec.clone();
    toggled.only_significant = !spec.only_significant;
    let chip = |label: String, on: bool, s: CompareSpec| {
        view! { <a class=if on { "chip on" } else { "chip" } href=s.page_path(slug)>{label}</a> }
    };
    let measures = v
        .measures
        .iter()
        .map(|m| {
            let on = spec.measure.as_deref() == Some(m.as_str());
            let mut s = spec.clone();
            s.measure = (!on).then(|| m.clone());
            chip(format!("measure: {m}"), on, s)
        })
        .collect_view();
    let testbeds = v
        .testbeds
        .iter()
        .map(|t| {
            let on = spec.testbed.as_deref() == Some(t.as_str());
            let mut s = spec.clone();
            s.testbed = (!on).then(|| t.clone());
            chip(format!("testbed: {t}"), on, s)
        })
        .collect_view();
    let action = format!("/projects/{slug}/compare");
    let hidden = |k: &'static str, v: Option<String>| {
        v.map(|v| view! { <input type="hidden" name=k value=v /> })
    };
    view! {
        <div class="controls">
            <a class=if spec.only_significant { "chip on" } else { "chip" } data-testid="toggle-significant"
               href=toggled.page_path(slug)>"only significant"</a>
            {measures}{testbeds}
        </div>
        <form class="filters" method="get" action=action>
            {hidden("base", spec.base.as_ref().map(|s| s.to_text()))}
            {hidden("head", spec.head.as_ref().map(|s| s.to_text()))}
            {hidden("only", spec.only_significant.then(|| "significant".to_string()))}
            {hidden("measure", spec.measure.clone())}
            {hidden("testbed", spec.testbed.clone())}
            {hidden("sort", (spec.sort != SortKey::Verdict).then(|| spec.sort.as_str().to_string()))}
            <label>"Benchmark contains " <input name="bench" value=spec.bench.clone().unwrap_or_default() /></label>
            <button type="submit">"Filter"</button>
        </form>
    }
    .into_any()
}

fn summary(v: &ComparisonView) -> AnyView {
    let s = &v.summary;
    let geo = s
        .geomean
        .change_pct
        .map(|g| format!("geomean {} over {} series", pct(g), s.geomean.series))
        .unwrap_or_else(|| "no geomean".into());
    view! {
        <p class="muted">{format!("base: {}{}", v.base.label, if v.base_defaulted { " — default: main branch at the merge-base" } else { "" })}
            <br />{format!("head: {}", v.head.label)}</p>
        <p class="summary" data-testid="summary">
            <span class="worse">{format!("{} regressions", s.regressions)}</span>" · "
            <span class="better">{format!("{} improvements", s.improvements)}</span>
            {format!(" · {} unchanged · {} inconclusive · {} added · {} removed · {}", s.unchanged, s.inconclusive, s.added, s.removed, geo)}
        </p>
    }
    .into_any()
}

fn sort_link(v: &ComparisonView, key: SortKey, label: &'static str) -> impl IntoView {
    let mut s = v.spec.clone();
    s.sort = key;
    let on = v.spec.sort == key;
    view! { <a href=s.page_path(&v.project) class=if on { "sorted" } else { "" }>{label}</a> }
}

fn comparison(v: ComparisonView) -> AnyView {
    let rows = v.rows.clone();
    let shown = format!("{} of {} series shown", rows.len(), v.total_rows);
    view! {
        {summary(&v)}
        <p class="controls"><ShortLinkButton slug=v.project.clone() query=v.spec.to_query_string() /></p>
        {filters(&v)}
        <p class="muted" data-testid="shown">{shown}</p>
        <table class="list compare" data-testid="compare-rows">
            <thead><tr>
                <th>{sort_link(&v, SortKey::Name, "Benchmark")}</th><th>"Measure"</th><th>"Testbed"</th>
                <th>"Base median ± CI"</th><th>"Head median ± CI"</th>
                <th>{sort_link(&v, SortKey::Change, "Change [95% CI]")}</th>
                <th>{sort_link(&v, SortKey::P, "p (adj.)")}</th>
                <th>{sort_link(&v, SortKey::Verdict, "Verdict")}</th><th>"Samples"</th>
            </tr></thead>
            <tbody>{rows.into_iter().map(|r| row_view(&v, r)).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

#[component]
pub fn ComparePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        (
            params.read().get("slug").unwrap_or_default(),
            current_query(&query.read()),
        )
    };
    let data = crate::codec::resource(key, |(slug, q)| fetch_comparison(slug, q));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (_, query) = key();
                match data.await {
                    Ok(d) => compare_body(&query, d).into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The page body, server-rendered. Its filter, sort and picker links go to this page
/// with another query: after hydration they change the rows without a page load, the
/// rows coming from the server's render of the new URL (`data-nav`, `data-region`;
/// `crate::enhance`), back and forward included.
fn compare_body(query: &str, d: ComparePageData) -> impl IntoView {
    let spec = d
        .view
        .as_ref()
        .map(|v| v.spec.clone())
        .unwrap_or_else(|| CompareSpec::from_query_string(query).unwrap_or_default());
    view! {
        <div class="page" data-nav data-region="compare">
            <Title text=format!("Compare · {} · perfwatch", d.project_name) />
            <p class="crumbs"><a href=format!("/projects/{}", d.slug)>{d.project_name.clone()}</a>
                " · "<a href=format!("/projects/{}/releases", d.slug)>"releases"</a></p>
            <h1>"Compare"</h1>
            {picker(&d, &spec)}
            {d.error.clone().map(|e| view! { <p class="error" data-testid="compare-error">{e}</p> })}
            {d.view.clone().map(comparison)}
        </div>
    }
}
