//! Issue 14 items 6–8 in real headless Chromium on the demo data: the home page's
//! "What needs attention" panel (empty state, untriaged groups with the largest change,
//! the latest release verdict, running and failed jobs linking to their pages); the
//! project page's filter (`?q=` rendered on the server, live typing after hydration,
//! "only with open alerts") and open-alert badges; the compare picker (PR vs its base
//! in one click, recent branches, releases), "copy short link" and a comparison table
//! that fits 1280 px; and on the demo's busiest chart no two marker labels overlap, the
//! y labels are not clipped and the time axis labels do not overlap; no page breaks its
//! Content-Security-Policy.
//! Saves screenshots under target/browser/.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use perfwatch_backend::accounts::Role;
use perfwatch_backend::queue::{kinds, Finish, Queue};
use perfwatch_backend::store::perf_jobs::{Fence, NewPerfJob, PerfState, Purpose};
use perfwatch_backend::time::now_ms;
use perfwatch_server::testing::PASSWORD;
use perfwatch_tests::browser::*;
use perfwatch_tests::*;

struct Jobs {
    running: i64,
    failed: i64,
}

/// A calm project: runs but no alerts, releases or jobs.
async fn seed_calm(app: &TestApp) {
    create_project(app, "calm").await;
    for i in 1..=5u64 {
        let (s, r) = post_run(app, &run_json("calm", &sha(i), &[("BenchmarkFlat", 100.0)])).await;
        assert_eq!(s, 201, "{r}");
    }
}

/// The demo, a triager, and on go-driver: a failed master job, a running PR job
/// (#7 on the demo's feature branch, with its base commit) and a queued one.
async fn seed_demo(app: &TestApp) -> Jobs {
    let store = &app.store;
    perfwatch_backend::demo::load(store).await.expect("demo");
    perfwatch_backend::accounts::create_user(store, "tri", PASSWORD, Some(Role::Triager))
        .await
        .unwrap();
    let project = store.project("go-driver").await.unwrap().id;
    let head = store
        .runs_at_branch_head(project, "feature/pooling")
        .await
        .unwrap()[0]
        .sha
        .clone()
        .expect("the feature branch head has a commit");
    let main = main_shas(app).await;
    let base = main[main.len() - 20].clone();
    let job = |purpose: Purpose, sha: String, pr: Option<i64>| NewPerfJob {
        project_id: project,
        purpose,
        sha,
        branch: pr.map(|_| "feature/pooling".to_string()),
        head_ref: None,
        pr_number: pr,
        base_sha: pr.map(|_| base.clone()),
        repeats: 0,
        requested_by: "test".into(),
    };
    let now = now_ms();
    let (failed, _) = store
        .perf_job_create(
            &job(Purpose::Master, main[main.len() - 1].clone(), None),
            false,
            now,
        )
        .await
        .unwrap();
    let (running, _) = store
        .perf_job_create(&job(Purpose::Pr, head, Some(7)), false, now)
        .await
        .unwrap();
    let runner = Queue::new(store.clone(), "w", Duration::from_secs(3600));
    let mut leases = Vec::new();
    while let Some(l) = runner.claim(&[kinds::PERF_RUN]).await.unwrap() {
        leases.push(l);
    }
    let fence_of = |work: Option<i64>| {
        let l = leases
            .iter()
            .find(|l| Some(l.job_id) == work)
            .expect("claimed");
        Fence {
            work_id: l.job_id,
            fence: l.fence,
        }
    };
    let f = fence_of(store.perf_job(failed).await.unwrap().work_id);
    assert!(store.perf_job_start(failed, f, now).await.unwrap());
    assert!(store
        .perf_job_end(
            failed,
            f,
            PerfState::Failed,
            Some(("permanent", "build failed: exit 2")),
            &Finish::Dead {
                error: "build failed".into()
            },
            &[],
            now,
        )
        .await
        .unwrap());
    let f = fence_of(store.perf_job(running).await.unwrap().work_id);
    assert!(store.perf_job_start(running, f, now).await.unwrap());
    Jobs { running, failed }
}

