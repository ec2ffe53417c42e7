//! `/jobs/:id`: one performance job: what it is for, where it stands, its steps with
//! durations, verdict and report, links to its runs, the comparison and the pull
//! request, and its log, tailed live while it runs. Triagers of the project may cancel
//! or re-run it. Also the live log component the queue page uses.

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api_jobs::{
    fetch_job_live, fetch_job_page, is_final_state, CancelPerfJob, JobPage as JobData, JobSummary,
    LogLineView, RerunPerfJob, StepView,
};
use crate::format::{datetime, short_sha};

/// `1h 02m`, `3m 04s`, `850 ms`.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    let s = ms / 1_000;
    match (s / 3_600, (s / 60) % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

/// The state as a badge (`state job-running`, …).
pub fn state_class(state: &str) -> String {
    format!("state job-{state}")
}

/// The verdict as a badge (`verdict regression`, `verdict no_change`, …).
pub fn verdict_view(verdict: Option<String>) -> AnyView {
    match verdict {
        Some(v) => {
            let cls = format!("verdict {}", v.replace(' ', "_"));
            view! { <span class=cls data-testid="verdict">{v}</span> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// `#12` linked to the job page.
pub fn job_link(j: &JobSummary) -> AnyView {
    view! { <a href=format!("/jobs/{}", j.id)>{format!("#{}", j.id)}</a> }.into_any()
}

/// What the job measures: `master abc1234567`, `PR #12 abc1234567`.
pub fn job_subject(j: &JobSummary) -> String {
    match j.pr_number {
        Some(n) => format!("PR #{n} {}", short_sha(&j.sha)),
        None => format!("{} {}", j.purpose, short_sha(&j.sha)),
    }
}

/// A job's log lines; while `live`, new lines are fetched every 2 s (after hydration)
/// until the job ends. With `keep` > 0 only the last `keep` lines are kept (a tail).
/// When the job's state changes, the page's badges of it (`data-job-state`) follow and
/// the page's regions are read again (verdict, steps, report). An island: the rest of
/// the job and queue pages is server-rendered.
#[island]
pub fn LiveLog(
    job: i64,
    initial: Vec<LogLineView>,
    live: bool,
    keep: i64,
    state: String,
) -> impl IntoView {
    let state = StoredValue::new(state);
    let log_class = if keep > 0 { "log tail" } else { "log" };
    let lines = RwSignal::new(initial);
    let polling = StoredValue::new(live);
    let busy = StoredValue::new(false);
    Effect::new(move |_| {
        if !polling.get_value() {
            return;
        }
        let tick = move || {
            if !polling.get_value() || busy.get_value() {
                return;
            }
            busy.set_value(true);
            let after = lines.with_untracked(|l| l.last().map(|x| x.seq).unwrap_or(0));
            leptos::task::spawn_local(async move {
                if let Ok(u) = fetch_job_live(job, after, keep).await {
                    if !u.lines.is_empty() {
                        lines.update(|l| {
                            if u.skipped {
                                l.clear();
                            }
                            l.extend(u.lines);
                            if keep > 0 && l.len() > keep as usize {
                                let cut = l.len() - keep as usize;
                                l.drain(..cut);
                            }
                        });
                    }
                    if state.with_value(|s| *s != u.state) {
                        state.set_value(u.state.clone());
                        crate::enhance::show_job_state(job, &u.state);
                        crate::enhance::refresh_regions();
                    }
                    if is_final_state(&u.state) {
                        polling.set_value(false);
                    }
                }
                busy.set_value(false);
            });
        };
        if let Ok(h) = set_interval_with_handle(tick, Duration::from_secs(2)) {
            on_cleanup(move || h.clear());
        }
    });
    view! {
        <pre class=log_class data-testid="log">
            <For each=move || lines.get() key=|l| l.seq let:l>
                <span class=format!("ll {}", l.stream)>
                    <span class="muted">{format!("{:>5} {:<8} ", l.seq, l.step)}</span>
                    {l.line}
                    "\n"
                </span>
            </For>
        </pre>
        {move || lines.with(Vec::is_empty).then(|| view! { <p class="note">"No log lines yet."</p> })}
    }
}

#[component]
pub fn JobPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let data = crate::codec::resource(id, fetch_job_page);
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(p) => job_view(p).into_any(),
                    Err(e) => view! { <p class="error">{super::load_error(&e)}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The job, server-rendered: the live log is the island; cancel and re-run are
/// server-function forms (`crate::enhance`), after which the job is read again.
fn job_view(p: JobData) -> impl IntoView {
    let j = p.job.clone();
    let live = !j.is_final();
    let id = j.id;
    let facts = job_facts(&p);
    let links = job_links(&p);
    let controls = p.can_triage.then(|| job_controls(id, live));
    let steps = job_steps(&p.steps);
    let report = p.report.clone().map(|r| {
        view! {
            <h2>"Report"</h2>
            <pre class="report" data-testid="job-report">{r}</pre>
        }
    });
    let log_cut = p.log_cut.then(|| {
        view! {
            <p class="note">"Only the first lines are shown here; the whole log: "
                <a href=format!("/api/v1/jobs/{id}?after=0&limit=5000")>"the API"</a>" (page with after=)."</p>
        }
    });
    view! {
        <Title text=format!("Job {} · perfwatch", j.id) />
        <p class="crumbs"><a href="/queue">"Queue"</a>" · "<a href=format!("/projects/{}", j.project)>{j.project.clone()}</a></p>
        <div data-region="job">
            <h1>{format!("Job #{} ", j.id)}<span class=state_class(&j.state) data-testid="job-state" data-job-state=id>{j.state.clone()}</span></h1>
            {facts}
            {links}
            {controls}
            <h2>"Steps"</h2>
            {steps}
            {report}
        </div>
        <h2>"Log"</h2>
        <LiveLog job=id initial=p.log live=live keep=0 state=j.state.clone() />
        {log_cut}
    }
}

/// The job's facts: what it measures, who asked, when it ran, its verdict and
/// anything that went wrong, and what it ran with.
fn job_facts(p: &JobData) -> AnyView {
    let j = &p.job;
    let took = match (j.started_at, j.finished_at) {
        (Some(s), Some(f)) => duration(f - s),
        _ => "—".into(),
    };
    let pr = j.pr_number.map(|n| match p.pr_url.clone() {
        Some(u) => view! { <a href=u data-testid="pr-link">{format!("#{n}")}</a> }.into_any(),
        None => view! { <span>{format!("#{n}")}</span> }.into_any(),
    });
    view! {
        <dl class="facts" data-testid="job-facts">
            <dt>"Purpose"</dt><dd>{j.purpose.clone()}</dd>
            <dt>"Commit"</dt><dd><code class="sha" title=j.sha.clone() data-testid="job-commit">{short_sha(&j.sha)}</code>
                {j.base_sha.clone().map(|b| view! { <span class="muted">{format!(" compared with {}", short_sha(&b))}</span> })}</dd>
            {pr.map(|pr| view! { <dt>"Pull request"</dt><dd>{pr}</dd> })}
            <dt>"Branch"</dt><dd>{j.branch.clone().or(p.head_ref.clone()).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Requested by"</dt><dd>{j.requested_by.clone()}</dd>
            <dt>"Queued"</dt><dd>{datetime(j.created_at)}</dd>
            <dt>"Started"</dt><dd>{j.started_at.map(datetime).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Finished"</dt><dd>{j.finished_at.map(datetime).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Duration"</dt><dd>{took}</dd>
            <dt>"Verdict"</dt><dd>{verdict_view(j.verdict.clone())}</dd>
            {job_trouble(p)}
            <dt>"Testbed"</dt><dd>{p.testbed.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Definition"</dt><dd><code>{p.definition_hash.clone().map(|h| short_sha(&h)).unwrap_or_else(|| "—".into())}</code></dd>
            <dt>"Repeats"</dt><dd>{if p.repeats > 0 { p.repeats.to_string() } else { "as defined".into() }}</dd>
        </dl>
    }
    .into_any()
}

/// The facts that hold a job up or ended it: its error, a stop asked for, the
/// baseline job it waits for (each only when there is one).
fn job_trouble(p: &JobData) -> impl IntoView {
    let j = &p.job;
    let error = (j.error_class.is_some() || j.error.is_some()).then(|| {
        view! {
            <dt>"Error"</dt>
            <dd class="error" data-testid="job-error">
                {j.error_class.clone().map(|c| format!("{c}: ")).unwrap_or_default()}
                {j.error.clone().unwrap_or_default()}
            </dd>
        }
    });
    let stop = j.stop_requested.clone().map(|s| {
        view! { <dt>"Stop asked"</dt><dd>{s}</dd> }
    });
    let waits = p.waits_for.map(|w| {
        view! { <dt>"Waits for"</dt><dd><a href=format!("/jobs/{w}")>{format!("job #{w} (its baseline)")}</a></dd> }
    });
    (error, stop, waits)
}

/// Links to the job's runs (a rejected run tagged with why), its comparison and its
/// pull request.
fn job_links(p: &JobData) -> AnyView {
    view! {
        <p class="controls" data-testid="job-links">
            {p.run_ids.iter().map(|r| {
                let why = p.invalid_runs.iter().find(|(id, _)| id == r).map(|(_, w)| w.clone());
                let tag = why.map(|w| view! { " "{super::run_list::invalid_tag(&w)} });
                view! { <a class="chip" data-run=*r href=format!("/runs/{r}")>{format!("Run {r}")}{tag}</a> }
            }).collect_view()}
            {p.compare_url.clone().map(|u| view! { <a class="chip" data-testid="compare-link" href=u>"Compare with base"</a> })}
            {p.pr_url.clone().map(|u| view! { <a class="chip" href=u>"Pull request on GitHub"</a> })}
        </p>
    }
    .into_any()
}

/// Cancel (while the job runs) and re-run, with what each did.
fn job_controls(id: i64, live: bool) -> AnyView {
    view! {
        <section class="triage-controls job-controls">
            <div class="triage-form">
                {live.then(|| view! {
                    <form method="post" action=CancelPerfJob::url() class="inline-form" data-post
                        data-result="cancel-result"
                        data-ok="Canceled (a running job stops within a few seconds)."
                        data-ok-false="Nothing to cancel: the job already ended.">
                        <input type="hidden" name="id" value=id />
                        <button type="submit" data-testid="cancel-job">"Cancel"</button>
                    </form>
                })}
                <form method="post" action=RerunPerfJob::url() class="inline-form" data-post
                    data-result="rerun-result" data-ok="Queued as job #{}" data-ok-link="/jobs/{}"
                    data-ok-testid="rerun-done">
                    <input type="hidden" name="id" value=id />
                    <button type="submit" data-testid="rerun-job">"Re-run"</button>
                </form>
                {crate::enhance::result_slot::<CancelPerfJob>("cancel-result", None)}
                {crate::enhance::result_slot::<RerunPerfJob>("rerun-result", None)}
            </div>
        </section>
    }
    .into_any()
}

/// The job's steps with side, repeat, duration and outcome (a failed one marked).
fn job_steps(steps: &[StepView]) -> AnyView {
    if steps.is_empty() {
        return view! { <p class="note">"No steps recorded yet (they are stored when the job has run)."</p> }.into_any();
    }
    view! {
        <table class="list" data-testid="job-steps">
            <thead><tr><th>"Step"</th><th>"Side"</th><th>"Repeat"</th><th>"Duration"</th><th>"Outcome"</th></tr></thead>
            <tbody>
                {steps.iter().map(|s| {
                    let bad = s.outcome != "ok";
                    view! {
                        <tr>
                            <td>{s.step.clone()}</td>
                            <td>{s.side.clone()}</td>
                            <td>{s.repeat}</td>
                            <td>{duration(s.duration_ms)}</td>
                            <td class:worse=bad>{s.outcome.clone()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
