//! The permalink of the compare page: the two sides, the filters and the sort, read
//! from and written to its query string.

use serde::{Deserialize, Serialize};

use super::view::CompareRow;
use crate::chart::encode;

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
