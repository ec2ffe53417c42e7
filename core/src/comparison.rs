//! Comparisons as the UI and the API see them: the permalink ([`CompareSpec`], every
//! choice of the compare page, parsed from and written to its query string) and the
//! read model ([`ComparisonView`]). The statistics themselves live in
//! `perfwatch-compare`; the backend maps its output into these plain records so that
//! the browser build needs nothing but this crate.

use serde::{Deserialize, Serialize};

use crate::chart::encode;
use crate::view::SeriesInfo;

/// One side of a comparison, as written in a URL or on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum SideSpec {
    /// `commit:<sha or unique prefix>` — every run at that commit.
    Commit(String),
    /// `branch:<name>` — the branch head: its latest commit with results.
    Branch(String),
    /// `run:<id>` — one run.
    Run(i64),
    /// `release:<name>` — the commit of the release annotation.
    Release(String),
    /// `time:<from>..<to>` — every run started in the window (ms since the epoch,
    /// inclusive; RFC 3339 accepted when parsing).
    Time { from: i64, to: i64 },
}

impl SideSpec {
    /// Parses `kind:value`. Without a prefix, 7–40 hex digits are a commit and
    /// anything else a branch (so `perfwatch compare main my-branch` works).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty side: use commit:, branch:, run:, release: or time:".into());
        }
        let Some((kind, value)) = s.split_once(':') else {
            let hex = s.len() >= 7 && s.len() <= 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
            return Ok(if hex {
                Self::Commit(s.to_ascii_lowercase())
            } else {
                Self::Branch(s.to_string())
            });
        };
        let value = value.trim();
        if value.is_empty() {
            return Err(format!("'{kind}:' needs a value"));
        }
        match kind {
            "commit" => {
                if value.len() < 4
                    || value.len() > 64
                    || !value.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err("commit: must be a sha or a prefix of at least 4 hex digits".into());
                }
                Ok(Self::Commit(value.to_ascii_lowercase()))
            }
            "branch" => Ok(Self::Branch(value.to_string())),
            "release" => Ok(Self::Release(value.to_string())),
            "run" => value
                .parse::<i64>()
                .map(Self::Run)
                .map_err(|_| "run: must be a run id (an integer)".to_string()),
            "time" => {
                let (from, to) = value
                    .split_once("..")
                    .ok_or("time: must be <from>..<to> (RFC 3339 or ms since the epoch)")?;
                let from = parse_time(from).ok_or("time: bad start (RFC 3339 or ms)")?;
                let to = parse_time(to).ok_or("time: bad end (RFC 3339 or ms)")?;
                if to < from {
                    return Err("time: the end is before the start".into());
                }
                Ok(Self::Time { from, to })
            }
            other => Err(format!(
                "unknown side kind '{other}': use commit:, branch:, run:, release: or time:"
            )),
        }
    }

    /// The canonical text (`parse(to_text()) == self`).
    pub fn to_text(&self) -> String {
        match self {
            Self::Commit(s) => format!("commit:{s}"),
            Self::Branch(b) => format!("branch:{b}"),
            Self::Run(id) => format!("run:{id}"),
            Self::Release(r) => format!("release:{r}"),
            Self::Time { from, to } => format!("time:{from}..{to}"),
        }
    }
}

impl std::fmt::Display for SideSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Row order of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    /// Regressions, then improvements, then the rest; each by size of change.
    #[default]
    Verdict,
    /// Largest change % first (signed, head slower/larger first).
    Change,
    /// Smallest adjusted p first.
    P,
    /// Benchmark, measure, testbed.
    Name,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verdict => "verdict",
            Self::Change => "change",
            Self::P => "p",
            Self::Name => "name",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verdict" => Some(Self::Verdict),
            "change" => Some(Self::Change),
            "p" => Some(Self::P),
            "name" => Some(Self::Name),
            _ => None,
        }
    }
}

/// Everything the compare page shows, as its query string: a permalink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CompareSpec {
    /// `None`: the default base (main branch at the merge-base of a branch head).
    pub base: Option<SideSpec>,
    pub head: Option<SideSpec>,
    /// Only regressions and improvements.
    pub only_significant: bool,
    /// Substring of the benchmark name (case-insensitive).
    pub bench: Option<String>,
    /// Exact measure name.
    pub measure: Option<String>,
    /// Exact testbed name.
    pub testbed: Option<String>,
    pub sort: SortKey,
}

