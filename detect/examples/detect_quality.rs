//! Detection quality on the seeded corpus, per stratum and overall.
//!
//! cargo run --release -p perfwatch-detect --example detect_quality
//! Options: --seed N, --min-segment N, --p X, --rel X, --energy ranks|values,
//! --test mann_whitney|welch, --sweep (grid of settings, one summary line each).

use std::time::{Duration, Instant};

use perfwatch_detect::corpus::{generate, CorpusSize, LabelledSeries, Noise, Shape};
use perfwatch_detect::score::Tally;
use perfwatch_detect::{detect, DetectConfig, EnergyInput, SignificanceTest};

const MARGIN: usize = 5;

#[derive(Default)]
struct Row {
    tally: Tally,
    time: Duration,
}

fn bucket(snr: f64) -> &'static str {
    if snr >= 3.0 {
        ">=3σ"
    } else if snr >= 1.0 {
        "1-3σ"
    } else {
        "<1σ"
    }
}

fn noise_name(n: Noise) -> &'static str {
    match n {
        Noise::Gaussian => "gaussian",
        Noise::HeavyTailed => "heavy_t3",
        Noise::Outliers => "outliers",
        Noise::Bimodal => "bimodal",
    }
}

/// Runs detection on every series and files the result under each stratum it belongs to.
fn evaluate(corpus: &[LabelledSeries], cfg: &DetectConfig) -> Vec<(String, Row)> {
    let mut rows: Vec<(String, Row)> = Vec::new();
    let mut add = |name: String, s: &LabelledSeries, pred: &[usize], t: Duration| {
        let i = match rows.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                rows.push((name, Row::default()));
                rows.len() - 1
            }
        };
        rows[i]
            .1
            .tally
            .add(&s.change_points, pred, s.values.len(), MARGIN);
        rows[i].1.time += t;
    };
    for s in corpus {
        let start = Instant::now();
        let det = detect(&s.values, cfg).expect("corpus values are finite");
        let t = start.elapsed();
        let pred: Vec<usize> = det.change_points().iter().map(|c| c.index).collect();
        let noise = noise_name(s.noise);
        match s.shape {
            Shape::Steps => {
                add(format!("steps {noise} (all sizes)"), s, &pred, t);
                add(format!("steps {noise} {}", bucket(s.min_snr)), s, &pred, t);
                add(
                    format!("steps all noises {}", bucket(s.min_snr)),
                    s,
                    &pred,
                    t,
                );
            }
            Shape::Drift => {
                add(format!("drift {noise} (all sizes)"), s, &pred, t);
                add(
                    format!("drift all noises {}", bucket(s.min_snr)),
                    s,
                    &pred,
                    t,
                );
            }
            Shape::RecentStep => {
                add(format!("recent step {noise} (all sizes)"), s, &pred, t);
                add(
                    format!("recent step all noises {}", bucket(s.min_snr)),
                    s,
                    &pred,
                    t,
                );
            }
            Shape::ChangeFree if s.values.len() > 1000 => {
                add(format!("change-free long {noise}"), s, &pred, t);
                add("change-free long all noises".to_string(), s, &pred, t);
            }
            Shape::ChangeFree => {
                add(format!("change-free {noise}"), s, &pred, t);
                add("change-free all noises".to_string(), s, &pred, t);
            }
        }
        add("OVERALL".to_string(), s, &pred, t);
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn find<'a>(rows: &'a [(String, Row)], name: &str) -> &'a Tally {
    &rows
        .iter()
        .find(|(n, _)| n == name)
        .expect("stratum exists")
        .1
        .tally
}

