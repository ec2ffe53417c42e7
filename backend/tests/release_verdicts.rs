//! Release verdicts on the demo data: every change the demo injects is called at the
//! release that ships it, in the right direction, and every other series of every
//! release step stays "no change" — on SQLite and on PostgreSQL (TEST_DATABASE_URL
//! must be set; the PostgreSQL variant fails without it).
//!
//! The injected changes (backend/src/demo/): groups-service releases every 15 commits
//! from commit 14 — memory +5 % at commit 57 (ships in the 4th release), add_member
//! slower with more errors at 88 (6th), repaired at 121 (9th); go-driver FindOne*
//! +12 % ns/op at 180 (v1.12.0), BulkWrite +5 % ns/op and +25 % B/op and allocs/op at
//! 340 (v1.13.0), BSONMarshal −15 % ns/op and B/op at 420 (v1.14.0).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::collections::BTreeMap;

use perfwatch_backend::comparison::{build_view, compare, releases, resolve_side};
use perfwatch_backend::demo;
use perfwatch_backend::Store;
use perfwatch_core::comparison::{CompareRow, CompareSpec, RowVerdict, SideSpec};

perfwatch_backend::on_both!(demo_release_steps_decide);

/// What a release step should say about one series; `None` = no change.
type Expect = fn(&CompareRow, usize) -> Option<RowVerdict>;

fn groups_expect(r: &CompareRow, release: usize) -> Option<RowVerdict> {
    let (op, m) = (r.series.benchmark.as_str(), r.series.measure.as_str());
    match release {
        3 if m == "memory_rss" => Some(RowVerdict::Regression),
        5 if op == "add_member" && m != "memory_rss" => Some(RowVerdict::Regression),
        8 if op == "add_member" && m != "memory_rss" => Some(RowVerdict::Improvement),
        _ => None,
    }
}

fn go_expect(r: &CompareRow, release: usize) -> Option<RowVerdict> {
    let (b, m) = (r.series.benchmark.as_str(), r.series.measure.as_str());
    match release {
        2 if b.starts_with("BenchmarkFindOne") && m == "time" => Some(RowVerdict::Regression),
        3 if b == "BenchmarkBulkWrite" => Some(RowVerdict::Regression),
        4 if b == "BenchmarkBSONMarshal" && m != "allocs" => Some(RowVerdict::Improvement),
        _ => None,
    }
}

/// Counts per verdict of one release step, for the before/after table.
fn counts(rows: &[CompareRow]) -> String {
    let mut c: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        *c.entry(r.verdict.as_str()).or_default() += 1;
    }
    format!("{c:?}")
}

async fn demo_release_steps_decide(store: Store) {
    let started = std::time::Instant::now();
    let summary = demo::load(&store).await.expect("demo loads");
    eprintln!("demo loaded in {:.1?}", started.elapsed());
    assert!(summary.contains("Loaded"), "{summary}");
    for (slug, expect, releases_n) in [
        ("groups-service", groups_expect as Expect, 10),
        ("go-driver", go_expect as Expect, 5),
    ] {
        let project = store.project(slug).await.unwrap();
        let list = store.releases(project.id).await.unwrap();
        assert_eq!(list.len(), releases_n, "{slug}");
        let view = releases(&store, slug, None).await.unwrap();
        let mut problems = Vec::new();
        let mut called = 0;
        for i in 1..list.len() {
            let (prev, this) = (&list[i - 1].name, &list[i].name);
            let spec = CompareSpec {
                base: Some(SideSpec::Release(prev.clone())),
                head: Some(SideSpec::Release(this.clone())),
                ..Default::default()
            };
            let cmp = compare(&store, slug, &spec).await.unwrap();
            // The releases page shows the same verdicts as the compare page.
            let step = view.steps[i].summary.as_ref().expect("step has a summary");
            assert_eq!(step.regressions, cmp.summary.regressions, "{slug} {this}");
            assert_eq!(step.improvements, cmp.summary.improvements, "{slug} {this}");
            for r in &cmp.rows {
                let want = expect(r, i).unwrap_or(RowVerdict::NoChange);
                if want != RowVerdict::NoChange {
                    called += 1;
                }
                if r.verdict != want {
                    problems.push(format!(
                        "{slug} {prev}→{this} {} {} {} [{}]: {:?}, want {want:?} \
                         (change {:?} [{:?}, {:?}] p {:?} noise {:?} basis {:?})",
                        r.series.benchmark,
                        r.series.params,
                        r.series.measure,
                        r.series.testbed,
                        r.verdict,
                        r.change_pct,
                        r.change_low,
                        r.change_high,
                        r.p_value,
                        r.noise_pct,
                        r.run_basis,
                    ));
                }
                if want != RowVerdict::NoChange {
                    // A decided run-level row says how it was decided and by what noise.
                    assert!(
                        r.run_basis.is_some() && r.noise_pct.is_some(),
                        "{slug} {this}"
                    );
                }
            }
            // Before: the tagged runs alone, decided on their samples.
            let before = build_view(
                &project,
                spec.clone(),
                false,
                resolve_side(&store, &project, &SideSpec::Release(prev.clone()), "base")
                    .await
                    .unwrap(),
                resolve_side(&store, &project, &SideSpec::Release(this.clone()), "head")
                    .await
                    .unwrap(),
                &store.list_series(project.id).await.unwrap(),
            );
            eprintln!(
                "{slug} {prev}→{this}: before {} | after {}",
                counts(&before.rows),
                counts(&cmp.rows)
            );
        }
        assert!(called > 0, "{slug}: the demo injects changes");
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
