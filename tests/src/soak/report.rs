//! The soak's figures and verdict, printed as Markdown (pasted into
//! docs/benchmarks.md).

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::load::Shared;
use super::record::KindStats;
use super::{JobCounts, SoakOptions};

pub struct SoakReport {
    pub label: String,
    pub elapsed: Duration,
    pub kinds: Vec<KindStats>,
    pub runs_acked: usize,
    pub replays: u64,
    pub jobs: Option<JobCounts>,
    /// RSS samples (time since start, bytes).
    pub rss: Vec<(Duration, u64)>,
    pub warmup: Duration,
    /// max/min of the RSS after warm-up.
    pub rss_ratio: Option<f64>,
    pub violations: Vec<String>,
}

impl SoakReport {
    pub fn new(
        s: &Shared,
        o: &SoakOptions,
        label: &str,
        elapsed: Duration,
        jobs: Option<JobCounts>,
    ) -> Self {
        let rss = s.rec.rss();
        let warm: Vec<u64> = rss
            .iter()
            .filter(|(t, _)| *t >= o.warmup)
            .map(|(_, b)| *b)
            .collect();
        let rss_ratio = match (warm.iter().min(), warm.iter().max()) {
            (Some(&lo), Some(&hi)) if warm.len() >= 2 && lo > 0 => Some(hi as f64 / lo as f64),
            _ => None,
        };
        let kinds = s.rec.kinds();
        for k in &kinds {
            if k.counts.server_errors > 0 {
                s.rec.violation(format!(
                    "{}: {} answers with 5xx",
                    k.kind, k.counts.server_errors
                ));
            }
        }
        if let Some(r) = rss_ratio.filter(|r| *r > o.rss_ratio_limit) {
            s.rec.violation(format!(
                "RSS after warm-up not flat: max/min {r:.2} > {:.2}",
                o.rss_ratio_limit
            ));
        }
        Self {
            label: label.to_string(),
            elapsed,
            kinds,
            runs_acked: s.acked.lock().unwrap().len(),
            replays: s.replays.load(Ordering::Relaxed),
            jobs,
            rss,
            warmup: o.warmup,
            rss_ratio,
            violations: s.rec.violations(),
        }
    }

    pub fn ok(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn runs_acknowledged(&self) -> usize {
        self.runs_acked
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(f, "### {} — {:.0} s", self.label, secs)?;
        writeln!(f)?;
        writeln!(
            f,
            "| kind | requests | per s | p50 ms | p99 ms | max ms | 5xx | 4xx | no answer |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for k in &self.kinds {
            let c = &k.counts;
            writeln!(
                f,
                "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {} |",
                k.kind,
                k.total(),
                k.total() as f64 / secs,
                k.p50_ms,
                k.p99_ms,
                k.max_ms,
                c.server_errors,
                c.client_errors,
                c.transport_errors
            )?;
        }
        let total: u64 = self.kinds.iter().map(KindStats::total).sum();
        writeln!(f)?;
        writeln!(
            f,
            "- requests: {total} ({:.1}/s); runs acknowledged: {} (+{} repeated submissions, answered as duplicates)",
            total as f64 / secs,
            self.runs_acked,
            self.replays
        )?;
        if let Some(j) = &self.jobs {
            writeln!(
                f,
                "- jobs: {} pushed, {} processed exactly once, others {:?}",
                j.pushed, j.processed, j.other
            )?;
        }
        let warm: Vec<u64> = self
            .rss
            .iter()
            .filter(|(t, _)| *t >= self.warmup)
            .map(|(_, b)| *b)
            .collect();
        if let (Some(first), Some(last)) = (self.rss.first(), self.rss.last()) {
            writeln!(
                f,
                "- server RSS: first {:.1} MB, after warm-up ({:.0} s) {:.1} MB, last {:.1} MB, max {:.1} MB; max/min after warm-up {} ({} samples)",
                mb(first.1),
                self.warmup.as_secs_f64(),
                warm.first().copied().map(mb).unwrap_or_default(),
                mb(last.1),
                mb(self.rss.iter().map(|r| r.1).max().unwrap_or_default()),
                self.rss_ratio
                    .map(|r| format!("{r:.2}"))
                    .unwrap_or_else(|| "n/a".into()),
                self.rss.len()
            )?;
        }
        if !self.rss.is_empty() {
            writeln!(
                f,
                "- server RSS by tenth of the run (max, MB): {}",
                tenths(&self.rss)
            )?;
        }
        if self.violations.is_empty() {
            writeln!(f, "- violations: none")?;
        } else {
            writeln!(f, "- violations ({}):", self.violations.len())?;
            for v in &self.violations {
                writeln!(f, "  - {v}")?;
            }
        }
        Ok(())
    }
}

/// The largest RSS sample in each tenth of the run, in MB: whether memory still climbs at
/// the end or has levelled off.
fn tenths(rss: &[(Duration, u64)]) -> String {
    let end = rss
        .last()
        .map(|r| r.0.as_secs_f64())
        .unwrap_or_default()
        .max(1e-9);
    let mut max = [0u64; 10];
    for (t, b) in rss {
        let i = ((t.as_secs_f64() / end * 10.0) as usize).min(9);
        max[i] = max[i].max(*b);
    }
    max.iter()
        .map(|b| format!("{:.1}", mb(*b)))
        .collect::<Vec<_>>()
        .join(", ")
}
