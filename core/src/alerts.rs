//! Alerts: read models shared by the API, the pages and the browser build, the alert
//! filters (which live in the URL of the alerts page) and the pure helpers that turn a
//! detected change into an alert (direction, suspect range, overlap).

use serde::{Deserialize, Serialize};

use crate::units::Direction;
use crate::view::{CommitInfo, SeriesInfo};

/// Whether a change made things worse or better, given the measure's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertDirection {
    Regression,
    Improvement,
}

impl AlertDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "regression" => Some(Self::Regression),
            "improvement" => Some(Self::Improvement),
            _ => None,
        }
    }
    /// A rise is a regression when lower is better, and the other way round. A change
    /// of exactly zero counts as an improvement (it never happens for a real alert).
    pub fn of_change(absolute_change: f64, better: Direction) -> Self {
        match (absolute_change > 0.0, better) {
            (true, Direction::Lower) | (false, Direction::Higher) if absolute_change != 0.0 => {
                Self::Regression
            }
            _ => Self::Improvement,
        }
    }
}

/// What raised the alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A change point found by E-Divisive detection.
    Changepoint,
    /// A point outside a threshold rule's limits.
    Threshold,
    /// A gradual change (a ramp or a steady trend) found by detection's trend pass; the
    /// alert's `details` hold its span and slope.
    Drift,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Changepoint => "changepoint",
            Self::Threshold => "threshold",
            Self::Drift => "drift",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "changepoint" => Some(Self::Changepoint),
            "threshold" => Some(Self::Threshold),
            "drift" => Some(Self::Drift),
            _ => None,
        }
    }
}

/// The x axis a suspect range is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RangeAxis {
    /// Commit order on the project's main branch.
    Commit,
    /// Run time in ms since the epoch (series without commits).
    Time,
}

impl RangeAxis {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Time => "time",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "commit" => Some(Self::Commit),
            "time" => Some(Self::Time),
            _ => None,
        }
    }
}

/// A suspect range `(lo, hi]`: after the last good point, up to and including the
/// first bad one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuspectRange {
    pub lo: i64,
    pub hi: i64,
}

impl SuspectRange {
    /// The range between a last good position (if any) and a first bad one. Without a
    /// last good point the range is the first bad position alone.
    pub fn between(last_good: Option<i64>, first_bad: i64) -> Self {
        let lo = match last_good {
            Some(g) if g < first_bad => g,
            _ => first_bad - 1,
        };
        Self { lo, hi: first_bad }
    }
    /// Whether two half-open ranges share at least one position.
    pub fn overlaps(&self, other: &SuspectRange) -> bool {
        self.lo < other.hi && other.lo < self.hi
    }
    pub fn union(&self, other: &SuspectRange) -> Self {
        Self {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }
}

/// One point that bounds a suspect range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertPoint {
    pub run_id: i64,
    pub sha: Option<String>,
    /// Order of the commit on the main branch, when the run has one.
    pub ord: Option<i64>,
    /// Run time, ms since the epoch.
    pub time: i64,
    /// Link to the commit, when the project's repository URL is known.
    pub url: Option<String>,
}

/// An alert as the API returns it and the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: i64,
    pub group_id: Option<i64>,
    pub project: String,
    pub series: SeriesInfo,
    pub kind: AlertKind,
    pub direction: AlertDirection,
    /// `(after − before) / |before|` as a fraction (0.12 = +12 %).
    pub relative_change: f64,
    /// `after − before`, in the series' unit.
    pub absolute_change: f64,
    pub before_median: f64,
    pub after_median: f64,
    /// Significance of a change point; `None` for threshold alerts.
    pub p_value: Option<f64>,
    /// For threshold alerts: the breach (rule, limit, baseline) as stored.
    pub details: Option<serde_json::Value>,
    pub axis: RangeAxis,
    pub range: SuspectRange,
    pub first_bad: AlertPoint,
    pub last_good: Option<AlertPoint>,
    /// The commits after the last good one up to the first bad one, oldest first (at
    /// most [`MAX_SUSPECT_COMMITS`]).
    pub suspect_commits: Vec<CommitInfo>,
    /// How many commits the range holds in all.
    pub suspect_total: i64,
    /// The triage state (`untriaged`, `acknowledged`, …; see [`TriageState`]).
    pub status: String,
    #[serde(default)]
    pub assignee: Option<String>,
    /// The commit that fixed it, when `status` is `fixed`.
    #[serde(default)]
    pub fixed_commit: Option<String>,
    pub detected_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl AlertView {
    /// The change in percent.
    pub fn change_pct(&self) -> f64 {
        self.relative_change * 100.0
    }
}

