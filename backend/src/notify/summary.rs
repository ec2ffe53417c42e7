//! The actionable summary of an alert group, shared by notifications and tickets.

use perfwatch_core::alerts::AlertGroupView;
use serde::{Deserialize, Serialize};

use super::events::{chart_image_url, fmt_num};
use super::render::alert_compare_url;

/// The actionable summary of an alert group, shared by notifications and tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub title: String,
    /// Markdown body: what changed, by how much, confidence, suspects, links.
    pub body: String,
    pub triage_url: String,
    /// The compare page, last good commit (base) vs first bad commit (head).
    pub compare_url: Option<String>,
    /// The series page of the worst alert.
    pub chart_url: Option<String>,
    /// The chart image of the worst alert's series (`/api/v1/series/{id}/chart.svg`).
    pub chart_image_url: Option<String>,
}

/// Renders the summary of a group (pure).
pub fn group_summary(g: &AlertGroupView, base: &str) -> GroupSummary {
    let triage_url = format!("{base}/alerts/groups/{}", g.id);
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
    let compare_url = worst.and_then(|a| alert_compare_url(base, &g.project, a));
    let chart_url = worst.map(|a| format!("{base}/series/{}", a.series.id));
    let chart_image_url = worst.map(|a| chart_image_url(base, a.series.id));
    let mut body = format!(
        "**{}** — project `{}`, state {}\n\n",
        title,
        g.project,
        g.triage.state.as_str()
    );
    for a in g.alerts.iter().take(10) {
        body.push_str(&format!(
            "- {} / {} on {}: {} {:+.2}% ({} → {} {}), confidence {}\n",
            a.series.benchmark,
            a.series.measure,
            a.series.testbed,
            a.direction.as_str(),
            a.change_pct(),
            fmt_num(a.before_median),
            fmt_num(a.after_median),
            a.series.display_unit,
            match a.p_value {
                Some(p) => format!("{:.2}% (p = {p:.1e})", (1.0 - p) * 100.0),
                None => "threshold breach".into(),
            }
        ));
    }
    if g.alerts.len() > 10 {
        body.push_str(&format!("- … {} more\n", g.alerts.len() - 10));
    }
    if let Some(a) = worst {
        if !a.suspect_commits.is_empty() {
            body.push_str(&format!("\nSuspect commits ({}):\n", a.suspect_total));
            for c in a.suspect_commits.iter().take(10) {
                let short: String = c.sha.chars().take(10).collect();
                let msg = c
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("");
                match &c.url {
                    Some(u) => body.push_str(&format!("- [{short}]({u}) {msg}\n")),
                    None => body.push_str(&format!("- {short} {msg}\n")),
                }
            }
        }
    }
    body.push('\n');
    if let Some(c) = &chart_url {
        body.push_str(&format!("Chart: {c}\n"));
    }
    if let Some(c) = &chart_image_url {
        body.push_str(&format!("Chart image: {c}\n"));
    }
    if let Some(c) = &compare_url {
        body.push_str(&format!("Compare: {c}\n"));
    }
    body.push_str(&format!("Triage: {triage_url}\n"));
    GroupSummary {
        title,
        body,
        triage_url,
        compare_url,
        chart_url,
        chart_image_url,
    }
}
