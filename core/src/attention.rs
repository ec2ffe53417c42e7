//! "What needs attention" on the home page: per project, the untriaged alert groups
//! (how many, the largest change, the oldest), the latest release's verdict against
//! the release before it, and the running and failed performance jobs. View types
//! shared by the server render and the browser, and the pure summary of groups.

use serde::{Deserialize, Serialize};

use crate::alerts::AlertDirection;

/// The largest change among a project's untriaged groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LargestChange {
    pub group_id: i64,
    /// Relative change in percent (+12.5 = 12.5 % higher).
    pub change_pct: f64,
    pub direction: AlertDirection,
}

/// The untriaged alert groups of a project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Untriaged {
    pub groups: usize,
    pub largest: Option<LargestChange>,
    /// When the oldest of them was created (ms since the epoch).
    pub oldest_at: Option<i64>,
}

/// One alert of an untriaged group, as the summary needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct UntriagedAlert {
    pub group_id: i64,
    pub group_created_at: i64,
    /// Relative change (0.1 = +10 %).
    pub relative_change: f64,
    pub direction: AlertDirection,
}

/// Count, largest change (by size, either direction) and oldest creation time.
pub fn summarize_untriaged(alerts: &[UntriagedAlert]) -> Untriaged {
    let mut groups: Vec<i64> = alerts.iter().map(|a| a.group_id).collect();
    groups.sort_unstable();
    groups.dedup();
    let largest = alerts
        .iter()
        .filter(|a| a.relative_change.is_finite())
        .max_by(|a, b| a.relative_change.abs().total_cmp(&b.relative_change.abs()))
        .map(|a| LargestChange {
            group_id: a.group_id,
            change_pct: a.relative_change * 100.0,
            direction: a.direction,
        });
    Untriaged {
        groups: groups.len(),
        largest,
        oldest_at: alerts.iter().map(|a| a.group_created_at).min(),
    }
}

/// The latest release against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseVerdict {
    pub name: String,
    pub previous: Option<String>,
    /// `regressed`, `improved`, `mixed`, `no change`, or why there is none
    /// (`first release`, `not compared`).
    pub verdict: String,
    pub regressions: usize,
    pub improvements: usize,
    /// The compare page of the two releases, or the releases page.
    pub link: String,
}

/// The word for a release step from its counts.
pub fn release_word(regressions: usize, improvements: usize) -> &'static str {
    match (regressions > 0, improvements > 0) {
        (true, true) => "mixed",
        (true, false) => "regressed",
        (false, true) => "improved",
        (false, false) => "no change",
    }
}

/// A performance job in brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobBrief {
    pub id: i64,
    /// `running`, `failed` or `dead`.
    pub state: String,
    /// `master 1a2b3c4d5e`, `PR #12`, …
    pub label: String,
    pub at: i64,
}

/// One project's row of the panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectAttention {
    pub slug: String,
    pub name: String,
    pub untriaged: Untriaged,
    pub release: Option<ReleaseVerdict>,
    pub running: Vec<JobBrief>,
    /// Failed or dead jobs of the last [`FAILED_WINDOW_DAYS`] days.
    pub failed: Vec<JobBrief>,
}

/// The panel: the server's clock (so ages read the same after hydration) and every
/// project's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attention {
    pub now: i64,
    pub projects: Vec<ProjectAttention>,
}

/// Failed jobs older than this no longer ask for attention.
pub const FAILED_WINDOW_DAYS: i64 = 7;

impl ProjectAttention {
    /// Whether anything here asks someone to act: untriaged groups, a regressed
    /// release, running or failed jobs.
    pub fn needs_attention(&self) -> bool {
        self.untriaged.groups > 0
            || self.release.as_ref().is_some_and(|r| r.regressions > 0)
            || !self.running.is_empty()
            || !self.failed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(group_id: i64, at: i64, change: f64, dir: AlertDirection) -> UntriagedAlert {
        UntriagedAlert {
            group_id,
            group_created_at: at,
            relative_change: change,
            direction: dir,
        }
    }

    #[test]
    fn summary_counts_groups_and_picks_the_largest_change_and_oldest() {
        use AlertDirection::*;
        let s = summarize_untriaged(&[
            a(1, 500, 0.10, Regression),
            a(1, 500, -0.30, Improvement),
            a(2, 200, 0.25, Regression),
        ]);
        assert_eq!(s.groups, 2);
        assert_eq!(s.oldest_at, Some(200));
        let l = s.largest.unwrap();
        assert_eq!((l.group_id, l.direction), (1, Improvement));
        assert!((l.change_pct + 30.0).abs() < 1e-9);
        assert_eq!(summarize_untriaged(&[]), Untriaged::default());
    }

    #[test]
    fn release_words() {
        assert_eq!(release_word(1, 0), "regressed");
        assert_eq!(release_word(0, 2), "improved");
        assert_eq!(release_word(1, 2), "mixed");
        assert_eq!(release_word(0, 0), "no change");
    }
}