/// Suspect commits listed per alert at most.
pub const MAX_SUSPECT_COMMITS: usize = 50;

/// Alerts that share one suspect push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertGroupView {
    pub id: i64,
    pub project: String,
    pub axis: RangeAxis,
    pub range: SuspectRange,
    pub alerts: Vec<AlertView>,
    pub regressions: usize,
    pub improvements: usize,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub triage: GroupTriage,
    /// Every triage change, oldest first.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub notes: Vec<TriageNote>,
}

/// A mark on a trend chart where an alert's change happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChartAlert {
    pub id: i64,
    pub x: f64,
    pub direction: AlertDirection,
    pub kind: AlertKind,
    pub relative_change: f64,
    pub group_id: Option<i64>,
    /// The alert's triage state: the marker's colour.
    #[serde(default)]
    pub state: TriageState,
}

/// What one detection pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DetectSummary {
    pub series: usize,
    /// Series too short to test.
    pub too_short: usize,
    /// Change points found before and kept after false-discovery-rate control.
    pub change_points_found: usize,
    pub change_points_kept: usize,
    pub alerts_created: usize,
    pub alerts_updated: usize,
    pub alerts_unchanged: usize,
    /// Untriaged change-point alerts that the current detection no longer supports.
    pub alerts_retracted: usize,
    pub threshold_alerts_created: usize,
    pub groups: usize,
}

/// A stored threshold rule. `rule` is the JSON of `perfwatch_detect::threshold::ThresholdRule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ThresholdRuleView {
    pub id: i64,
    pub project: String,
    /// The rule applies to this series only…
    pub series_id: Option<i64>,
    /// …or to every series of this measure; with neither, to every series of the project.
    pub measure: Option<String>,
    pub rule: serde_json::Value,
    pub created_at: i64,
}

/// Filters of the alerts list; every one is in the alerts page's URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct AlertFilter {
    pub project: Option<String>,
    pub direction: Option<AlertDirection>,
    /// Smallest |change| in percent (5 = 5 %).
    pub min_change: Option<f64>,
    /// Only alerts detected in the last N days.
    pub max_age_days: Option<i64>,
    pub kind: Option<AlertKind>,
    pub series_id: Option<i64>,
    /// At most this many (newest first); the store caps it at 500.
    pub limit: Option<i64>,
    /// Triage state of the alert.
    pub state: Option<TriageState>,
    /// Assignee name; `none` means unassigned.
    pub assignee: Option<String>,
}

impl AlertFilter {
    /// Reads the filter from query pairs; malformed values are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k {
                "project" if !v.is_empty() => f.project = Some(v.to_string()),
                "direction" => f.direction = AlertDirection::parse(v),
                "min_change" => {
                    f.min_change = v.parse().ok().filter(|x: &f64| x.is_finite() && *x >= 0.0)
                }
                "max_age_days" => f.max_age_days = v.parse().ok().filter(|d: &i64| *d > 0),
                "kind" => f.kind = AlertKind::parse(v),
                "series" => f.series_id = v.parse().ok(),
                "limit" => f.limit = v.parse().ok().filter(|l: &i64| *l > 0),
                "state" => f.state = TriageState::parse(v),
                "assignee" if !v.is_empty() => f.assignee = Some(v.to_string()),
                _ => {}
            }
        }
        f
    }

    /// The query string (without `?`) that reproduces this filter.
    pub fn to_query_string(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.project {
            parts.push(format!("project={}", crate::chart::encode(p)));
        }
        if let Some(d) = self.direction {
            parts.push(format!("direction={}", d.as_str()));
        }
        if let Some(m) = self.min_change {
            parts.push(format!("min_change={m}"));
        }
        if let Some(a) = self.max_age_days {
            parts.push(format!("max_age_days={a}"));
        }
        if let Some(k) = self.kind {
            parts.push(format!("kind={}", k.as_str()));
        }
        if let Some(s) = self.series_id {
            parts.push(format!("series={s}"));
        }
        if let Some(l) = self.limit {
            parts.push(format!("limit={l}"));
        }
        if let Some(st) = self.state {
            parts.push(format!("state={}", st.as_str()));
        }
        if let Some(a) = &self.assignee {
            parts.push(format!("assignee={}", crate::chart::encode(a)));
        }
        parts.join("&")
    }
}