/// go-driver's main commits in branch order.
async fn main_shas(app: &TestApp) -> Vec<String> {
    let p = app.store.project("go-driver").await.unwrap().id;
    let b = app.store.branch_id(p, "main").await.unwrap().unwrap();
    let mut levels = app.store.main_levels(p, b).await.unwrap();
    levels.sort_by_key(|l| l.ord);
    let mut out: Vec<String> = Vec::new();
    for l in levels {
        if let Some(s) = l.sha {
            if out.last() != Some(&s) && !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Css(css)).await?.text().await?)
}

async fn wait_for(c: &Client, css: &str) -> anyhow::Result<()> {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await?;
    Ok(())
}

/// Waits until the wasm bundle loaded and hydrated the page.
async fn hydrated(c: &Client) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = c
            .execute(
                "return performance.getEntriesByType('resource').some(e => e.name.endsWith('.wasm'));",
                vec![],
            )
            .await?;
        if ready.as_bool() == Some(true) {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the wasm bundle never loaded");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Ok(())
}

async fn count(c: &Client, css: &str) -> anyhow::Result<usize> {
    Ok(c.find_all(Locator::Css(css)).await?.len())
}

async fn empty_state_checks(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    c.goto(&format!("{}/", app.base)).await?;
    wait_for(c, "[data-testid=attention]").await?;
    let t = text_of(c, "[data-testid=attention-empty]").await?;
    anyhow::ensure!(t == "Nothing needs attention.", "empty state {t:?}");
    anyhow::ensure!(count(c, "[data-testid=attention-project]").await? == 0);
    Ok(())
}

