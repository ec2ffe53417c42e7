//! Timing overhead per recorded operation: three `Instant::now()` reads and one
//! `Recorder::record` behind the engine's mutex, as the flow loop does for every
//! attempt. `cargo bench -p perfwatch-loadgen --bench overhead`; prints the median of
//! 7 rounds in ns per operation.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use perfwatch_loadgen::recorder::{Attempt, Recorder};

fn round(n: u64) -> f64 {
    let ops = vec!["a".to_string(), "b".to_string()];
    let rec = Mutex::new(Recorder::new(&ops, Duration::ZERO, Duration::from_secs(60)));
    let t0 = Instant::now();
    let start = Instant::now();
    for i in 0..n {
        let intended = Instant::now();
        let s = Instant::now();
        let e = Instant::now();
        let a = Attempt {
            op: (i & 1) as usize,
            iteration: intended.duration_since(t0),
            intended: intended.duration_since(t0),
            started: s.duration_since(t0),
            // spread values over the histogram as real latencies would be
            ended: e.duration_since(t0) + Duration::from_micros(i % 50_000),
            error: None,
        };
        rec.lock().unwrap().record(&a);
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    std::hint::black_box(rec.into_inner().unwrap().finish().ops.len());
    ns
}

fn main() {
    let mut v: Vec<f64> = (0..7).map(|_| round(1_000_000)).collect();
    v.sort_by(f64::total_cmp);
    println!(
        "recorded operation: median {:.1} ns (min {:.1}, max {:.1}) over 7 × 1,000,000",
        v[3], v[0], v[6]
    );
}