fn print_table(rows: &[(String, Row)]) {
    println!(
        "{:<30} {:>6} {:>7} | {:>5} {:>5} {:>5} {:>5} | {:>5} {:>5} {:>5} | {:>7} {:>8}",
        "stratum",
        "series",
        "points",
        "P",
        "R",
        "F1",
        "cover",
        "evP",
        "evR",
        "evF1",
        "FA/10k",
        "time ms"
    );
    for (name, row) in rows {
        let t = &row.tally;
        let (p, r, f, c) = t.tcpd();
        let (ep, er, ef) = t.events();
        let fa = t.false_alerts_per_10k();
        let fa = if fa.is_nan() {
            "-".to_string()
        } else {
            format!("{fa:.2}")
        };
        println!(
            "{:<30} {:>6} {:>7} | {:>5.3} {:>5.3} {:>5.3} {:>5.3} | {:>5.3} {:>5.3} {:>5.3} | {:>7} {:>8.1}",
            name,
            t.series,
            t.points,
            p,
            r,
            f,
            c,
            ep,
            er,
            ef,
            fa,
            row.time.as_secs_f64() * 1e3
        );
    }
}

fn summary_line(label: &str, rows: &[(String, Row)]) {
    let big = find(rows, "steps all noises >=3σ");
    let mid = find(rows, "steps all noises 1-3σ");
    let free = find(rows, "change-free all noises");
    let long = find(rows, "change-free long all noises");
    let recent = find(rows, "recent step all noises >=3σ");
    let all = find(rows, "OVERALL");
    println!(
        "{label:<44} F1>=3σ {:.3} evF1>=3σ {:.3} | F1 1-3σ {:.3} | recent>=3σ evR {:.3} | FA/10k {:.2} long {:.2} | overall F1 {:.3} cover {:.3}",
        big.tcpd().2,
        big.events().2,
        mid.tcpd().2,
        recent.events().1,
        free.false_alerts_per_10k(),
        long.false_alerts_per_10k(),
        all.tcpd().2,
        all.tcpd().3
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seed: u64 = arg("--seed").map_or(20_240_601, |s| s.parse().expect("--seed"));
    let mut cfg = DetectConfig::default();
    if let Some(v) = arg("--min-segment") {
        cfg.min_segment = v.parse().expect("--min-segment");
    }
    if let Some(v) = arg("--p") {
        cfg.max_p_value = v.parse().expect("--p");
    }
    if let Some(v) = arg("--rel") {
        cfg.min_relative_change = v.parse().expect("--rel");
    }
    if let Some(v) = arg("--energy") {
        cfg.energy_input = if v == "values" {
            EnergyInput::Values
        } else {
            EnergyInput::Ranks
        };
    }
    if let Some(v) = arg("--test") {
        cfg.test = if v == "welch" {
            SignificanceTest::Welch
        } else {
            SignificanceTest::MannWhitney
        };
    }
    let corpus = generate(seed, CorpusSize::default());
    let points: usize = corpus.iter().map(|s| s.values.len()).sum();
    println!(
        "corpus: seed {seed}, {} series, {points} points, F1 margin {MARGIN}",
        corpus.len()
    );
    if args.iter().any(|a| a == "--sweep") {
        for energy in [EnergyInput::Ranks, EnergyInput::Values] {
            for test in [SignificanceTest::MannWhitney, SignificanceTest::Welch] {
                for min_segment in [4, 5, 6, 8] {
                    for p in [1e-3, 3e-4, 1e-4, 1e-5] {
                        for rel in [0.0, 0.01, 0.02] {
                            let c = DetectConfig {
                                min_segment,
                                max_p_value: p,
                                min_relative_change: rel,
                                energy_input: energy,
                                test,
                                ..cfg.clone()
                            };
                            let label =
                                format!("{energy:?} {test:?} seg {min_segment} p {p:e} rel {rel}");
                            summary_line(&label, &evaluate(&corpus, &c));
                        }
                    }
                }
            }
        }
        return;
    }
    println!(
        "config: {}",
        serde_json::to_string(&cfg).expect("config serializes")
    );
    let start = Instant::now();
    let rows = evaluate(&corpus, &cfg);
    let elapsed = start.elapsed();
    print_table(&rows);
    summary_line("summary", &rows);
    println!(
        "total time (detect + scoring): {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
}