/// Where an alert or alert group is in the triage workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TriageState {
    /// Nobody has looked at it yet.
    #[default]
    Untriaged,
    /// Someone is investigating.
    Acknowledged,
    /// Fixed, by the commit recorded beside the state.
    Fixed,
    /// A real change that will not be fixed.
    Wontfix,
    /// An accepted, intended change.
    Expected,
    /// Noise or an infrastructure problem; teaches the series to be less sensitive.
    Invalid,
}

impl TriageState {
    pub const ALL: [TriageState; 6] = [
        Self::Untriaged,
        Self::Acknowledged,
        Self::Fixed,
        Self::Wontfix,
        Self::Expected,
        Self::Invalid,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Untriaged => "untriaged",
            Self::Acknowledged => "acknowledged",
            Self::Fixed => "fixed",
            Self::Wontfix => "wontfix",
            Self::Expected => "expected",
            Self::Invalid => "invalid",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Untriaged => "untriaged",
            Self::Acknowledged => "acknowledged (investigating)",
            Self::Fixed => "fixed",
            Self::Wontfix => "won't fix",
            Self::Expected => "expected",
            Self::Invalid => "invalid (noise)",
        }
    }
    /// Still needs someone: untriaged or being investigated.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Untriaged | Self::Acknowledged)
    }
}

/// A group's state: the one set on the group, if any; else the state all its alerts
/// share; else (mixed) `untriaged` while any alert is untriaged, `acknowledged` otherwise.
pub fn group_state(set: Option<TriageState>, alerts: &[TriageState]) -> TriageState {
    if let Some(s) = set {
        return s;
    }
    match alerts.first() {
        None => TriageState::Untriaged,
        Some(first) if alerts.iter().all(|a| a == first) => *first,
        _ if alerts.contains(&TriageState::Untriaged) => TriageState::Untriaged,
        _ => TriageState::Acknowledged,
    }
}

/// The triage fields of an alert group.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupTriage {
    /// Effective state (see [`group_state`]).
    pub state: TriageState,
    /// Whether the state was set on the group (else it follows its alerts).
    pub state_set: bool,
    pub assignee: Option<String>,
    pub fixed_commit: Option<String>,
    pub ticket_key: Option<String>,
    pub ticket_url: Option<String>,
}

/// One recorded triage change: who, when, what, from and to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub id: i64,
    pub group_id: Option<i64>,
    pub alert_id: Option<i64>,
    /// `user:NAME` or `token:NAME`.
    pub actor: String,
    /// `state`, `assignee`, `ticket`, `note`, `fixed_commit`, `sensitivity`.
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriageNote {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// Matches new change points to existing alerts of one series. Positions are point
/// indices in the series as read now. Each new position takes the nearest unused
/// existing one at most `tolerance` away (closest pairs first); the result gives, for
/// each new position, the index of its match in `existing`.
pub fn match_moved(
    existing: &[Option<usize>],
    new: &[usize],
    tolerance: usize,
) -> Vec<Option<usize>> {
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for (ni, n) in new.iter().enumerate() {
        for (ei, e) in existing.iter().enumerate() {
            if let Some(e) = e {
                let d = n.abs_diff(*e);
                if d <= tolerance {
                    pairs.push((d, ni, ei));
                }
            }
        }
    }
    pairs.sort_unstable();
    let mut out = vec![None; new.len()];
    let mut used = vec![false; existing.len()];
    for (_, ni, ei) in pairs {
        if out[ni].is_none() && !used[ei] {
            out[ni] = Some(ei);
            used[ei] = true;
        }
    }
    out
}

#[cfg(test)]
mod tests;
