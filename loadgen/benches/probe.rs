//! Cost of one service-probe sample (procfs reads), per kind of target, and what that
//! costs a core when sampled at 1 Hz (the engine's rate) and at 10 Hz.
//! `cargo bench -p perfwatch-loadgen --bench probe`; median of 7 rounds × 200 samples.
//! A pid with its descendants or a process name scans every process in /proc, so its
//! cost grows with the number of processes on the box (printed).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Instant;

use perfwatch_loadgen::probe::{Probe, Source};

fn per_sample_us(source: impl Fn() -> Source) -> f64 {
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let mut p = Probe::new(source());
            let n = 200;
            let t = Instant::now();
            for _ in 0..n {
                p.sample().expect("sample");
            }
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[3]
}

fn main() {
    let me = std::process::id() as i32;
    let comm = std::fs::read_to_string("/proc/self/comm").expect("comm");
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        })
        .map(|p| std::path::Path::new("/sys/fs/cgroup").join(p.trim_start_matches('/')))
        .filter(|p| p.join("cpu.stat").exists());
    let processes = std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .count();
    println!("{processes} processes in /proc");
    let mut cases: Vec<(&str, f64)> = vec![
        (
            "pid",
            per_sample_us(|| Source::Pids {
                root: me,
                children: false,
            }),
        ),
        (
            "pid + descendants",
            per_sample_us(|| Source::Pids {
                root: me,
                children: true,
            }),
        ),
        (
            "process name",
            per_sample_us(|| Source::Name(comm.trim().to_string())),
        ),
    ];
    if let Some(c) = cgroup {
        cases.push(("cgroup v2", per_sample_us(|| Source::Cgroup(c.clone()))));
    }
    for (name, us) in cases {
        println!(
            "{name:>18}: {us:8.1} µs per sample; {:.4} % of a core at 1 Hz, {:.4} % at 10 Hz",
            us / 1e4,
            us * 10.0 / 1e4
        );
    }
}
