//! What a finished job says, as one model rendered to Markdown (the PR comment, the
//! job page, the check run's summary): the verdict in words, the largest changes with
//! their intervals, invalid and inconclusive rows explained, and links to the job, the
//! compare permalink and the charts.

use perfwatch_core::comparison::{CompareRow, ComparisonView, RowVerdict};

use super::results::Context;

/// The verdict of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Regression,
    Improvement,
    NoChange,
    /// Compared, but no series had enough data to decide.
    Inconclusive,
    /// The load or metrics step produced no data: never "no change".
    Invalid,
    /// A master-set job: stored as the baseline of later PRs.
    Baseline,
    /// No master set at the merge-base (its backfill failed).
    NoBaseline,
    /// A master set exists, but from another job definition or testbed.
    NotComparable,
    /// A master commit slower than the previous master set: a confirmation job re-runs
    /// both sides before anyone is told.
    Unconfirmed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no change",
            Self::Inconclusive => "inconclusive",
            Self::Invalid => "invalid",
            Self::Baseline => "baseline",
            Self::NoBaseline => "no baseline",
            Self::NotComparable => "not comparable",
            Self::Unconfirmed => "unconfirmed regression",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Regression,
            Self::Improvement,
            Self::NoChange,
            Self::Inconclusive,
            Self::Invalid,
            Self::Baseline,
            Self::NoBaseline,
            Self::NotComparable,
            Self::Unconfirmed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// The sentence a reader sees first.
    pub fn headline(self) -> &'static str {
        match self {
            Self::Regression => "❌ **Slower**: at least one series regressed beyond run-to-run noise.",
            Self::Improvement => "✅ **Faster**: at least one series improved, none regressed.",
            Self::NoChange => "✅ **No change** beyond run-to-run noise.",
            Self::Inconclusive => "⚪ **Inconclusive**: too few samples to decide; run more repeats (`/perfwatch run repeats=5`).",
            Self::Invalid => "⚠️ **Invalid**: a run produced no data (see below); this is not a \"no change\".",
            Self::Baseline => "📏 Stored as the master baseline.",
            Self::NoBaseline => "⚪ **No baseline**: the master commit at the merge-base could not be measured.",
            Self::NotComparable => "⚪ **Not comparable**: the baseline was measured with another job definition or testbed.",
            Self::Unconfirmed => "⏳ **Slower than the previous master commit**: re-running both sides together to confirm before anyone is told.",
        }
    }
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct RowLine {
    pub name: String,
    /// The series' chart image (PNG), for the largest changes.
    pub chart: Option<String>,
    pub base: String,
    pub head: String,
    pub change: String,
    pub verdict: String,
}

/// What a report holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportModel {
    pub title: String,
    pub verdict: Verdict,
    pub job_url: String,
    pub compare_url: Option<String>,
    pub rows: Vec<RowLine>,
    pub omitted: usize,
    pub invalid: Vec<String>,
    pub counts: Option<(usize, usize, usize, usize)>,
}

/// Rows shown in the table; the rest are counted and linked.
const SHOWN: usize = 20;
/// Chart images shown under the table: the largest significant changes.
const CHARTS: usize = 3;

