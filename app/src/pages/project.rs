//! `/projects/:slug?q=…&open=1`: the project's series grouped by benchmark, each with
//! a sparkline, its latest value, its change against the recent median and a badge
//! when it has an open alert; filtered by text and "only with open alerts".

use std::collections::{BTreeMap, HashSet};

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesOverview;

use super::job::{job_link, state_class, verdict_view};
use super::series_filter;
use crate::api::{fetch_project_overview, ProjectOverview};
use crate::api_jobs::fetch_project_jobs;
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

/// One benchmark's table of series.
fn bench_section(bench: String, rows: Vec<SeriesOverview>, open: &HashSet<i64>) -> impl IntoView {
    view! {
        <section class="bench">
            <h2>{bench}</h2>
            <table class="list series-table">
                <thead><tr><th>"Measure"</th><th>"Testbed"</th><th>"Params"</th><th>"Recent"</th><th>"Latest"</th><th>"Change"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|s| {
                        let cls = s.change_pct.map(|c| change_class(c, s.series.direction)).unwrap_or("");
                        let badge = open.contains(&s.series.id).then(|| view! {
                            " "<a class="badge open-alert" data-testid="open-alert-badge"
                                href=format!("/alerts?project={}&series={}", s.series.project, s.series.id)>"open alert"</a>
                        });
                        view! {
                            <tr data-testid="series-row" data-series=s.series.id>
                                <td><a href=format!("/series/{}", s.series.id)>{s.series.measure.clone()}</a>
                                    <span class="muted">{format!(" {} is better", s.series.direction.as_str())}</span>{badge}</td>
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
    }
}

/// The series list under the filter of the URL (`?q=…&open=1`).
fn series_list(o: &ProjectOverview, q: &str, only_open: bool) -> AnyView {
    let open: HashSet<i64> = o.open_alert_series.iter().copied().collect();
    let mut groups: BTreeMap<String, Vec<SeriesOverview>> = BTreeMap::new();
    let mut shown = 0;
    for s in &o.series {
        if series_filter::matches(&s.series, q) && (!only_open || open.contains(&s.series.id)) {
            shown += 1;
            groups
                .entry(s.series.benchmark.clone())
                .or_default()
                .push(s.clone());
        }
    }
    view! {
        <p class="muted" data-testid="series-shown">{format!("{shown} of {} series shown", o.series.len())}</p>
        {groups.into_iter().map(|(bench, rows)| bench_section(bench, rows, &open)).collect_view()}
    }
    .into_any()
}

/// The filter form: a GET form (works before hydration) whose text box also filters
/// live after it (`data-live`): the URL's query is rewritten and the list (a region)
/// comes from the server's render of it; the text box is outside the regions, so it
/// keeps its focus while typing. The toggle is a same-page link (`data-nav`).
fn filter_form(slug: &str, open_count: usize, q: String, open: bool) -> impl IntoView {
    let action = format!("/projects/{slug}");
    let toggle = format!("{action}{}", series_filter::query_string(&q, !open));
    view! {
        <form class="filters" method="get" action=action data-testid="series-filter" data-nav>
            <label>"Filter " <input name="q" value=q data-testid="series-q" autocomplete="off"
                placeholder="benchmark, measure, testbed or params" size="36" data-live /></label>
            <span data-region="series-open">
                {open.then(|| view! { <input type="hidden" name="open" value="1" /> })}
                <button type="submit">"Filter"</button>
                <a class=if open { "chip on" } else { "chip" } data-testid="only-open" href=toggle>
                    {format!("only with open alerts ({open_count})")}</a>
            </span>
        </form>
    }
}

#[component]
pub fn ProjectPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = crate::codec::resource(slug, fetch_project_overview);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => {
                        let count = o.series.iter().map(|s| &s.series.benchmark).collect::<HashSet<_>>().len();
                        let q = query.read_untracked().get("q").unwrap_or_default();
                        let open = query.read_untracked().get("open").is_some_and(|v| v == "1");
                        let runs = super::run_list::recent_runs(&o.recent_runs);
                        view! {
                            <Title text=format!("{} · perfwatch", o.project.name) />
                            <h1>{o.project.name.clone()}</h1>
                            <p class="controls"><a class="chip" data-testid="compare-link" href=format!("/projects/{}/compare", o.project.slug)>"Compare"</a><a class="chip" href=format!("/projects/{}/releases", o.project.slug)>"Releases"</a><a class="chip" href=format!("/projects/{}/deploys", o.project.slug)>"Deploys"</a></p>
                            <p class="muted">{format!("{} benchmarks · {} series · {} runs · main branch {}",
                                count, o.project.series_count, o.project.run_count, o.project.main_branch)}</p>
                            <JobsPanel slug=o.project.slug.clone() />
                            {series_filter_view(&o, q, open)}
                            {runs}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The filter and the series list under the filter of the URL.
fn series_filter_view(overview: &ProjectOverview, q: String, open: bool) -> impl IntoView {
    let open_count = overview.open_alert_series.len();
    let list = series_list(overview, &q, open);
    view! {
        {filter_form(&overview.project.slug, open_count, q, open)}
        <div data-region="series">{list}</div>
    }
}

/// The project's performance jobs in brief: the last master job and the newest job of
/// each open pull request, and, for admins, the way to the integration settings.
#[component]
fn JobsPanel(slug: String) -> impl IntoView {
    let key = slug.clone();
    let data = crate::codec::resource(move || key.clone(), fetch_project_jobs);
    view! {
        <Suspense fallback=|| ()>
            {move || { let slug = slug.clone(); Suspend::new(async move {
                let Ok(p) = data.await else { return ().into_any() };
                if !p.has_integration && p.last_master.is_none() && p.prs.is_empty() && !p.is_admin {
                    return ().into_any();
                }
                let master = match p.last_master {
                    Some(j) => view! {
                        <p data-testid="last-master">"Last master job: "{job_link(&j)}" "
                            <span class=state_class(&j.state)>{j.state.clone()}</span>" "{verdict_view(j.verdict.clone())}
                            <span class="muted">{format!(" {}", crate::format::short_sha(&j.sha))}</span></p>
                    }.into_any(),
                    None => view! { <p class="muted">"No master job yet."</p> }.into_any(),
                };
                let prs = (!p.prs.is_empty()).then(|| view! {
                    <table class="list" data-testid="pr-jobs">
                        <thead><tr><th>"PR"</th><th>"Job"</th><th>"State"</th><th>"Verdict"</th></tr></thead>
                        <tbody>
                            {p.prs.iter().map(|j| view! {
                                <tr>
                                    <td>{j.pr_number.map(|n| format!("#{n}")).unwrap_or_default()}</td>
                                    <td>{job_link(j)}</td>
                                    <td><span class=state_class(&j.state)>{j.state.clone()}</span></td>
                                    <td>{verdict_view(j.verdict.clone())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                });
                let admin = p.is_admin.then(|| view! {
                    <a class="chip" data-testid="integration-link" href=format!("/projects/{slug}/integration")>
                        {if p.has_integration { "GitHub integration" } else { "Link a GitHub repository" }}</a>
                });
                view! {
                    <section class="jobs-panel" data-testid="jobs-panel">
                        <h2>"Performance jobs"</h2>
                        {master}
                        {prs}
                        <p class="controls"><a class="chip" href="/queue">"Job queue"</a>{admin}</p>
                    </section>
                }.into_any()
            })}}
        </Suspense>
    }
}
