//! The home page's "What needs attention" panel: per project, the untriaged alert
//! groups (how many, the largest change, how old the oldest is), the latest release's
//! verdict, and running and failed performance jobs, each linking to where to act.

use leptos::prelude::*;
use perfwatch_core::alerts::AlertDirection;
use perfwatch_core::attention::ProjectAttention;

use crate::api_attention::fetch_attention;
use crate::format::{age, pct};

fn untriaged_view(p: &ProjectAttention, now: i64) -> Option<AnyView> {
    let u = &p.untriaged;
    if u.groups == 0 {
        return None;
    }
    let largest = u.largest.as_ref().map(|l| {
        let cls = match l.direction {
            AlertDirection::Regression => "worse",
            AlertDirection::Improvement => "better",
        };
        view! {
            " · largest "
            <a class=cls data-testid="largest-change" href=format!("/alerts/groups/{}", l.group_id)>
                {format!("{} {}", pct(l.change_pct), l.direction.as_str())}</a>
        }
    });
    let oldest = u
        .oldest_at
        .map(|t| view! { " · oldest " <span data-testid="oldest-age">{format!("{} old", age(now, t))}</span> });
    Some(
        view! {
            <li data-testid="untriaged">
                <a href=format!("/alerts?project={}&state=untriaged", p.slug)>
                    {format!("{} untriaged alert group{}", u.groups, if u.groups == 1 { "" } else { "s" })}</a>
                {largest}{oldest}
            </li>
        }
        .into_any(),
    )
}

fn release_view(p: &ProjectAttention) -> Option<AnyView> {
    let r = p.release.as_ref()?;
    let cls = match r.verdict.as_str() {
        "regressed" | "mixed" => "worse",
        "improved" => "better",
        _ => "muted",
    };
    let vs = r
        .previous
        .as_ref()
        .map(|p| format!(" vs {p}"))
        .unwrap_or_default();
    Some(
        view! {
            <li data-testid="release-verdict" data-verdict=r.verdict.clone()>
                "Latest release "<a href=r.link.clone()>{format!("{}{vs}", r.name)}</a>": "
                <span class=cls>{r.verdict.clone()}</span>
                {(r.regressions + r.improvements > 0).then(|| view! {
                    <span class="muted">{format!(" ({} regressions, {} improvements)", r.regressions, r.improvements)}</span>
                })}
            </li>
        }
        .into_any(),
    )
}

fn jobs_view(p: &ProjectAttention, now: i64) -> impl IntoView {
    let list = |jobs: &[perfwatch_core::attention::JobBrief],
                testid: &'static str,
                what: &'static str| {
        (!jobs.is_empty()).then(|| {
            let links = jobs
                .iter()
                .map(|j| view! {
                    " "<a class=format!("job-link state-{}", j.state) href=format!("/jobs/{}", j.id)
                        title=format!("{} {} ago", j.state, age(now, j.at))>{format!("#{} {}", j.id, j.label)}</a>
                })
                .collect_view();
            view! { <li data-testid=testid>{format!("{} {what}:", jobs.len())}{links}</li> }
        })
    };
    view! {
        {list(&p.running, "running-jobs", "running")}
        {list(&p.failed, "failed-jobs", "failed")}
    }
}

/// The panel; projects with nothing to act on are left out.
#[component]
pub fn AttentionPanel() -> impl IntoView {
    let data = crate::codec::resource(|| (), |_| fetch_attention());
    view! {
        <section class="attention" data-testid="attention">
            <h2>"What needs attention"</h2>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(a) => {
                            let now = a.now;
                            // Release verdicts are worth a glance even when all is calm.
                            let rows: Vec<_> = a.projects.into_iter()
                                .filter(|p| p.needs_attention() || p.release.is_some())
                                .collect();
                            let calm = rows.iter().all(|p| !p.needs_attention());
                            view! {
                                {calm.then(|| view! {
                                    <p class="muted" data-testid="attention-empty">"Nothing needs attention."</p>
                                })}
                                <div class="attention-projects">
                                {rows.into_iter().map(|p| view! {
                                    <div class="attention-project" data-testid="attention-project" data-project=p.slug.clone()>
                                        <h3><a href=format!("/projects/{}", p.slug)>{p.name.clone()}</a></h3>
                                        <ul>
                                            {untriaged_view(&p, now)}
                                            {release_view(&p)}
                                            {jobs_view(&p, now)}
                                        </ul>
                                    </div>
                                }).collect_view()}
                                </div>
                            }.into_any()
                        }
                        Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