impl Context<'_> {
    pub fn report(&self, verdict: Verdict, view: Option<&ComparisonView>) -> ReportModel {
        let base = self.public_url.trim_end_matches('/');
        let job = self.job;
        let mut title = format!(
            "perfwatch job {} at `{}`",
            job.id,
            &job.sha[..job.sha.len().min(10)]
        );
        if let Some(b) = &job.base_sha {
            title.push_str(&format!(" vs `{}`", &b[..b.len().min(10)]));
        }
        let (rows, omitted, counts) = match view {
            Some(v) => {
                let mut sorted: Vec<&CompareRow> = v.rows.iter().collect();
                sorted.sort_by(|a, b| {
                    let key = |r: &CompareRow| {
                        (
                            r.verdict.is_significant(),
                            r.change_pct.map_or(0.0, f64::abs),
                        )
                    };
                    let (ka, kb) = (key(a), key(b));
                    kb.0.cmp(&ka.0).then(kb.1.total_cmp(&ka.1))
                });
                let count = |k: RowVerdict| v.rows.iter().filter(|r| r.verdict == k).count();
                let counts = (
                    count(RowVerdict::Regression),
                    count(RowVerdict::Improvement),
                    count(RowVerdict::NoChange),
                    v.rows.len()
                        - count(RowVerdict::Regression)
                        - count(RowVerdict::Improvement)
                        - count(RowVerdict::NoChange),
                );
                let lines = sorted
                    .iter()
                    .take(SHOWN)
                    .enumerate()
                    .map(|(i, r)| {
                        let mut line = row_line(r);
                        if i < CHARTS && r.verdict.is_significant() {
                            line.chart =
                                Some(format!("{base}/api/v1/series/{}/chart.png", r.series.id));
                        }
                        line
                    })
                    .collect();
                (lines, v.rows.len().saturating_sub(SHOWN), Some(counts))
            }
            None => (Vec::new(), 0, None),
        };
        ReportModel {
            title,
            verdict,
            job_url: format!("{base}/jobs/{}", job.id),
            compare_url: view.map(|v| format!("{base}{}", v.spec.page_path(self.project))),
            rows,
            omitted,
            invalid: self.invalid.to_vec(),
            counts,
        }
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    }
}

fn row_line(r: &CompareRow) -> RowLine {
    let unit = &r.series.display_unit;
    let side = |s: &Option<perfwatch_core::comparison::SideSummary>| {
        s.as_ref().map_or("—".to_string(), |s| {
            format!("{} {unit} (n={})", num(s.median), s.n)
        })
    };
    let change = match (r.change_pct, r.change_low, r.change_high) {
        (Some(c), Some(lo), Some(hi)) => format!("{c:+.1}% [{lo:+.1}%, {hi:+.1}%]"),
        (Some(c), _, _) => format!("{c:+.1}%"),
        _ => "—".into(),
    };
    let verdict = match (r.verdict, r.needed) {
        (RowVerdict::NotEnoughSamples, Some(n)) => format!("inconclusive (needs {n} per side)"),
        (v, _) => v.as_str().replace('_', " "),
    };
    let mut name = r.series.benchmark.clone();
    if !r.series.params.is_empty() {
        name.push_str(&format!(" [{}]", r.series.params));
    }
    RowLine {
        chart: None,
        name: format!("{name} · {}", r.series.measure),
        base: side(&r.base),
        head: side(&r.head),
        change,
        verdict,
    }
}

/// Markdown for GitHub and the job page. Table cells are escaped (`|`).
pub fn render(m: &ReportModel) -> String {
    let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut out = format!("### {}\n\n{}\n\n", m.title, m.verdict.headline());
    if let Some((reg, imp, same, other)) = m.counts {
        out.push_str(&format!(
            "{reg} regressed · {imp} improved · {same} unchanged · {other} other\n\n"
        ));
    }
    if !m.rows.is_empty() {
        out.push_str(
            "| series | base | head | change [95% CI] | verdict |\n|---|---|---|---|---|\n",
        );
        for r in &m.rows {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                esc(&r.name),
                esc(&r.base),
                esc(&r.head),
                esc(&r.change),
                esc(&r.verdict)
            ));
        }
        for r in m.rows.iter().filter(|r| r.chart.is_some()) {
            if let Some(c) = &r.chart {
                out.push_str(&format!("\n![{}]({c})\n", esc(&r.name)));
            }
        }
        if m.omitted > 0 {
            out.push_str(&format!(
                "\n…and {} more series on the compare page.\n",
                m.omitted
            ));
        }
        out.push('\n');
    }
    if !m.invalid.is_empty() {
        out.push_str("**Invalid runs** (left out of the comparison):\n");
        for why in &m.invalid {
            out.push_str(&format!("- {}\n", esc(why)));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "[Job {}]({})",
        m.job_url.rsplit('/').next().unwrap_or(""),
        m.job_url
    ));
    if let Some(c) = &m.compare_url {
        out.push_str(&format!(" · [compare]({c})"));
    }
    out.push('\n');
    out
}