impl CompareSpec {
    /// Reads `base`, `head`, `only`, `bench`, `measure`, `testbed`, `sort` from decoded
    /// query pairs. Errors name the field; unknown keys are ignored.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, (String, String)> {
        let mut s = Self::default();
        let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        for (k, v) in pairs {
            match k {
                "base" if !v.trim().is_empty() => {
                    s.base = Some(SideSpec::parse(v).map_err(|e| ("base".to_string(), e))?)
                }
                "head" if !v.trim().is_empty() => {
                    s.head = Some(SideSpec::parse(v).map_err(|e| ("head".to_string(), e))?)
                }
                "only" => s.only_significant = v == "significant",
                "bench" => s.bench = opt(v),
                "measure" => s.measure = opt(v),
                "testbed" => s.testbed = opt(v),
                "sort" => s.sort = SortKey::parse(v).unwrap_or_default(),
                _ => {}
            }
        }
        Ok(s)
    }

    /// Parses a raw (percent-encoded) query string, with or without `?`.
    pub fn from_query_string(q: &str) -> Result<Self, (String, String)> {
        let pairs = decode_query(q);
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The query string (without `?`) that reproduces this view; fixed key order.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(b) = &self.base {
            parts.push(format!("base={}", encode(&b.to_text())));
        }
        if let Some(h) = &self.head {
            parts.push(format!("head={}", encode(&h.to_text())));
        }
        if self.only_significant {
            parts.push("only=significant".into());
        }
        for (k, v) in [
            ("bench", &self.bench),
            ("measure", &self.measure),
            ("testbed", &self.testbed),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k}={}", encode(v)));
            }
        }
        if self.sort != SortKey::Verdict {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        parts.join("&")
    }

    /// `/projects/<slug>/compare?…`
    pub fn page_path(&self, project: &str) -> String {
        let q = self.to_query_string();
        if q.is_empty() {
            format!("/projects/{project}/compare")
        } else {
            format!("/projects/{project}/compare?{q}")
        }
    }

    /// Whether a row passes the filters.
    pub fn keeps(&self, row: &CompareRow) -> bool {
        (!self.only_significant || row.verdict.is_significant())
            && self.bench.as_ref().is_none_or(|b| {
                row.series
                    .benchmark
                    .to_lowercase()
                    .contains(&b.to_lowercase())
            })
            && self
                .measure
                .as_ref()
                .is_none_or(|m| row.series.measure == *m)
            && self
                .testbed
                .as_ref()
                .is_none_or(|t| row.series.testbed == *t)
    }

    /// Filters and sorts rows in place.
    pub fn apply(&self, rows: &mut Vec<CompareRow>) {
        rows.retain(|r| self.keeps(r));
        let name = |r: &CompareRow| {
            (
                r.series.benchmark.clone(),
                r.series.params.clone(),
                r.series.measure.clone(),
                r.series.testbed.clone(),
            )
        };
        match self.sort {
            SortKey::Name => rows.sort_by_key(name),
            SortKey::Change => rows.sort_by(|a, b| {
                let (x, y) = (
                    a.change_pct.unwrap_or(f64::NEG_INFINITY),
                    b.change_pct.unwrap_or(f64::NEG_INFINITY),
                );
                y.total_cmp(&x).then_with(|| name(a).cmp(&name(b)))
            }),
            SortKey::P => rows.sort_by(|a, b| {
                let (x, y) = (
                    a.p_adjusted.or(a.p_value).unwrap_or(2.0),
                    b.p_adjusted.or(b.p_value).unwrap_or(2.0),
                );
                x.total_cmp(&y).then_with(|| name(a).cmp(&name(b)))
            }),
            SortKey::Verdict => rows.sort_by(|a, b| {
                let size = |r: &CompareRow| r.change_pct.map(f64::abs).unwrap_or(0.0);
                a.verdict
                    .rank()
                    .cmp(&b.verdict.rank())
                    .then_with(|| size(b).total_cmp(&size(a)))
                    .then_with(|| name(a).cmp(&name(b)))
            }),
        }
    }
}

