//! The table printed when a run ends.

use crate::report::Report;
use crate::results::RunMeta;

pub fn table(r: &Report, meta: &RunMeta) -> String {
    let mut out = headline(r, meta);
    ops(&mut out, r);
    service(&mut out, r);
    examples(&mut out, r);
    thresholds_and_validity(&mut out, meta);
    out
}

/// The scenario, model, length, iterations and scheduling lag on one line.
fn headline(r: &Report, meta: &RunMeta) -> String {
    format!(
        "{} · {} · {:.0}s measured · {} iterations ({:.1}/s{}) · lag p99 {:.2} ms\n",
        r.scenario,
        meta.load_model,
        r.measured_seconds,
        r.started,
        r.achieved_rate(),
        r.target_rate
            .map(|t| format!(" of {t:.1}/s"))
            .unwrap_or_default(),
        r.lag.p99
    )
}

/// One row per operation: count, rate, response and service percentiles, errors.
fn ops(out: &mut String, r: &Report) {
    let w = r.ops.iter().map(|o| o.name.len()).max().unwrap_or(2).max(2);
    out.push_str(&format!(
        "  {:<w$} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  errors\n",
        "op", "count", "rate/s", "resp p50", "resp p99", "p99.9", "svc p50", "svc p99"
    ));
    for o in &r.ops {
        let errors = if o.errors.is_empty() {
            "-".to_string()
        } else {
            o.errors
                .iter()
                .map(|(c, n)| {
                    format!(
                        "{c} {n} ({:.2}%)",
                        *n as f64 * 100.0 / o.attempts.max(1) as f64
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "  {:<w$} {:>8} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {errors}\n",
            o.name,
            o.attempts,
            o.throughput(r.measured_seconds),
            o.response.p50,
            o.response.p99,
            o.response.p999,
            o.service.p50,
            o.service.p99,
        ));
    }
    out.push_str("  (resp: from the intended start; svc: from the actual start; ms)\n");
}

/// The sampled service's CPU and memory, when a service was probed.
fn service(out: &mut String, r: &Report) {
    if let Some(s) = &r.service {
        let mean = |v: &[f64]| {
            if v.is_empty() {
                0.0
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        };
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        out.push_str(&format!(
            "service: CPU {:.1}% mean, RSS {:.1} MB max\n",
            mean(&s.cpu_percent),
            max(&s.rss_bytes) / 1e6
        ));
    }
}

/// Example messages of each operation's error classes.
fn examples(out: &mut String, r: &Report) {
    for o in &r.ops {
        for (c, ex) in &o.examples {
            out.push_str(&format!("  {} {c}: {}\n", o.name, ex.join(" | ")));
        }
    }
}

fn thresholds_and_validity(out: &mut String, meta: &RunMeta) {
    for t in &meta.thresholds {
        out.push_str(&format!(
            "threshold {} [{}] {:.3} {} {}\n",
            t.key,
            t.op,
            t.observed,
            t.limit_text,
            if t.passed { "ok" } else { "BREACHED" }
        ));
    }
    if meta.invalid_reasons.is_empty() {
        out.push_str("valid run\n");
    } else {
        out.push_str("INVALID run (kept, left out of detection and verdicts):\n");
        for why in &meta.invalid_reasons {
            out.push_str(&format!("  - {why}\n"));
        }
    }
}
