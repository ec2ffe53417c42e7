//! Server-side time of one comparison through the use case: 2,000 series with 10
//! samples a side, two runs at two commits on a SQLite file (the embedded default).
//! `cargo bench -p perfwatch-backend --bench comparison_speed` — numbers go to
//! docs/benchmarks.md ("Comparisons"). Budget: 300 ms.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use perfwatch_backend::comparison::compare;
use perfwatch_backend::ingest::ingest_run;
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::Store;
use perfwatch_core::comparison::{CompareSpec, SideSpec};
use perfwatch_core::validate::{parse_run_json, validate_run};
use serde_json::json;

const SERIES: usize = 2_000;
const SAMPLES: usize = 10;

fn sha(i: usize) -> String {
    format!("{i:02x}{:038x}", 0xbe9c4)
}

async fn seed(store: &Store) {
    store
        .create_project(&NewProject {
            slug: "bench".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .expect("project");
    let mut s: u64 = 42;
    for commit in 1..=2 {
        let results: Vec<_> = (0..SERIES)
            .map(|k| {
                // Every 10th series 5 % slower at the head; ±1 % noise.
                let slower = commit == 2 && k % 10 == 0;
                let level = (1000.0 + k as f64) * if slower { 1.05 } else { 1.0 };
                let samples: Vec<f64> = (0..SAMPLES)
                    .map(|_| {
                        s = s
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        level * (1.0 + 0.02 * (((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5))
                    })
                    .collect();
                json!({"benchmark": format!("Suite{}/bench{k}", k % 20), "measure": "time",
                       "unit": "ns", "samples": samples})
            })
            .collect();
        let run = json!({"project": "bench", "branch": "main", "testbed": "ci",
                         "commit": {"sha": sha(commit)}, "results": results});
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        ingest_run(store, &run, &IngestOptions::default())
            .await
            .expect("ingest");
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut b = [0u8; 6];
        getrandom::fill(&mut b).unwrap();
        let path = std::env::temp_dir().join(format!("perfwatch-cmp-bench-{}.db", hex::encode(b)));
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        seed(&store).await;
        let spec = CompareSpec {
            base: Some(SideSpec::Commit(sha(1))),
            head: Some(SideSpec::Commit(sha(2))),
            ..Default::default()
        };
        let view = compare(&store, "bench", &spec).await.unwrap();
        assert_eq!(view.summary.total, SERIES);
        let mut times: Vec<Duration> = Vec::new();
        for _ in 0..20 {
            let t = Instant::now();
            let v = compare(&store, "bench", &spec).await.unwrap();
            times.push(t.elapsed());
            std::hint::black_box(v);
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "compare {SERIES} series x {SAMPLES} samples a side (SQLite, through the use case): \
             median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs; {} regressions found",
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(times[times.len() - 1]),
            times.len(),
            view.summary.regressions
        );
        let json = serde_json::to_vec(&view).unwrap();
        let t = Instant::now();
        let _ = serde_json::to_vec(std::hint::black_box(&view)).unwrap();
        println!(
            "  JSON export: {} bytes, serialised in {:.1} ms",
            json.len(),
            ms(t.elapsed())
        );
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    });
}
