//! What a trend chart shows: the view's settings (all of them live in the URL, so a
//! link reproduces the view) and the lines and markers to draw.

use serde::{Deserialize, Serialize};

use crate::view::{Marker, ProjectRef, SeriesInfo};

/// Points drawn per line at most; more are downsampled keeping spikes (the lowest and
/// the highest point of each x bucket). One per pixel of the chart's plot (960 px
/// wide less its 100 px of margins): a bucket per two pixels still draws every spike,
/// and each point drawn costs page weight twice (SVG and hydration data).
pub const MAX_CHART_POINTS: usize = 860;

/// Characters of a commit sha a chart point carries: what its tooltip shows (the run
/// page it links to has the whole sha).
pub const CHART_SHA_LEN: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum XMode {
    /// Commit order on the branch (CI benchmarks).
    #[default]
    Commit,
    /// Wall-clock time (production metrics, or runs without commits).
    Time,
}

/// The view settings of a series page, parsed from and written to its query string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ChartQuery {
    /// `None`: commit order when the series has commits, else time.
    pub x: Option<XMode>,
    pub log: bool,
    /// Visible x range (commit order, or ms since the epoch).
    pub from: Option<f64>,
    pub to: Option<f64>,
    /// Branch of the main line; the project's main branch when absent.
    pub branch: Option<String>,
    /// Other series (testbeds) drawn on the same chart.
    pub overlay: Vec<i64>,
    /// Other branches of the same series drawn on the same chart.
    pub branches: Vec<String>,
    /// Runs whose points are ringed (a comparison's two sides).
    pub highlight: Vec<i64>,
}

impl ChartQuery {
    /// Reads `x`, `scale`, `from`, `to`, `branch`, `overlay`, `branches` from query pairs;
    /// unknown or malformed values are ignored (a bad link still shows the chart).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut q = Self::default();
        for (k, v) in pairs {
            match k {
                "x" => {
                    q.x = match v {
                        "commit" => Some(XMode::Commit),
                        "time" => Some(XMode::Time),
                        _ => None,
                    }
                }
                "scale" => q.log = v == "log",
                "from" => q.from = v.parse().ok().filter(|f: &f64| f.is_finite()),
                "to" => q.to = v.parse().ok().filter(|f: &f64| f.is_finite()),
                "branch" if !v.is_empty() => q.branch = Some(v.to_string()),
                "overlay" => q.overlay = v.split(',').filter_map(|s| s.parse().ok()).collect(),
                "branches" => {
                    q.branches = v
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                }
                "highlight" => {
                    q.highlight = v
                        .split(',')
                        .filter_map(|s| s.parse().ok())
                        .take(200)
                        .collect()
                }
                _ => {}
            }
        }
        q
    }

    /// The query string (without `?`) that reproduces this view.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(x) = self.x {
            parts.push(format!(
                "x={}",
                if x == XMode::Time { "time" } else { "commit" }
            ));
        }
        if self.log {
            parts.push("scale=log".to_string());
        }
        if let Some(f) = self.from {
            parts.push(format!("from={}", fmt_num(f)));
        }
        if let Some(t) = self.to {
            parts.push(format!("to={}", fmt_num(t)));
        }
        if let Some(b) = &self.branch {
            parts.push(format!("branch={}", encode(b)));
        }
        if !self.overlay.is_empty() {
            let ids: Vec<String> = self.overlay.iter().map(|i| i.to_string()).collect();
            parts.push(format!("overlay={}", ids.join(",")));
        }
        if !self.branches.is_empty() {
            let b: Vec<String> = self.branches.iter().map(|b| encode(b)).collect();
            parts.push(format!("branches={}", b.join(",")));
        }
        if !self.highlight.is_empty() {
            let ids: Vec<String> = self.highlight.iter().map(|i| i.to_string()).collect();
            parts.push(format!("highlight={}", ids.join(",")));
        }
        parts.join("&")
    }
}

fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// What stays raw in a query value: letters, digits and `-_.~/`.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes what may not appear raw in a query value.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartPoint {
    pub x: f64,
    pub y: f64,
    /// Spread of the run's samples (min and max).
    pub lo: f64,
    pub hi: f64,
    pub run_id: i64,
    /// The commit's sha, shortened to [`CHART_SHA_LEN`] characters.
    pub sha: Option<String>,
    pub time: i64,
    pub n: i64,
    /// Why the point's run is invalid, readable; `None` for a valid run. Invalid points
    /// are drawn hollow and grey, apart from the line (they are not part of the series
    /// detection sees).
    #[serde(default)]
    pub invalid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartLine {
    pub label: String,
    pub series_id: i64,
    /// Sent as columns (`chart_wire`): a page embeds them for hydration.
    #[serde(with = "crate::chart_wire")]
    pub points: Vec<ChartPoint>,
    /// Points in the range before downsampling.
    pub total_points: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartMarker {
    pub x: f64,
    pub name: String,
    pub kind: String,
}

/// Everything a series page draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesChart {
    pub project: ProjectRef,
    pub series: SeriesInfo,
    pub query: ChartQuery,
    /// The x mode in effect.
    pub x_mode: XMode,
    pub lines: Vec<ChartLine>,
    pub markers: Vec<ChartMarker>,
    /// Alerts of the series in the visible range, placed at their change.
    #[serde(default)]
    pub alerts: Vec<crate::alerts::ChartAlert>,
    pub raw_markers: Vec<Marker>,
    pub siblings: Vec<SeriesInfo>,
    pub branches: Vec<String>,
    pub main_branch: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trips_through_the_url() {
        let q = ChartQuery {
            x: Some(XMode::Time),
            log: true,
            from: Some(10.0),
            to: Some(250.5),
            branch: Some("feature/x y".into()),
            overlay: vec![3, 4],
            branches: vec!["dev".into()],
            highlight: vec![7, 9],
        };
        let s = q.to_query_string();
        assert_eq!(
            s,
            "x=time&scale=log&from=10&to=250.5&branch=feature/x%20y&overlay=3,4&branches=dev&highlight=7,9"
        );
        let decoded: Vec<(String, String)> = s
            .split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap();
                (k.to_string(), v.replace("%20", " "))
            })
            .collect();
        let back = ChartQuery::from_pairs(decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(back, q);
    }

    #[test]
    fn malformed_values_are_ignored() {
        let q = ChartQuery::from_pairs([
            ("from", "abc"),
            ("to", "NaN"),
            ("x", "sideways"),
            ("overlay", "1,x,2"),
        ]);
        assert_eq!(q.from, None);
        assert_eq!(q.to, None);
        assert_eq!(q.x, None);
        assert_eq!(q.overlay, vec![1, 2]);
    }
}