/// Splits and percent-decodes `a=b&c=d` (`+` is a space).
pub fn decode_query(q: &str) -> Vec<(String, String)> {
    let q = q.strip_prefix('?').unwrap_or(q);
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `+` is a space (form encoding); `%XX` a byte; malformed escapes stay as written.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The outcome of one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RowVerdict {
    Regression,
    Improvement,
    NoChange,
    /// Too few samples to ever be significant (see `CompareRow::needed`).
    NotEnoughSamples,
    Added,
    Removed,
}

impl RowVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no_change",
            Self::NotEnoughSamples => "not_enough_samples",
            Self::Added => "added",
            Self::Removed => "removed",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no change",
            Self::NotEnoughSamples => "inconclusive",
            Self::Added => "added",
            Self::Removed => "removed",
        }
    }
    pub fn is_significant(self) -> bool {
        matches!(self, Self::Regression | Self::Improvement)
    }
    fn rank(self) -> u8 {
        match self {
            Self::Regression => 0,
            Self::Improvement => 1,
            Self::NotEnoughSamples => 2,
            Self::NoChange => 3,
            Self::Added => 4,
            Self::Removed => 5,
        }
    }
}

/// Median of one side with its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideSummary {
    pub n: usize,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    /// Actual coverage of the interval.
    pub confidence: f64,
}

/// One series of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompareRow {
    pub series: SeriesInfo,
    /// Benchmark suite (geomean group).
    pub group: String,
    pub base: Option<SideSummary>,
    pub head: Option<SideSummary>,
    /// Estimated change in % (Hodges–Lehmann) and its interval.
    pub change_pct: Option<f64>,
    pub change_low: Option<f64>,
    pub change_high: Option<f64>,
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg adjusted p.
    pub p_adjusted: Option<f64>,
    pub verdict: RowVerdict,
    /// Samples per side needed for a verdict, when `NotEnoughSamples`.
    pub needed: Option<usize>,
    pub notes: Vec<String>,
    /// Raw pooled samples (for the dot strip).
    pub base_samples: Vec<f64>,
    pub head_samples: Vec<f64>,
    /// Typical run-to-run variation of the series on the main branch, ±% (σ of one
    /// run's level), when its history is long enough.
    #[serde(default)]
    pub noise_pct: Option<f64>,
    /// When the verdict compares run levels against that noise: runs per side and the
    /// smallest change that counts (%); `needed` then counts runs per side.
    #[serde(default)]
    pub run_basis: Option<RunBasis>,
}

/// How a run-level verdict was reached (see docs/statistics.md, "Few samples").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunBasis {
    pub base_runs: usize,
    pub head_runs: usize,
    /// Noise fence: max(minimum change, 1.5 × run-to-run variation), in %.
    pub fence_pct: f64,
}

/// Geometric mean of head/base median ratios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GeomeanSummary {
    pub group: String,
    pub series: usize,
    /// `(ratio − 1)·100`, head vs base.
    pub change_pct: Option<f64>,
    /// Direction-aware: > 0 means head is better overall.
    pub better_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompareSummary {
    pub total: usize,
    pub regressions: usize,
    pub improvements: usize,
    pub unchanged: usize,
    pub inconclusive: usize,
    pub added: usize,
    pub removed: usize,
    pub geomean: GeomeanSummary,
    pub groups: Vec<GeomeanSummary>,
}

/// What one side resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SideInfo {
    pub spec: SideSpec,
    /// For people: `branch feature-x at 1a2b3c4d5e (3 runs)`.
    pub label: String,
    pub runs: Vec<i64>,
    pub commits: Vec<String>,
    pub branch: Option<String>,
    /// Earliest and latest run start (ms), for the chart link.
    pub from_time: Option<i64>,
    pub to_time: Option<i64>,
}

/// A whole comparison: the read model of the page, the JSON export and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ComparisonView {
    pub project: String,
    pub main_branch: String,
    /// The request, with the base filled in when it was defaulted.
    pub spec: CompareSpec,
    /// True when the base was chosen by default (merge-base of a branch).
    pub base_defaulted: bool,
    pub base: SideInfo,
    pub head: SideInfo,
    /// Over every series compared (filters do not change it).
    pub summary: CompareSummary,
    /// Rows after filters and sort.
    pub rows: Vec<CompareRow>,
    /// Rows before filters.
    pub total_rows: usize,
    /// Filter choices: every measure and testbed compared.
    pub measures: Vec<String>,
    pub testbeds: Vec<String>,
}

