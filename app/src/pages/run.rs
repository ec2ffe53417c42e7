//! `/runs/:id`: one run: its commit, testbed, metadata and every measurement.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::fetch_run_detail;
use crate::format::{datetime, format_value, short_sha};

#[component]
pub fn RunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let data = crate::codec::resource(id, fetch_run_detail);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => {
                        let commit = r.commit.clone().map(|c| {
                            let sha = short_sha(&c.sha);
                            let link = match c.url.clone() {
                                Some(u) => view! { <a href=u>{sha}</a> }.into_any(),
                                None => view! { <code>{sha}</code> }.into_any(),
                            };
                            view! {
                                <dt>"Commit"</dt>
                                <dd data-testid="run-commit">{link} " " {c.message.clone().unwrap_or_default()}
                                    <span class="muted">{format!(" {} {}", c.author.clone().unwrap_or_default(), c.time.map(datetime).unwrap_or_default())}</span></dd>
                            }
                        });
                        // An invalid run is stored and shown, but decides nothing: say so
                        // before its numbers, so nobody reads them as a regression.
                        let banner = r.invalid_reason.clone().map(|why| view! {
                            <div class="banner invalid-run" role="alert" data-testid="invalid-banner">
                                <strong>"Invalid run"</strong>
                                <p data-testid="invalid-reason">{why}</p>
                                <p class="muted">"This run is left out of change detection, threshold rules, baselines and comparisons. Its measurements are kept and shown below."</p>
                            </div>
                        });
                        view! {
                            <Title text=format!("Run {} · perfwatch", r.id) />
                            <h1>{format!("Run {}", r.id)}</h1>
                            {banner}
                            <dl class="facts">
                                <dt>"Project"</dt><dd><a href=format!("/projects/{}", r.project)>{r.project.clone()}</a></dd>
                                <dt>"Branch"</dt><dd>{r.branch.clone().unwrap_or_else(|| "—".into())}</dd>
                                {commit}
                                <dt>"Testbed"</dt><dd>{r.testbed.clone()}</dd>
                                <dt>"Started"</dt><dd>{datetime(r.started_at)}</dd>
                                <dt>"Trigger"</dt><dd>{r.trigger.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Run key"</dt><dd>{r.run_key.clone().unwrap_or_else(|| "—".into())}</dd>
                                <dt>"Metadata"</dt><dd><code>{r.metadata.to_string()}</code></dd>
                            </dl>
                            <h2>{format!("{} measurements", r.measurements.len())}</h2>
                            <table class="list" data-testid="run-measurements">
                                <thead><tr><th>"Benchmark"</th><th>"Measure"</th><th>"Params"</th><th>"Median"</th><th>"Min"</th><th>"Max"</th><th>"n"</th></tr></thead>
                                <tbody>
                                    {r.measurements.into_iter().map(|m| view! {
                                        <tr>
                                            <td><a href=format!("/series/{}", m.series.id)>{m.series.benchmark.clone()}</a></td>
                                            <td>{m.series.measure.clone()}</td>
                                            <td>{m.series.params.clone()}</td>
                                            <td>{format_value(m.median, &m.series.unit)}</td>
                                            <td>{format_value(m.min, &m.series.unit)}</td>
                                            <td>{format_value(m.max, &m.series.unit)}</td>
                                            <td>{m.n}</td>
                                        </tr>
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
