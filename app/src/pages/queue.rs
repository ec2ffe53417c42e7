//! `/queue`: the performance-job queue: queued jobs in the order runners claim them,
//! with position and an expected start from recent run times, the running jobs with a
//! live tail of their logs, and a warning when jobs wait and no runner is online.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use super::job::{duration, job_link, state_class, LiveLog};
use crate::api_jobs::{fetch_queue, QueuePage as QueueData, QueuePerfJob, QUEUE_TAIL};
use crate::format::{datetime, short_sha};

#[component]
pub fn QueuePage() -> impl IntoView {
    let data = crate::codec::resource(|| (), |_| fetch_queue());
    view! {
        <Title text="Job queue · perfwatch" />
        <h1>"Job queue"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(q) => view! { {queue_form()} {queue_view(q)} }.into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// "Queue a job": a server-function form (`crate::enhance`); the queue below is read
/// again after it, and every 30 s.
fn queue_form() -> impl IntoView {
    view! {
        <details class="queue-form">
            <summary>"Queue a job for a commit"</summary>
            <form method="post" action=QueuePerfJob::url() class="inline-form" data-post
                data-result="queue-result" data-ok="queued job {}" data-ok-testid="queued-job">
                <input name="project" placeholder="project" required=true />
                <input name="commit" placeholder="commit sha" required=true />
                <input name="pr" placeholder="PR # (optional)" />
                <button type="submit" data-testid="queue-job">"Queue"</button>
            </form>
            {crate::enhance::result_slot::<QueuePerfJob>("queue-result", None)}
        </details>
    }
}

fn eta(ms: Option<i64>) -> String {
    match ms {
        Some(0) => "next".into(),
        Some(ms) => format!("in ~{}", duration(ms)),
        None => "unknown (no finished job yet)".into(),
    }
}

fn queue_view(q: QueueData) -> impl IntoView {
    let banner = q.no_worker().then(|| {
        let since = match q.last_runner_beat {
            Some(t) => format!("No worker online since {} (UTC)", datetime(t)),
            None => "No worker online since the queue began: none has heartbeated yet".into(),
        };
        view! {
            <p class="banner" data-testid="no-worker">{since}
                <span class="muted">" · queued jobs wait until a runner starts (perfwatch worker, or perfwatch serve with --workers 1 or more)."</span></p>
        }
    });
    let typical = q.typical_ms.map(|t| {
        view! { <p class="muted">{format!("Typical run time of recent jobs: {}", duration(t))}</p> }
    });
    // The running jobs' logs are islands: their region is kept, and the page loads
    // again when other jobs run (`data-key`).
    let running_ids = q
        .running
        .iter()
        .map(|r| r.job.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let running = if q.running.is_empty() {
        view! { <p class="note">"No job is running."</p> }.into_any()
    } else {
        q.running
            .into_iter()
            .map(|r| {
                let j = r.job;
                let since = j
                    .started_at
                    .map(|s| format!(" · running for {}", duration(q.now - s)))
                    .unwrap_or_default();
                view! {
                    <section class="job-running" data-testid="running-job" data-job=j.id>
                        <h3>{job_link(&j)}" "<span class=state_class(&j.state) data-job-state=j.id>{j.state.clone()}</span>" "
                            <a href=format!("/projects/{}", j.project)>{j.project.clone()}</a>
                            {format!(" · {} · {}", j.pr_number.map(|n| format!("PR #{n}")).unwrap_or_else(|| j.purpose.clone()), short_sha(&j.sha))}
                            <span class="muted">{since}</span></h3>
                        <LiveLog job=j.id initial=r.tail live=true keep=QUEUE_TAIL state=j.state.clone() />
                    </section>
                }
            })
            .collect_view()
            .into_any()
    };
    let queued = if q.queued.is_empty() {
        view! { <p class="note" data-testid="queue-empty">"Nothing is queued."</p> }.into_any()
    } else {
        view! {
            <table class="list" data-testid="queued-jobs">
                <thead><tr><th>"#"</th><th>"Job"</th><th>"Project"</th><th>"For"</th><th>"Commit"</th>
                    <th>"Requested by"</th><th>"Queued"</th><th>"Expected start"</th></tr></thead>
                <tbody>
                    {q.queued.into_iter().map(|e| {
                        let j = e.job;
                        view! {
                            <tr data-job=j.id>
                                <td data-testid="position">{e.position}</td>
                                <td>{job_link(&j)}</td>
                                <td><a href=format!("/projects/{}", j.project)>{j.project.clone()}</a></td>
                                <td>{j.pr_number.map(|n| format!("PR #{n}")).unwrap_or_else(|| j.purpose.clone())}</td>
                                <td><code class="sha">{short_sha(&j.sha)}</code></td>
                                <td>{j.requested_by.clone()}</td>
                                <td>{datetime(j.created_at)}</td>
                                <td>{eta(e.eta_ms)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div data-region="queue-banner">{banner}{typical}</div>
        <h2>"Running"</h2>
        <div data-region="queue-running" data-keep data-key=running_ids>{running}</div>
        <h2>"Queued"</h2>
        <div data-region="queue-queued" data-refresh-every="30">{queued}</div>
    }
}
