//! The seeded demo data set: what it loads, that its injected changes are visible in
//! the stored points, and that loading it again adds nothing.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use perfwatch_backend::demo;
use perfwatch_backend::store::PointFilter;
use perfwatch_backend::testing::rows;
use perfwatch_backend::Store;
use perfwatch_core::view::{ProjectInfo, SeriesInfo};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A SQLite file unique to this process and test, deleted (with its WAL files) on drop.
struct TempDb {
    path: PathBuf,
}

impl TempDb {
    fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("perfwatch-demo-test-{}-{n}.db", std::process::id()));
        let db = Self { path };
        db.remove();
        db
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

async fn loaded() -> (TempDb, Store, String) {
    let db = TempDb::new();
    let store = Store::connect(&db.url()).await.expect("connect");
    let started = std::time::Instant::now();
    let summary = demo::load(&store).await.expect("demo loads");
    eprintln!("demo loaded in {:.2?}: {summary}", started.elapsed());
    (db, store, summary)
}

fn project<'a>(projects: &'a [ProjectInfo], slug: &str) -> &'a ProjectInfo {
    projects
        .iter()
        .find(|p| p.slug == slug)
        .unwrap_or_else(|| panic!("project {slug} missing"))
}

fn find<'a>(
    series: &'a [SeriesInfo],
    benchmark: &str,
    measure: &str,
    testbed: &str,
    params: &str,
) -> &'a SeriesInfo {
    series
        .iter()
        .find(|s| {
            s.benchmark == benchmark
                && s.measure == measure
                && s.testbed == testbed
                && s.params == params
        })
        .unwrap_or_else(|| panic!("no series {benchmark} {measure} {testbed} {params}"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    assert!(!xs.is_empty());
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Median of the point medians of the `window` commits before commit order `at` divided
/// by the median of the `window` commits from `at` on, on branch `main`.
async fn step_ratio(
    store: &Store,
    project: &ProjectInfo,
    s: &SeriesInfo,
    at: i64,
    window: i64,
) -> f64 {
    let branch_id = store.branch_id(project.id, "main").await.unwrap();
    assert!(branch_id.is_some(), "main branch of {}", project.slug);
    let points = store
        .points(
            s.id,
            &PointFilter {
                branch_id,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ord = |p: &perfwatch_core::view::Point| p.ord.expect("commit-indexed point");
    let before: Vec<f64> = points
        .iter()
        .filter(|p| (at - window..at).contains(&ord(p)))
        .map(|p| p.median)
        .collect();
    let after: Vec<f64> = points
        .iter()
        .filter(|p| (at..at + window).contains(&ord(p)))
        .map(|p| p.median)
        .collect();
    assert!(
        before.len() as i64 >= window / 4,
        "{} points before {at}",
        s.benchmark
    );
    assert!(
        after.len() as i64 >= window / 4,
        "{} points after {at}",
        s.benchmark
    );
    median(after) / median(before)
}

#[tokio::test]
async fn demo_loads_three_projects_with_expected_series_and_runs() {
    let (_db, store, summary) = loaded().await;
    let projects = store.list_projects().await.unwrap();
    assert_eq!(projects.len(), 3);
    // (slug, name, runs, series): go-driver has 500 main commits on 2 CI testbeds, every
    // 4th on the laptop, 8 branch runs, and 13 benchmarks x 3 measures x 3 testbeds;
    // groups-service 150 nightly runs of 3 operations x 6 measures; prod-baseline 45
    // days of hourly runs of 3 series.
    for (slug, name, runs, series) in [
        ("go-driver", "Go database driver", 1133, 117),
        ("groups-service", "Groups HTTP service", 150, 18),
        ("prod-baseline", "Production baseline", 1080, 3),
    ] {
        let p = project(&projects, slug);
        assert_eq!(p.name, name);
        assert_eq!(p.run_count, runs, "{slug} runs");
        assert_eq!(p.series_count, series, "{slug} series");
        assert_eq!(
            store.list_series(p.id).await.unwrap().len(),
            series as usize
        );
    }
    let go = project(&projects, "go-driver");
    assert_eq!(
        go.repo_url.as_deref(),
        Some("https://github.com/example/go-driver")
    );
    assert_eq!(
        store.branches(go.id).await.unwrap(),
        vec!["feature/pooling", "main"]
    );
    assert!(summary.contains("2363 runs"), "{summary}");
    assert!(summary.contains("138 series"), "{summary}");
    // The load ends with a detection pass, so each project opens with alerts to triage.
    for p in &projects {
        let (alerts, groups) = store.alert_counts(p.id).await.unwrap();
        assert!(
            alerts > 0 && groups > 0,
            "{}: {alerts} alerts in {groups} groups",
            p.slug
        );
    }
}

#[tokio::test]
async fn demo_has_release_and_deploy_markers() {
    let (_db, store, _) = loaded().await;
    let projects = store.list_projects().await.unwrap();

    let go = project(&projects, "go-driver");
    let main = store.branch_id(go.id, "main").await.unwrap();
    let markers = store.markers(go.id, main).await.unwrap();
    let names: Vec<&str> = markers.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["v1.10.0", "v1.11.0", "v1.12.0", "v1.13.0", "v1.14.0"]
    );
    assert!(markers
        .iter()
        .all(|m| m.kind == "release" && m.ord.is_some() && m.sha.is_some()));

    let groups = project(&projects, "groups-service");
    let main = store.branch_id(groups.id, "main").await.unwrap();
    let releases = store.markers(groups.id, main).await.unwrap();
    assert_eq!(releases.len(), 10);
    assert!(releases
        .iter()
        .all(|m| m.kind == "release" && m.ord.is_some()));
    assert!(releases
        .iter()
        .any(|m| m.description.as_deref().unwrap_or("").contains("p99 +40%")));

    let prod = project(&projects, "prod-baseline");
    let deploys = store.markers(prod.id, None).await.unwrap();
    assert!(deploys.len() >= 10, "{} deploys", deploys.len());
    assert!(deploys
        .iter()
        .all(|m| m.kind == "deploy" && m.sha.is_none() && m.ord.is_none()));
}

#[tokio::test]
async fn injected_changes_are_visible_in_stored_points() {
    let (_db, store, _) = loaded().await;
    let projects = store.list_projects().await.unwrap();

    // go-driver: the n-th commit of main has order n, so the commit at index 180 has order 181.
    let go = project(&projects, "go-driver");
    let series = store.list_series(go.id).await.unwrap();
    for testbed in [
        "linux-amd64-c5.xlarge",
        "linux-arm64-c7g.xlarge",
        "darwin-arm64-m2",
    ] {
        let find_one = find(&series, "BenchmarkFindOne", "time", testbed, "");
        let r = step_ratio(&store, go, find_one, 181, 60).await;
        assert!(r > 1.08 && r < 1.16, "FindOne ns/op on {testbed}: x{r:.3}");
    }
    let bulk = find(
        &series,
        "BenchmarkBulkWrite",
        "alloc_bytes",
        "linux-amd64-c5.xlarge",
        "docs=100",
    );
    let r = step_ratio(&store, go, bulk, 341, 60).await;
    assert!(r > 1.2, "BulkWrite B/op: x{r:.3}");
    let bson = find(
        &series,
        "BenchmarkBSONMarshal",
        "time",
        "linux-arm64-c7g.xlarge",
        "size=small",
    );
    let r = step_ratio(&store, go, bson, 421, 60).await;
    assert!(r < 0.9, "BSONMarshal ns/op: x{r:.3}");
    let untouched = find(
        &series,
        "BenchmarkInsertOne",
        "time",
        "linux-amd64-c5.xlarge",
        "",
    );
    let r = step_ratio(&store, go, untouched, 181, 60).await;
    assert!(
        (r - 1.0).abs() < 0.03,
        "InsertOne ns/op should not move: x{r:.3}"
    );

    // The feature branch has its own points.
    let pooling = store.branch_id(go.id, "feature/pooling").await.unwrap();
    let checkout = find(
        &series,
        "BenchmarkConnectionPoolCheckout",
        "time",
        "linux-amd64-c5.xlarge",
        "",
    );
    let filter = PointFilter {
        branch_id: pooling,
        ..Default::default()
    };
    assert_eq!(store.points(checkout.id, &filter).await.unwrap().len(), 8);

    // groups-service: add_member p99 +40% from the commit at index 88 (order 89).
    let groups = project(&projects, "groups-service");
    let series = store.list_series(groups.id).await.unwrap();
    let p99 = find(
        &series,
        "add_member",
        "latency_p99",
        "k8s-staging-4vcpu",
        "concurrency=16,group_size=100",
    );
    let r = step_ratio(&store, groups, p99, 89, 30).await;
    assert!(r > 1.3, "add_member p99: x{r:.3}");

    // prod-baseline: a week on each side of the deploy that slows background jobs.
    let prod = project(&projects, "prod-baseline");
    let series = store.list_series(prod.id).await.unwrap();
    let jobs = find(
        &series,
        "background_jobs",
        "jobs_per_minute",
        "production-eu-west-1",
        "",
    );
    let deploys = store.markers(prod.id, None).await.unwrap();
    let drop = deploys
        .iter()
        .find(|m| m.description.as_deref().unwrap_or("").contains("-30%"))
        .expect("the jobs deploy");
    let week = 7 * 24 * 3600 * 1000;
    let points = store
        .points(jobs.id, &PointFilter::default())
        .await
        .unwrap();
    assert_eq!(points.len(), 1080);
    let mean = |from: i64, to: i64| {
        let xs: Vec<f64> = points
            .iter()
            .filter(|p| p.time >= from && p.time < to)
            .map(|p| p.median)
            .collect();
        assert!(xs.len() >= 160, "{} hourly points", xs.len());
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    let hour = 3600 * 1000;
    let at = (drop.time / hour + 1) * hour;
    let r = mean(at, at + week) / mean(at - week, at);
    assert!(
        r < 0.8 && r > 0.6,
        "jobs per minute after the deploy: x{r:.3}"
    );
}

#[tokio::test]
async fn loading_the_demo_twice_does_not_duplicate() {
    let (_db, store, _) = loaded().await;
    let before = store.row_counts().await.unwrap();
    let again = demo::load(&store).await.unwrap();
    assert!(again.contains("already loaded"), "{again}");
    assert_eq!(store.row_counts().await.unwrap(), before);

    // An interrupted load (the last runs and a release missing) is completed, not duplicated.
    let groups = store.project("groups-service").await.unwrap();
    rows::delete_latest_runs(&store, groups.id, 20)
        .await
        .unwrap();
    rows::delete_annotation(&store, groups.id, "2026.11.2")
        .await
        .unwrap();
    assert_ne!(store.row_counts().await.unwrap(), before);
    let resumed = demo::load(&store).await.unwrap();
    assert!(resumed.contains("1 project(s), 20 runs"), "{resumed}");
    assert!(resumed.contains("1 release/deploy markers"), "{resumed}");
    assert!(resumed.contains("go-driver (1133 runs)"), "{resumed}");
    assert!(
        resumed.contains("groups-service had been partly loaded"),
        "{resumed}"
    );
    assert_eq!(store.row_counts().await.unwrap(), before);
}
