//! Detection quality on the seeded corpora (steps and trends), per stratum and overall.
//!
//! cargo run --release -p perfwatch-detect --example detect_quality
//! Options: --seed N, --min-segment N, --p X, --rel X, --energy ranks|values,
//! --test mann_whitney|welch, --sweep (grid of settings, one summary line each),
//! --compare (report nothing / change points only / with trends, on both corpora).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::{Duration, Instant};

use perfwatch_detect::corpus::{generate, CorpusSize, LabelledSeries, Noise, Shape};
use perfwatch_detect::corpus_trend::{generate_trends, TrendCorpusSize};
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
        Noise::Poisson => "poisson",
    }
}

/// What a detector predicts for a series: the indices scored as change points.
type Predictor<'a> = &'a dyn Fn(&[f64]) -> Vec<usize>;

/// The detector as configured: change points, plus where each drift starts and ends.
fn detector(cfg: &DetectConfig) -> impl Fn(&[f64]) -> Vec<usize> + '_ {
    move |v: &[f64]| {
        detect(v, cfg)
            .expect("corpus values are finite")
            .scored_indices(v.len())
    }
}

fn shape_name(s: Shape) -> &'static str {
    match s {
        Shape::Trend => "trend (no label)",
        Shape::Ramp => "ramp 40-150 pts",
        Shape::TrendStep => "price: trend+step",
        Shape::Growth => "growth counts (no label)",
        Shape::Seasonal => "weekly counts",
        Shape::Steps => "steps",
        Shape::Drift => "drift",
        Shape::RecentStep => "recent step",
        Shape::ChangeFree => "change-free",
    }
}

/// Runs detection on every series and files the result under each stratum it belongs to.
fn evaluate(corpus: &[LabelledSeries], predict: Predictor) -> Vec<(String, Row)> {
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
        let pred = predict(&s.values);
        let t = start.elapsed();
        let noise = noise_name(s.noise);
        match s.shape {
            Shape::Trend | Shape::Ramp | Shape::TrendStep | Shape::Growth | Shape::Seasonal => {
                let shape = shape_name(s.shape);
                add(format!("{shape} {noise}"), s, &pred, t);
                add(format!("{shape} all"), s, &pred, t);
                add("TRENDS OVERALL".to_string(), s, &pred, t);
                continue;
            }
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
        add("LAB OVERALL".to_string(), s, &pred, t);
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
    let all = find(rows, "LAB OVERALL");
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
    let cfg = config_from_args(&arg);
    let corpus = generate(seed, CorpusSize::default());
    let trends = generate_trends(seed, TrendCorpusSize::default());
    for (name, c) in [("steps", &corpus), ("trends", &trends)] {
        let points: usize = c.iter().map(|s| s.values.len()).sum();
        println!(
            "{name} corpus: seed {seed}, {} series, {points} points, F1 margin {MARGIN}",
            c.len()
        );
    }
    if args.iter().any(|a| a == "--sweep") {
        sweep(&corpus, &cfg);
    } else if args.iter().any(|a| a == "--compare") {
        compare_predictors(&corpus, &trends, &cfg);
    } else {
        report(&corpus, &trends, &cfg);
    }
}

/// The default configuration with the command line's overrides.
fn config_from_args(arg: &dyn Fn(&str) -> Option<String>) -> DetectConfig {
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
    cfg
}

/// `--sweep`: one summary line per setting of the grid (energy input, test, minimum
/// segment, p, relative change).
fn sweep(corpus: &[LabelledSeries], cfg: &DetectConfig) {
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
                        summary_line(&label, &evaluate(corpus, &detector(&c)));
                    }
                }
            }
        }
    }
}

/// `--compare`: reporting nothing, change points only and with trends, on both corpora.
fn compare_predictors(corpus: &[LabelledSeries], trends: &[LabelledSeries], cfg: &DetectConfig) {
    let nothing = |_: &[f64]| Vec::new();
    let steps_only = DetectConfig {
        trends: false,
        ..cfg.clone()
    };
    let with_steps = detector(&steps_only);
    let with_trends = detector(cfg);
    let predictors: [(&str, Predictor); 3] = [
        ("report nothing", &nothing),
        ("change points only (trends: false)", &with_steps),
        ("with trends (default)", &with_trends),
    ];
    for (label, p) in predictors {
        summary_line(label, &evaluate(corpus, p));
        trend_line(label, &evaluate(trends, p));
    }
}

/// Default run: the full tables of both corpora with `cfg`, and the time taken.
fn report(corpus: &[LabelledSeries], trends: &[LabelledSeries], cfg: &DetectConfig) {
    println!(
        "config: {}",
        serde_json::to_string(cfg).expect("config serializes")
    );
    let start = Instant::now();
    let rows = evaluate(corpus, &detector(cfg));
    let elapsed = start.elapsed();
    print_table(&rows);
    summary_line("summary", &rows);
    println!(
        "total time (detect + scoring): {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
    let rows = evaluate(trends, &detector(cfg));
    print_table(&rows);
    trend_line("summary", &rows);
}

/// One line per predictor on the trend corpus: F1 and covering per shape and overall.
fn trend_line(label: &str, rows: &[(String, Row)]) {
    let mut line = format!("{label:<44} trends:");
    for shape in [
        Shape::Trend,
        Shape::Ramp,
        Shape::TrendStep,
        Shape::Growth,
        Shape::Seasonal,
    ] {
        let (_, _, f1, cover) = find(rows, &format!("{} all", shape_name(shape))).tcpd();
        line.push_str(&format!(
            " {} F1 {f1:.3} cov {cover:.3} |",
            shape_name(shape)
        ));
    }
    let (_, _, f1, cover) = find(rows, "TRENDS OVERALL").tcpd();
    println!("{line} overall F1 {f1:.3} cover {cover:.3}");
}
