//! Run lists: a project's recent runs, and the "invalid" tag every run list uses for a
//! run the validity gate rejected (the reason in its title), so an invalid run never
//! looks like any other.

use leptos::prelude::*;
use perfwatch_core::view::RunBrief;

use crate::format::{datetime, short_sha};

/// The `invalid` tag of a run, its reason as the title (hover) and as data.
pub fn invalid_tag(reason: &str) -> impl IntoView {
    view! {
        <span class="tag invalid" data-testid="invalid-tag" data-reason=reason.to_string()
            title=format!("Invalid run: {reason}. Left out of detection and comparisons.")>"invalid"</span>
    }
}

/// The tag of a set of runs of which `invalid` (of `total`) are invalid; `example` is
/// one of their reasons.
pub fn invalid_count_tag(invalid: i64, total: i64, example: &str) -> impl IntoView {
    view! {
        <span class="tag invalid" data-testid="invalid-tag" data-invalid=invalid
            title=format!("{invalid} of {total} runs invalid, left out of comparisons (e.g. {example})")>
            {format!("{invalid} invalid")}</span>
    }
}

/// A project's newest runs, newest first.
pub fn recent_runs(runs: &[RunBrief]) -> impl IntoView {
    let rows = runs
        .iter()
        .map(|r| {
            let tag = r.invalid_reason.as_deref().map(|why| view! { " "{invalid_tag(why)} });
            view! {
                <tr data-testid="run-row" data-run=r.id data-invalid=r.invalid_reason.is_some().to_string()>
                    <td><a href=format!("/runs/{}", r.id)>{format!("Run {}", r.id)}</a>{tag}</td>
                    <td>{r.branch.clone().unwrap_or_else(|| "—".into())}</td>
                    <td><code>{r.sha.as_deref().map(short_sha).unwrap_or_else(|| "—".into())}</code></td>
                    <td>{r.testbed.clone()}</td>
                    <td>{datetime(r.started_at)}</td>
                </tr>
            }
        })
        .collect_view();
    let body = if runs.is_empty() {
        view! { <p class="muted">"No runs yet."</p> }.into_any()
    } else {
        view! {
            <table class="list" data-testid="recent-runs">
                <thead><tr><th>"Run"</th><th>"Branch"</th><th>"Commit"</th><th>"Testbed"</th><th>"Started"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="runs">
            <h2>"Recent runs"</h2>
            {body}
        </section>
    }
}
