//! The digest (`perfwatch_core::digest`) of an alert group and of a finished
//! comparison: what changed, by how much, how sure, the suspects and the links. Built
//! here once, rendered by the core's renderers for webhooks, tickets and the CLI.

use perfwatch_core::alerts::{AlertGroupView, AlertView};
use perfwatch_core::digest::{
    Change, Commit, Confidence, Counts, Digest, Link, LinkKind, Section, Sides, Suspects,
};

use super::events::{chart_image_url, ChangeRow, Event};

/// Alerts listed in a group's digest; the rest are counted.
const SHOWN_ALERTS: usize = 10;
/// Suspect commits listed.
const SHOWN_SUSPECTS: usize = 10;

fn link(kind: LinkKind, url: String) -> Link {
    Link { kind, url }
}

fn alert_change(a: &AlertView, base: &str) -> Change {
    Change {
        series_id: a.series.id,
        benchmark: a.series.benchmark.clone(),
        params: a.series.params.clone(),
        measure: a.series.measure.clone(),
        testbed: a.series.testbed.clone(),
        unit: a.series.display_unit.clone(),
        verdict: a.direction.as_str().into(),
        change_pct: Some(a.change_pct()),
        before: Some(a.before_median),
        after: Some(a.after_median),
        confidence: match a.p_value {
            Some(p_value) => Confidence::Test { p_value },
            None => Confidence::Threshold,
        },
        p_adjusted: None,
        chart_url: Some(format!("{base}/series/{}", a.series.id)),
        chart_image_url: Some(chart_image_url(base, a.series.id)),
        ..Change::default()
    }
}

/// The digest of an alert group; `base` is the public URL (pure).
pub fn group_digest(g: &AlertGroupView, base: &str) -> Digest {
    let worst = g.alerts.first();
    let title = match worst {
        Some(a) => format!(
            "[{}] {} {:+.1}% in {} ({}){}",
            g.project,
            a.direction.as_str(),
            a.change_pct(),
            a.series.benchmark,
            a.series.measure,
            if g.alerts.len() > 1 {
                format!(" and {} more", g.alerts.len() - 1)
            } else {
                String::new()
            }
        ),
        None => format!("[{}] alert group {}", g.project, g.id),
    };
    let suspects = worst
        .filter(|a| !a.suspect_commits.is_empty())
        .map(|a| Suspects {
            total: a.suspect_total,
            commits: a
                .suspect_commits
                .iter()
                .take(SHOWN_SUSPECTS)
                .map(|c| Commit {
                    sha: c.sha.clone(),
                    url: c.url.clone(),
                    message: c
                        .message
                        .as_deref()
                        .and_then(|m| m.lines().next())
                        .unwrap_or("")
                        .to_string(),
                })
                .collect(),
        });
    let mut links = Vec::new();
    if let Some(a) = worst {
        links.push(link(
            LinkKind::Chart,
            format!("{base}/series/{}", a.series.id),
        ));
        links.push(link(
            LinkKind::ChartImage,
            chart_image_url(base, a.series.id),
        ));
        if let Some(u) = alert_compare_url(base, &g.project, a) {
            links.push(link(LinkKind::Compare, u));
        }
    }
    links.push(link(
        LinkKind::Triage,
        format!("{base}/alerts/groups/{}", g.id),
    ));
    Digest {
        title,
        project: g.project.clone(),
        state: Some(g.triage.state.as_str().into()),
        outcome: None,
        invalid: Vec::new(),
        sides: None,
        counts: None,
        sections: vec![Section {
            label: None,
            changes: g
                .alerts
                .iter()
                .take(SHOWN_ALERTS)
                .map(|a| alert_change(a, base))
                .collect(),
            more: g.alerts.len().saturating_sub(SHOWN_ALERTS),
        }],
        suspects,
        links,
    }
}

/// Last good commit vs first bad commit of an alert, when both are known.
pub(super) fn alert_compare_url(base: &str, slug: &str, a: &AlertView) -> Option<String> {
    let good = a.last_good.as_ref()?.sha.clone()?;
    let bad = a.first_bad.sha.clone()?;
    Some(format!(
        "{base}/projects/{slug}/compare?base=commit:{good}&head=commit:{bad}"
    ))
}

fn row_change(r: &ChangeRow, direction: &str, base: &str) -> Change {
    Change {
        series_id: r.series_id,
        benchmark: r.benchmark.clone(),
        params: r.params.clone(),
        measure: r.measure.clone(),
        testbed: r.testbed.clone(),
        unit: r.unit.clone(),
        verdict: direction.into(),
        change_pct: r.change_pct,
        before: r.base_median,
        after: r.head_median,
        confidence: r
            .p_value
            .map_or(Confidence::Unknown, |p_value| Confidence::Test { p_value }),
        p_adjusted: r.p_adjusted,
        chart_url: Some(format!("{base}/series/{}", r.series_id)),
        chart_image_url: Some(chart_image_url(base, r.series_id)),
        ..Change::default()
    }
}

/// `feature @ 0123456789`; a run without a commit (the CLI's time-indexed runs) is
/// named by its branch alone.
fn head_label(branch: Option<&str>, head_sha: &str) -> String {
    let sha = perfwatch_core::digest::short_sha(head_sha);
    match (branch, sha.is_empty()) {
        (Some(b), false) => format!("{b} @ {sha}"),
        (Some(b), true) => b.to_string(),
        (None, false) => sha,
        (None, true) => "run without a commit".into(),
    }
}

/// The digest of a `comparison.finished` event; `None` for other events (pure).
pub fn comparison_digest(slug: &str, event: &Event, base: &str) -> Option<Digest> {
    let Event::ComparisonFinished {
        branch,
        head_sha,
        head_url,
        base: base_desc,
        total,
        regressions,
        improvements,
        unchanged,
        inconclusive,
        geomean_pct,
        top_regressions,
        top_improvements,
        compare_path,
        run_path,
        ..
    } = event
    else {
        return None;
    };
    let section = |label: &str, direction: &str, rows: &[ChangeRow], all: usize| Section {
        label: Some(label.into()),
        changes: rows
            .iter()
            .map(|r| row_change(r, direction, base))
            .collect(),
        more: all.saturating_sub(rows.len()),
    };
    let mut links = Vec::new();
    if let Some(p) = compare_path {
        links.push(link(LinkKind::Compare, format!("{base}{p}")));
    }
    links.push(link(LinkKind::Run, format!("{base}{run_path}")));
    Some(Digest {
        title: format!(
            "[{slug}] {}: {regressions} regressions, {improvements} improvements{}",
            head_label(branch.as_deref(), head_sha),
            geomean_pct
                .map(|g| format!(", geomean {g:+.2}%"))
                .unwrap_or_default()
        ),
        project: slug.into(),
        state: None,
        outcome: None,
        invalid: Vec::new(),
        sides: Some(Sides {
            head_sha: if head_sha.is_empty() {
                "(no commit)".into()
            } else {
                head_sha.clone()
            },
            head_url: head_url.clone(),
            base: base_desc.clone(),
        }),
        counts: Some(Counts {
            total: *total,
            regressions: *regressions,
            improvements: *improvements,
            unchanged: *unchanged,
            inconclusive: *inconclusive,
            geomean_pct: *geomean_pct,
        }),
        sections: vec![
            section("Regressions", "regression", top_regressions, *regressions),
            section(
                "Improvements",
                "improvement",
                top_improvements,
                *improvements,
            ),
        ],
        suspects: None,
        links,
    })
}
