//! What a comparison or an alert group says, built once as a value and rendered four
//! ways: Markdown (tickets, generic webhooks, PR comments), Slack Block Kit with mrkdwn,
//! JSON (webhook payloads) and terminal text (the CLI). The builders live next to the
//! data they read (`backend::notify::summary`); everything here is pure.

mod from_view;
mod json;
mod markdown;
mod slack;
mod terminal;

use serde::{Deserialize, Serialize};

pub use from_view::{view_counts, view_digest, view_section};
pub use json::to_json;
pub use markdown::{escape as markdown_escape, to_markdown};
pub use slack::{escape as slack_escape, to_slack};
pub use terminal::to_terminal;

/// A summary of what changed, ready to be rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Digest {
    /// One plain-text line, e.g. `[shop] regression +12.0% in insert (time)`.
    pub title: String,
    pub project: String,
    /// The verdict of a job or a comparison, when there is one to state first.
    pub outcome: Option<Outcome>,
    /// The triage state of an alert group.
    pub state: Option<String>,
    /// Head and base of a comparison.
    pub sides: Option<Sides>,
    pub counts: Option<Counts>,
    /// Groups of changes (an alert group has one, unlabelled; a comparison has
    /// regressions and improvements).
    pub sections: Vec<Section>,
    pub suspects: Option<Suspects>,
    /// Runs left out because they produced no valid data, each with the reason.
    pub invalid: Vec<String>,
    /// Permalinks, in the order they are shown.
    pub links: Vec<Link>,
}

/// A verdict in words: `❌`, `Slower`, `at least one series regressed …`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// A symbol shown before the word (may be empty).
    pub mark: String,
    pub word: String,
    pub text: String,
    /// Whether this verdict is bad news (drawn in red on a terminal).
    pub bad: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sides {
    pub head_sha: String,
    /// The head commit in the project's repository, when known.
    pub head_url: Option<String>,
    /// What the head was compared with, in words.
    pub base: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub regressions: usize,
    pub improvements: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
    pub geomean_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// `Regressions`, `Improvements`; none for an alert group's single list.
    pub label: Option<String>,
    pub changes: Vec<Change>,
    /// Changes left out of `changes` (counted, not shown).
    pub more: usize,
}

/// One series that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Change {
    pub series_id: i64,
    pub benchmark: String,
    /// `k=v,k=v`, empty when none.
    pub params: String,
    pub measure: String,
    pub testbed: String,
    pub unit: String,
    /// `regression`, `improvement`, `no change`, `inconclusive (needs 5 per side)`, ….
    pub verdict: String,
    pub change_pct: Option<f64>,
    /// The 95% interval of the change, in %.
    pub change_low: Option<f64>,
    pub change_high: Option<f64>,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// Samples per side, when known.
    pub n_before: Option<usize>,
    pub n_after: Option<usize>,
    pub confidence: Confidence,
    /// The p-value after the false-discovery-rate correction, for comparisons.
    pub p_adjusted: Option<f64>,
    /// The series page.
    pub chart_url: Option<String>,
    /// The series chart as an image.
    pub chart_image_url: Option<String>,
}

/// How sure the change is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Confidence {
    /// A statistical test: confidence is `1 - p`.
    Test { p_value: f64 },
    /// A threshold rule was crossed (no test).
    Threshold,
    #[default]
    Unknown,
}

impl Confidence {
    /// `99.00% (p = 1.0e-2)`, `threshold breach` or `unknown`.
    pub fn text(self) -> String {
        match self {
            Self::Test { p_value } => {
                format!("{:.2}% (p = {p_value:.1e})", (1.0 - p_value) * 100.0)
            }
            Self::Threshold => "threshold breach".into(),
            Self::Unknown => "unknown".into(),
        }
    }

    pub fn p_value(self) -> Option<f64> {
        match self {
            Self::Test { p_value } => Some(p_value),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suspects {
    /// All suspect commits, of which `commits` are the first few.
    pub total: i64,
    pub commits: Vec<Commit>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub sha: String,
    pub url: Option<String>,
    /// The first line of the commit message.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Chart,
    ChartImage,
    Compare,
    Triage,
    Run,
    Job,
}

impl LinkKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Chart => "Chart",
            Self::ChartImage => "Chart image",
            Self::Compare => "Compare",
            Self::Triage => "Triage",
            Self::Run => "Run",
            Self::Job => "Job",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub kind: LinkKind,
    pub url: String,
}

impl Digest {
    pub fn link(&self, kind: LinkKind) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.kind == kind)
            .map(|l| l.url.as_str())
    }
}

impl Change {
    /// `insert [n=1]`: the benchmark with its parameters.
    pub fn name(&self) -> String {
        if self.params.is_empty() {
            self.benchmark.clone()
        } else {
            format!("{} [{}]", self.benchmark, self.params)
        }
    }
}

impl Counts {
    /// `2 series: 1 regressions, 0 improvements, 1 unchanged, 0 inconclusive`.
    pub fn text(&self) -> String {
        format!(
            "{} series: {} regressions, {} improvements, {} unchanged, {} inconclusive{}",
            self.total,
            self.regressions,
            self.improvements,
            self.unchanged,
            self.inconclusive,
            self.geomean_pct
                .map(|g| format!(", geomean {g:+.2}%"))
                .unwrap_or_default()
        )
    }
}

/// A measured value: whole numbers from 100 on, three decimals below.
pub fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// `+12.34%`, or `?` when unknown.
pub fn fmt_pct(v: Option<f64>) -> String {
    v.map_or_else(|| "?".into(), |c| format!("{c:+.2}%"))
}

/// The first 10 characters of a commit id.
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(10).collect()
}

/// `+12.34%`, with its interval when known: `+12.34% [+8.0%, +16.1%]`.
pub(crate) fn fmt_change(c: &Change) -> String {
    match (c.change_low, c.change_high) {
        (Some(lo), Some(hi)) => format!("{} [{lo:+.1}%, {hi:+.1}%]", fmt_pct(c.change_pct)),
        _ => fmt_pct(c.change_pct),
    }
}

/// `before → after unit`, with `?` for an unknown side and the sample counts when
/// known: `10.000 → 13.025 ms, n = 5 → 5`.
pub(crate) fn fmt_values(c: &Change) -> String {
    let v = |x: Option<f64>| x.map_or_else(|| "?".into(), fmt_num);
    let mut s = format!("{} → {} {}", v(c.before), v(c.after), c.unit);
    if let (Some(a), Some(b)) = (c.n_before, c.n_after) {
        s.push_str(&format!(", n = {a} → {b}"));
    }
    s
}

/// ` on ci`, or nothing without a testbed (offline comparisons).
pub(crate) fn on_testbed(testbed: &str) -> String {
    if testbed.is_empty() {
        String::new()
    } else {
        format!(" on {testbed}")
    }
}

/// `, confidence 99.00% (p = 1.0e-2)`, or nothing when unknown.
pub(crate) fn fmt_confidence(c: &Change) -> String {
    match c.confidence {
        Confidence::Unknown => String::new(),
        k => format!(", confidence {}", k.text()),
    }
}

#[cfg(test)]
mod tests;
