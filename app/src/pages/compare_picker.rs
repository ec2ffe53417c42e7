//! The compare page's picker (pull requests with "vs its base" in one click, recent
//! branches with their last run, releases against the release before) and the
//! "copy short link" button.

use leptos::prelude::*;

use crate::api_compare::ComparePageData;
use crate::format::{age, datetime};

fn link(slug: &str, query: &str) -> String {
    format!("/projects/{slug}/compare?{query}")
}

/// Three lists of one-click comparisons.
pub fn picker_lists(d: &ComparePageData, now: i64) -> AnyView {
    let slug = d.slug.clone();
    let prs = d
        .prs
        .iter()
        .map(|p| {
            let detail = [
                p.branch.clone(),
                p.state.clone(),
                Some(format!("{} ago", age(now, p.at))),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            view! {
                <li data-testid="pr-choice" data-pr=p.number>
                    <a data-testid="pr-vs-base" href=link(&slug, &p.query)>{format!("PR #{} vs its base", p.number)}</a>
                    " "<span class="muted">{detail}</span>
                </li>
            }
        })
        .collect_view();
    let branches = d
        .recent_branches
        .iter()
        .map(|b| {
            let invalid = b.invalid_reason.as_deref().filter(|_| b.invalid_runs > 0).map(|why| {
                view! { " "{super::run_list::invalid_count_tag(b.invalid_runs, b.runs, why)} }
            });
            view! {
                <li data-testid="branch-choice" data-branch=b.name.clone()>
                    <a href=link(&slug, &b.query)>{b.name.clone()}</a>
                    " "<span class="muted" title=datetime(b.last_run_at)>
                        {format!("last run {} ago · {} runs", age(now, b.last_run_at), b.runs)}</span>
                    {invalid}
                </li>
            }
        })
        .collect_view();
    let releases = d
        .recent_releases
        .iter()
        .map(|r| {
            let label = match &r.previous {
                Some(p) => format!("{p} → {}", r.name),
                None => r.name.clone(),
            };
            let body = match &r.query {
                Some(q) => view! { <a href=link(&slug, q)>{label}</a> }.into_any(),
                None => view! { <span>{label}</span>" "<span class="muted">"first release"</span> }
                    .into_any(),
            };
            view! {
                <li data-testid="release-choice" data-release=r.name.clone()>
                    {body}" "<span class="muted">{crate::format::date(r.at)}</span>
                </li>
            }
        })
        .collect_view();
    let empty =
        |has: bool, what: &'static str| (!has).then(|| view! { <li class="muted">{what}</li> });
    view! {
        <section class="picker" data-testid="compare-picker">
            <div><h3>"Pull requests"</h3><ul>{prs}{empty(!d.prs.is_empty(), "No pull requests seen.")}</ul></div>
            <div><h3>{format!("Branches vs {}", d.main_branch)}</h3>
                <ul>{branches}{empty(!d.recent_branches.is_empty(), "No other branches.")}</ul></div>
            <div><h3>"Releases"</h3><ul>{releases}{empty(!d.recent_releases.is_empty(), "No releases.")}</ul></div>
        </section>
    }
    .into_any()
}

/// "Copy short link": creates a short link for the comparison shown, copies it and
/// shows it next to the button (`crate::enhance`; also when the clipboard is not
/// available, so it can be copied by hand).
#[component]
pub fn ShortLinkButton(slug: String, query: String) -> impl IntoView {
    view! {
        <span class="short-link">
            <button type="button" data-testid="copy-short-link" data-short-link data-slug=slug data-query=query>
                "Copy short link"</button>
            <span data-short-link-result></span>
        </span>
    }
}
