//! Times `compare_all` on a realistic PR comparison: 2,000 series × 10 samples a side
//! (target ≤ 300 ms). Plain `std::time`, median of several runs, so it needs no bench
//! framework. Run: `cargo bench -p perfwatch-compare`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_compare::{compare_all, CompareConfig, SeriesInput};
use perfwatch_core::Direction;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// xorshift64*: deterministic noise without a rand dependency.
struct Rng(u64);
impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `series` series with `n` samples a side: ~3 % noise, 5 % of series 10 % slower,
/// some with integer-valued samples (ties) as allocs/op would be.
fn workload(series: usize, n: usize) -> Vec<SeriesInput<usize>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..series)
        .map(|i| {
            let level = 10f64.powf(1.0 + 5.0 * rng.next_f64());
            let shift = if i % 20 == 0 { 1.1 } else { 1.0 };
            let ties = i % 7 == 0;
            let mut side = |f: f64| -> Vec<f64> {
                (0..n)
                    .map(|_| {
                        let v = level * f * (1.0 + 0.03 * (rng.next_f64() - 0.5));
                        if ties {
                            (v / level * 20.0).round()
                        } else {
                            v
                        }
                    })
                    .collect()
            };
            let base = side(1.0);
            let head = side(shift);
            SeriesInput {
                key: i,
                group: format!("suite{}", i % 12),
                direction: if i % 5 == 0 {
                    Direction::Higher
                } else {
                    Direction::Lower
                },
                base: Some(base),
                head: Some(head),
            }
        })
        .collect()
}

fn time(label: &str, series: usize, n: usize, runs: usize) -> Duration {
    let inputs = workload(series, n);
    let cfg = CompareConfig::default();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let batch = inputs.clone();
            let t = Instant::now();
            let out = compare_all(black_box(batch), &cfg).expect("valid config");
            let dt = t.elapsed();
            black_box(out);
            dt
        })
        .collect();
    times.sort();
    let median = times[runs / 2];
    println!(
        "{label}: {series} series × {n} samples/side: median {:.2} ms over {runs} runs (min {:.2} ms, max {:.2} ms)",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3,
    );
    median
}

fn main() {
    let main = time("compare_all", 2_000, 10, 21);
    time("compare_all", 2_000, 30, 11);
    time("compare_all", 2_000, 100, 5);
    time("compare_all", 20, 1_000, 5);
    assert!(
        main < Duration::from_millis(300),
        "2,000 × 10 took {main:?}, over the 300 ms budget"
    );
}
