//! Speed of `detect` on 1k, 10k and 100k points with 20 change points, and of an
//! incremental append on a 10k series. std::time only; prints medians.
//!
//! cargo bench -p perfwatch-detect
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use perfwatch_detect::rng::Rng;
use perfwatch_detect::{detect, detect_incremental, DetectConfig};

/// `n` points, 20 evenly spread steps of ±(5–20) %, Gaussian noise with 2 % cv.
fn series(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let seg = n / 21;
    let mut level = 100.0;
    (0..n)
        .map(|i| {
            if i > 0 && i % seg == 0 && i / seg <= 20 {
                let rel = rng.range(0.05, 0.2);
                level *= if rng.chance(0.5) {
                    1.0 + rel
                } else {
                    1.0 - rel
                };
            }
            level * (1.0 + 0.02 * rng.normal())
        })
        .collect()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn time<F: FnMut() -> usize>(reps: usize, mut f: F) -> (Duration, Duration, Duration, usize) {
    let mut found = 0;
    let runs: Vec<Duration> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            found = black_box(f());
            t.elapsed()
        })
        .collect();
    let min = *runs.iter().min().expect("reps > 0");
    let max = *runs.iter().max().expect("reps > 0");
    (median(runs), min, max, found)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes --bench; any other filter arguments are ignored.
    let cfg = DetectConfig::default();
    println!("detect(), default config, 20 change points, release build, one thread");
    let no_trends = DetectConfig {
        trends: false,
        ..cfg.clone()
    };
    for (n, reps) in [(1_000, 51), (10_000, 21), (100_000, 7)] {
        let v = series(n, 7);
        let (med, min, max, found) = time(reps, || detect(&v, &cfg).unwrap().change_points().len());
        let (off, _, _, _) = time(reps, || {
            detect(&v, &no_trends).unwrap().change_points().len()
        });
        println!(
            "  n = {n:>7}: median {:>8.3} ms  (min {:.3}, max {:.3}, {reps} runs, {found} change points found); trends: false {:.3} ms",
            ms(med),
            ms(min),
            ms(max),
            ms(off)
        );
    }
    // A steady trend (memory creeping up by 30 % over the series, 2 % noise): the
    // segmentation cuts it into many steps that the trend pass then fits as one ramp.
    for (n, reps) in [(10_000, 21), (100_000, 7)] {
        let mut rng = Rng::new(13);
        let v: Vec<f64> = (0..n)
            .map(|i| 100.0 * (1.0 + 0.3 * i as f64 / n as f64) * (1.0 + 0.02 * rng.normal()))
            .collect();
        let (med, min, max, found) = time(reps, || {
            let d = detect(&v, &cfg).unwrap();
            d.change_points().len() + d.drifts().len()
        });
        println!(
            "  trend, n = {n:>7}: median {:>8.3} ms  (min {:.3}, max {:.3}, {reps} runs, {found} findings)",
            ms(med),
            ms(min),
            ms(max)
        );
    }
    let v: Vec<f64> = {
        let mut rng = Rng::new(13);
        (0..100_000)
            .map(|i| 100.0 * (1.0 + 0.3 * i as f64 / 1e5) * (1.0 + 0.02 * rng.normal()))
            .collect()
    };
    let (med, _, _, found) = time(7, || detect(&v, &no_trends).unwrap().change_points().len());
    println!(
        "  trend, n =  100000, trends: false: median {:>8.3} ms ({found} change points)",
        ms(med)
    );
    // Incremental: a 10k series already analysed, 10 new points appended.
    let v = series(10_010, 11);
    let previous = detect(&v[..10_000], &cfg).unwrap().change_points().to_vec();
    let (med, min, max, found) = time(51, || {
        detect_incremental(&v, &previous, &cfg)
            .unwrap()
            .change_points()
            .len()
    });
    println!(
        "  incremental append of 10 points to 10,000: median {:.3} ms (min {:.3}, max {:.3}, {found} change points)",
        ms(med),
        ms(min),
        ms(max)
    );
}