async fn attention_checks(c: &Client, app: &TestApp, jobs: &Jobs) -> anyhow::Result<()> {
    let expected = perfwatch_backend::attention::attention(&app.store).await?;
    let drv = expected
        .projects
        .iter()
        .find(|p| p.slug == "go-driver")
        .unwrap();
    anyhow::ensure!(drv.untriaged.groups > 0, "the demo has untriaged groups");
    c.goto(&format!("{}/", app.base)).await?;
    wait_for(c, "[data-project=go-driver] [data-testid=untriaged]").await?;
    anyhow::ensure!(
        count(c, "[data-testid=attention-empty]").await? == 0,
        "the empty state shows while groups are untriaged"
    );
    let p = "[data-project=go-driver]";
    let untriaged = text_of(c, &format!("{p} [data-testid=untriaged]")).await?;
    anyhow::ensure!(
        untriaged.starts_with(&format!("{} untriaged alert group", drv.untriaged.groups)),
        "{untriaged:?}"
    );
    let l = drv.untriaged.largest.as_ref().unwrap();
    let largest = c
        .find(Locator::Css(&format!("{p} [data-testid=largest-change]")))
        .await?;
    let text = largest.text().await?;
    let want = format!(
        "{}{:.1}% {}",
        if l.change_pct >= 0.0 { "+" } else { "" },
        l.change_pct,
        l.direction.as_str()
    );
    anyhow::ensure!(text == want, "largest change {text:?}, expected {want:?}");
    let href = largest.attr("href").await?.unwrap_or_default();
    anyhow::ensure!(href == format!("/alerts/groups/{}", l.group_id), "{href}");
    let age = text_of(c, &format!("{p} [data-testid=oldest-age]")).await?;
    anyhow::ensure!(age.ends_with(" old"), "oldest age {age:?}");

    let r = drv.release.as_ref().expect("the demo has releases");
    let rel = c
        .find(Locator::Css(&format!("{p} [data-testid=release-verdict]")))
        .await?;
    let text = rel.text().await?;
    anyhow::ensure!(
        text.contains(&r.name) && text.contains(&r.verdict),
        "release verdict {text:?} ({r:?})"
    );
    let href = rel
        .find(Locator::Css("a"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(href == r.link, "release link {href} vs {}", r.link);

    let running = text_of(c, &format!("{p} [data-testid=running-jobs]")).await?;
    anyhow::ensure!(
        running.starts_with("1 running:") && running.contains("PR #7"),
        "{running:?}"
    );
    let link = c
        .find(Locator::Css(&format!("{p} [data-testid=running-jobs] a")))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(link == format!("/jobs/{}", jobs.running), "{link}");
    let link = c
        .find(Locator::Css(&format!("{p} [data-testid=failed-jobs] a")))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(link == format!("/jobs/{}", jobs.failed), "{link}");
    std::fs::write(
        screenshot_dir().join("attention.png"),
        c.screenshot().await?,
    )?;
    // The link leads to the job page.
    c.goto(&format!("{}{link}", app.base)).await?;
    wait_for(c, "[data-testid=job-state]").await?;
    let state = text_of(c, "[data-testid=job-state]").await?;
    anyhow::ensure!(state.contains("failed"), "job page state {state:?}");
    Ok(())
}

async fn project_filter_checks(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    let project = app.store.project("go-driver").await?;
    let main = app.store.branch_id(project.id, "main").await?;
    let series = app.store.series_overview(project.id, main).await?;
    let open = app.store.series_with_open_alerts(project.id).await?;
    let open_listed = series
        .iter()
        .filter(|s| open.contains(&s.series.id))
        .count();
    anyhow::ensure!(open_listed > 0, "the demo has series with open alerts");
    // A term that picks some but not all series: the first series' benchmark.
    let term = series[0].series.benchmark.clone();
    let matching = |q: &str| {
        series
            .iter()
            .filter(|s| {
                let hay = format!(
                    "{} {} {} {}",
                    s.series.benchmark, s.series.measure, s.series.testbed, s.series.params
                )
                .to_lowercase();
                q.split_whitespace()
                    .all(|t| hay.contains(&t.to_lowercase()))
            })
            .count()
    };
    let want = matching(&term);
    anyhow::ensure!(want > 0 && want < series.len());

    // Server-rendered link with ?q=.
    c.goto(&format!(
        "{}/projects/go-driver?q={}",
        app.base,
        perfwatch_core::chart::encode(&term)
    ))
    .await?;
    wait_for(c, "[data-testid=series-filter]").await?;
    let rows = count(c, "[data-testid=series-row]").await?;
    anyhow::ensure!(rows == want, "?q={term}: {rows} rows, expected {want}");
    let value = c
        .find(Locator::Css("[data-testid=series-q]"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    anyhow::ensure!(value == term, "the box shows the query: {value:?}");

    // Unfiltered: every series, badges on those with open alerts.
    c.goto(&format!("{}/projects/go-driver", app.base)).await?;
    wait_for(c, "[data-testid=series-filter]").await?;
    let rows = count(c, "[data-testid=series-row]").await?;
    anyhow::ensure!(rows == series.len(), "{rows} of {}", series.len());
    let badges = count(c, "[data-testid=open-alert-badge]").await?;
    anyhow::ensure!(
        badges == open_listed,
        "{badges} badges, {open_listed} series with open alerts"
    );
    std::fs::write(
        screenshot_dir().join("project-filter.png"),
        c.screenshot().await?,
    )?;

    // After hydration: typing filters live, without a page load.
    hydrated(c).await?;
    c.execute("window.__filterMark = 42; return true;", vec![])
        .await?;
    c.find(Locator::Css("[data-testid=series-q]"))
        .await?
        .send_keys(&term)
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = count(c, "[data-testid=series-row]").await?;
        let url = c.current_url().await?;
        if rows == want && url.query().is_some_and(|q| q.contains("q=")) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "typing did not filter: {rows} rows, url {url}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mark = c
        .execute("return window.__filterMark || null;", vec![])
        .await?;
    anyhow::ensure!(mark.as_i64() == Some(42), "the filter reloaded the page");

    // Only with open alerts.
    c.goto(&format!("{}/projects/go-driver", app.base)).await?;
    wait_for(c, "[data-testid=only-open]").await?;
    c.find(Locator::Css("[data-testid=only-open]"))
        .await?
        .click()
        .await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = count(c, "[data-testid=series-row]").await?;
        let url = c.current_url().await?;
        if rows == open_listed && url.query().is_some_and(|q| q.contains("open=1")) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only-open: {rows} rows (want {open_listed}), url {url}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let badges = count(c, "[data-testid=open-alert-badge]").await?;
    anyhow::ensure!(badges == open_listed, "every listed series has its badge");
    Ok(())
}

async fn login(c: &Client, app: &TestApp, name: &str, next: &str) -> anyhow::Result<()> {
    c.goto(&format!("{}/login?next={next}", app.base)).await?;
    c.find(Locator::Css("form.login input[name=name]"))
        .await?
        .send_keys(name)
        .await?;
    c.find(Locator::Css("form.login input[name=password]"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Css("form.login button[type=submit]"))
        .await?
        .click()
        .await?;
    Ok(())
}

/// `(document scrollWidth, clientWidth, table scrollWidth, table clientWidth, table right, main right)`.
const FIT_JS: &str = r#"
const d = document.documentElement, t = document.querySelector('[data-testid=compare-rows]');
const m = document.querySelector('main').getBoundingClientRect();
return [d.scrollWidth, d.clientWidth, t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right, m.right];
"#;

async fn compare_checks(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    let project = app.store.project("go-driver").await?;
    let main = main_shas(app).await;
    let base = main[main.len() - 20].clone();
    // Logged in as a triager (short links need the triage right).
    login(c, app, "tri", "/projects/go-driver/compare").await?;
    wait_for(c, "[data-testid=compare-picker]").await?;
    let pr = text_of(c, "[data-testid=pr-choice][data-pr='7']").await?;
    anyhow::ensure!(
        pr.contains("PR #7 vs its base")
            && pr.contains("feature/pooling")
            && pr.contains("running"),
        "PR choice {pr:?}"
    );
    let branch = text_of(
        c,
        "[data-testid=branch-choice][data-branch='feature/pooling']",
    )
    .await?;
    anyhow::ensure!(
        branch.contains("last run") && branch.contains("ago"),
        "{branch:?}"
    );
    let releases = app.store.releases(project.id).await?;
    let newest = &releases.last().unwrap().name;
    let previous = &releases[releases.len() - 2].name;
    let rel = text_of(c, "[data-testid=release-choice]").await?;
    anyhow::ensure!(
        rel.starts_with(&format!("{previous} → {newest}")),
        "newest release first: {rel:?}"
    );

    // One click: PR #7 vs its base.
    hydrated(c).await?;
    c.find(Locator::Css(
        "[data-testid=pr-choice][data-pr='7'] [data-testid=pr-vs-base]",
    ))
    .await?
    .click()
    .await?;
    wait_for(c, "[data-testid=compare-rows]").await?;
    let url = c.current_url().await?;
    let q = url.query().unwrap_or_default().to_string();
    anyhow::ensure!(
        q.contains(&format!("base=commit%3A{base}")) && q.contains("head=branch%3Afeature/pooling"),
        "PR vs base query {q}"
    );
    let rows = count(c, "[data-testid=compare-rows] tbody tr").await?;
    anyhow::ensure!(rows > 0, "the comparison has rows");

    // The table fits 1280 px: no hidden columns, no horizontal scrolling.
    let fit = c.execute(FIT_JS, vec![]).await?;
    let f: Vec<f64> = fit
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect();
    eprintln!(
        "compare table fit at 1280 px: document {}/{}, table {}/{}, table right {} main right {}",
        f[0], f[1], f[2], f[3], f[4], f[5]
    );
    anyhow::ensure!(f[0] <= f[1], "the page scrolls sideways: {f:?}");
    anyhow::ensure!(f[2] <= f[3], "the table hides columns: {f:?}");
    anyhow::ensure!(
        f[4] <= f[5] + 0.5,
        "the table sticks out of the page: {f:?}"
    );
    std::fs::write(
        screenshot_dir().join("compare-picker.png"),
        c.screenshot().await?,
    )?;

    // Copy short link: the link shows, is a /c/ link of this server, and leads back
    // to the same comparison.
    c.find(Locator::Css("[data-testid=copy-short-link]"))
        .await?
        .click()
        .await?;
    wait_for(c, "[data-testid=short-link]").await?;
    let short = text_of(c, "[data-testid=short-link]").await?;
    anyhow::ensure!(
        short.starts_with(&format!("{}/c/", app.base)),
        "short link {short:?}"
    );
    let copied = text_of(c, "[data-testid=short-link-copied]").await?;
    // Headless Chromium may refuse the clipboard; when it copied, read it back.
    if copied.contains("copied") {
        let back = c
            .execute_async(
                "const done = arguments[0]; navigator.clipboard.readText().then(done, () => done(null));",
                vec![],
            )
            .await?;
        if let Some(back) = back.as_str() {
            anyhow::ensure!(back == short, "clipboard {back:?} vs {short:?}");
        }
    }
    eprintln!("short link {short}: {copied}");
    c.goto(&short).await?;
    wait_for(c, "[data-testid=compare-rows]").await?;
    let again = c.current_url().await?;
    anyhow::ensure!(
        again.query().unwrap_or_default() == q,
        "the short link leads to {again}, not ?{q}"
    );
    Ok(())
}

/// Every `text.marker-label` box, the SVG's box, y tick boxes and x tick boxes.
const BOXES_JS: &str = r#"
const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom, e.textContent]; };
const svg = document.querySelector('svg.trend');
return {
  svg: box(svg),
  markers: document.querySelectorAll('svg.trend g.marker').length,
  labels: [...svg.querySelectorAll('text.marker-label')].map(box),
  lanes: [...svg.querySelectorAll('text.marker-label')].map(e => Number(e.getAttribute('data-lane'))),
  y: [...svg.querySelectorAll('text.y-tick')].map(box),
  x: [...svg.querySelectorAll('text.x-tick')].map(box),
};
"#;

type Box = (f64, f64, f64, f64, String);

fn boxes(v: &serde_json::Value) -> Vec<Box> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = |i: usize| b[i].as_f64().unwrap();
            (
                n(0),
                n(1),
                n(2),
                n(3),
                b[4].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn overlaps(a: &Box, b: &Box) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

fn no_overlap(what: &str, v: &[Box]) -> anyhow::Result<()> {
    for (i, a) in v.iter().enumerate() {
        for b in &v[i + 1..] {
            anyhow::ensure!(!overlaps(a, b), "{what} overlap: {a:?} and {b:?}");
        }
    }
    Ok(())
}

async fn chart_boxes(c: &Client, app: &TestApp, series: i64) -> anyhow::Result<serde_json::Value> {
    c.goto(&format!("{}/series/{series}", app.base)).await?;
    wait_for(c, "svg.trend").await?;
    Ok(c.execute(BOXES_JS, vec![]).await?)
}

async fn chart_checks(c: &Client, app: &TestApp) -> anyhow::Result<()> {
    // The busiest chart: of each demo project's first series, the one with the most markers.
    let mut busiest = (0, 0, String::new());
    for slug in ["go-driver", "groups-service", "prod-baseline"] {
        let p = app.store.project(slug).await?;
        let s = app.store.list_series(p.id).await?;
        let v = chart_boxes(c, app, s[0].id).await?;
        let n = v["markers"].as_u64().unwrap_or(0) as usize;
        if n > busiest.0 {
            busiest = (n, s[0].id, slug.to_string());
        }
    }
    let (markers, series, slug) = busiest;
    let v = chart_boxes(c, app, series).await?;
    let labels = boxes(&v["labels"]);
    let lanes: Vec<u64> = v["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_u64().unwrap_or(0))
        .collect();
    eprintln!(
        "busiest demo chart: {slug} series {series}, {markers} markers, {} labels drawn in {} lanes, {} truncated",
        labels.len(),
        lanes.iter().max().map(|m| m + 1).unwrap_or(0),
        labels.iter().filter(|l| l.4.ends_with('…')).count()
    );
    anyhow::ensure!(
        markers >= 5 && labels.len() >= 5,
        "{markers} markers, {} labels",
        labels.len()
    );
    no_overlap("marker labels", &labels)?;
    let svg = boxes(&serde_json::json!([v["svg"]]))[0].clone();
    for l in &labels {
        anyhow::ensure!(
            l.0 >= svg.0 && l.2 <= svg.2 + 0.5 && l.1 >= svg.1,
            "label {l:?} leaves the chart {svg:?}"
        );
    }
    std::fs::write(
        screenshot_dir().join("busiest-chart.png"),
        c.screenshot().await?,
    )?;

    // Y labels never clipped: the jobs/min series of the production demo (1,500 jobs/min).
    let p = app.store.project("prod-baseline").await?;
    let jobs = app
        .store
        .list_series(p.id)
        .await?
        .into_iter()
        .find(|s| s.unit.contains("jobs"))
        .expect("the production demo has a jobs series");
    let v = chart_boxes(c, app, jobs.id).await?;
    let svg = boxes(&serde_json::json!([v["svg"]]))[0].clone();
    let y = boxes(&v["y"]);
    let wide = y
        .iter()
        .find(|b| b.4.starts_with("1500") || b.4.starts_with("1,500") || b.4.starts_with("1.5"))
        .ok_or_else(|| anyhow::anyhow!("no 1500 tick: {y:?}"))?;
    for b in &y {
        anyhow::ensure!(b.0 >= svg.0, "y label {b:?} clipped at the left of {svg:?}");
    }
    eprintln!(
        "widest y label {:?} starts {:.1} px inside the chart",
        wide.4,
        wide.0 - svg.0
    );
    // Time axis: calendar labels that do not overlap.
    let x = boxes(&v["x"]);
    anyhow::ensure!(x.len() >= 3, "x ticks {x:?}");
    no_overlap("x tick labels", &x)?;
    anyhow::ensure!(
        x.iter().all(|b| b
            .4
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphabetic() || ch.is_ascii_digit())),
        "{x:?}"
    );
    eprintln!(
        "time axis: {:?}",
        x.iter().map(|b| b.4.clone()).collect::<Vec<_>>()
    );
    std::fs::write(
        screenshot_dir().join("jobs-per-minute-chart.png"),
        c.screenshot().await?,
    )?;
    Ok(())
}

/// The value of `perfwatch_csp_violations_total` summed over directives.
async fn csp_violations(app: &TestApp) -> anyhow::Result<f64> {
    let (_, text) = get_text(app, "/metrics").await;
    Ok(text
        .lines()
        .filter(|l| l.starts_with("perfwatch_csp_violations_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

#[tokio::test]
async fn attention_project_filter_compare_picker_and_chart_labels() {
    let pkg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/site/pkg/perfwatch_bg.wasm");
    assert!(
        pkg.exists(),
        "the browser bundle is missing: run scripts/build-site.sh first"
    );
    let app = spawn_app(Db::Sqlite).await;
    seed_calm(&app).await;
    let mut driver = start_driver().await;
    let client = connect(&mut driver, "attention").await;
    let mut result = empty_state_checks(&client, &app).await;
    if result.is_ok() {
        let jobs = seed_demo(&app).await;
        result = attention_checks(&client, &app, &jobs).await;
    }
    if result.is_ok() {
        result = project_filter_checks(&client, &app).await;
    }
    if result.is_ok() {
        result = chart_checks(&client, &app).await;
    }
    if result.is_ok() {
        result = compare_checks(&client, &app).await;
    }
    if result.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(screenshot_dir().join("attention-failure.png"), png);
        }
    }
    // Always end the browser session, also when a check failed.
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
    // Every page above ran under its Content-Security-Policy (and hydrated).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seen = csp_violations(&app).await.unwrap();
    assert_eq!(seen, 0.0, "{seen} CSP violations on these pages");
}
