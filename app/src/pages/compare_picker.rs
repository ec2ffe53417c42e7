//! The compare page's picker (pull requests with "vs its base" in one click, recent
//! branches with their last run, releases against the release before) and the
//! "copy short link" button.

use leptos::prelude::*;

use crate::api_attention::create_short_link;
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

/// Writes `text` to the clipboard; false when the browser refused.
async fn copy_to_clipboard(text: &str) -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    let promise = w.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Creates a short link for the comparison shown and copies it; the link stays on
/// the page (also when the clipboard is not available) so it can be copied by hand.
#[component]
pub fn ShortLinkButton(slug: String, query: String) -> impl IntoView {
    let result = RwSignal::new(None::<Result<(String, bool), String>>);
    let busy = RwSignal::new(false);
    let on_click = move |_| {
        let (slug, query) = (slug.clone(), query.clone());
        busy.set(true);
        leptos::task::spawn_local(async move {
            let r = match create_short_link(slug, query).await {
                Ok(path) => {
                    let origin = web_sys::window()
                        .and_then(|w| w.location().origin().ok())
                        .unwrap_or_default();
                    let url = format!("{origin}{path}");
                    let copied = copy_to_clipboard(&url).await;
                    Ok((url, copied))
                }
                Err(e) => Err(super::load_error(&e)),
            };
            result.set(Some(r));
            busy.set(false);
        });
    };
    view! {
        <span class="short-link">
            <button type="button" data-testid="copy-short-link" on:click=on_click disabled=move || busy.get()>
                "Copy short link"</button>
            {move || result.get().map(|r| match r {
                Ok((url, copied)) => view! {
                    <a data-testid="short-link" href=url.clone()>{url.clone()}</a>
                    <span class="muted" data-testid="short-link-copied">{if copied { " copied" } else { " (copy it by hand)" }}</span>
                }.into_any(),
                Err(e) => view! { <span class="error" data-testid="short-link-error">{e}</span> }.into_any(),
            })}
        </span>
    }
}