impl ComparisonView {
    /// The series page of a row with the time range around both sides.
    pub fn series_link(&self, row: &CompareRow) -> String {
        let times = [
            self.base.from_time,
            self.base.to_time,
            self.head.from_time,
            self.head.to_time,
        ];
        let lo = times.iter().flatten().min().copied();
        let hi = times.iter().flatten().max().copied();
        let mut q = format!("/series/{}?x=time", row.series.id);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let pad = ((hi - lo) / 4).max(86_400_000);
            q.push_str(&format!("&from={}&to={}", lo - pad, hi + pad));
        }
        if let Some(b) = self
            .head
            .branch
            .as_ref()
            .filter(|b| **b != self.main_branch)
        {
            q.push_str(&format!("&branches={}", encode(b)));
        }
        // Ring both sides' points on the chart.
        let runs: Vec<String> = self
            .base
            .runs
            .iter()
            .chain(&self.head.runs)
            .take(200)
            .map(|r| r.to_string())
            .collect();
        if !runs.is_empty() {
            q.push_str(&format!("&highlight={}", runs.join(",")));
        }
        q
    }
}

/// One release against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseStep {
    pub name: String,
    pub previous: Option<String>,
    pub at: i64,
    /// Compare-page query string (`base=release:…&head=release:…`).
    pub query: Option<String>,
    pub summary: Option<CompareSummary>,
    /// Why there is no comparison (first release, no results at its commit…).
    pub note: Option<String>,
}

/// Median and interval of one series at one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasePoint {
    pub release: String,
    pub at: i64,
    pub median: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
}

/// Release-over-release view of a project, and per-release medians of one series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleasesView {
    pub project: crate::view::ProjectInfo,
    pub steps: Vec<ReleaseStep>,
    pub series: Vec<SeriesInfo>,
    pub chosen: Option<SeriesInfo>,
    pub points: Vec<ReleasePoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any text a filter holds survives the page's query string unchanged.
        #[test]
        fn query_values_round_trip(v in "\\PC*") {
            let q = format!("bench={}&x=1", crate::chart::encode(&v));
            let pairs = decode_query(&q);
            proptest::prop_assert_eq!(&pairs[0], &("bench".to_string(), v.clone()));
        }
    }

    #[test]
    fn plus_is_a_space_and_bad_escapes_stay() {
        assert_eq!(
            decode_query("?a=x+y%2Bz&b=%zz%4&c=%E2%82%AC"),
            vec![
                ("a".to_string(), "x y+z".to_string()),
                ("b".to_string(), "%zz%4".to_string()),
                ("c".to_string(), "€".to_string()),
            ]
        );
    }

    #[test]
    fn side_specs_round_trip() {
        for s in [
            "commit:abcdef12",
            "branch:feature/x y",
            "run:42",
            "release:v1.2.0",
            "time:1000..2000",
        ] {
            let p = SideSpec::parse(s).unwrap();
            assert_eq!(p.to_text(), s);
        }
        assert_eq!(
            SideSpec::parse("time:2026-01-01T00:00:00Z..2026-01-02T00:00:00Z").unwrap(),
            SideSpec::Time {
                from: 1_767_225_600_000,
                to: 1_767_312_000_000
            }
        );
        assert_eq!(
            SideSpec::parse("ABCDEF1").unwrap(),
            SideSpec::Commit("abcdef1".into())
        );
        assert_eq!(
            SideSpec::parse("main").unwrap(),
            SideSpec::Branch("main".into())
        );
        assert!(SideSpec::parse("run:x").is_err());
        assert!(SideSpec::parse("time:5..1").is_err());
        assert!(SideSpec::parse("planet:mars").is_err());
    }

    #[test]
    fn spec_round_trips_through_the_url() {
        let s = CompareSpec {
            base: Some(SideSpec::Release("v1.0".into())),
            head: Some(SideSpec::Branch("pr/7 fix".into())),
            only_significant: true,
            bench: Some("Insert".into()),
            measure: Some("time".into()),
            testbed: None,
            sort: SortKey::Change,
        };
        let q = s.to_query_string();
        assert_eq!(
            q,
            "base=release%3Av1.0&head=branch%3Apr/7%20fix&only=significant&bench=Insert&measure=time&sort=change"
        );
        assert_eq!(CompareSpec::from_query_string(&q).unwrap(), s);
        assert_eq!(
            CompareSpec::from_query_string("?head=run%3Ax")
                .unwrap_err()
                .0,
            "head"
        );
    }
}
