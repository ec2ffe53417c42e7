//! Slack-compatible messages (`{"text": …, "blocks": …}`).

use perfwatch_core::alerts::AlertGroupView;
use serde_json::json;

use super::events::{chart_image_url, fmt_num, Event};
use super::render::{comparison_body, fmt_change};
use super::summary::GroupSummary;

/// Escapes `&`, `<`, `>` for Slack's mrkdwn.
pub(super) fn slack_esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub(super) fn slack_link(url: &str, label: &str) -> String {
    format!("<{}|{}>", url.replace('|', "%7C"), slack_esc(label))
}

/// A section block's text is limited to 3000 characters.
pub(super) fn slack_section(text: String) -> serde_json::Value {
    let text = if text.chars().count() > 2900 {
        let mut t: String = text.chars().take(2900).collect();
        t.push('…');
        t
    } else {
        text
    };
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// Slack's incoming-webhook shape: `text` (the fallback, also used by notifications)
/// and `blocks` (mrkdwn sections with `<url|label>` links).
pub(super) fn slack_message(
    headline: &str,
    event: &Event,
    group: Option<&AlertGroupView>,
    summary: Option<&GroupSummary>,
    base: &str,
) -> serde_json::Value {
    let mut blocks = vec![slack_section(format!("*{}*", slack_esc(headline)))];
    let mut links: Vec<(String, String)> = vec![];
    let text;
    if let (Some(g), Some(s)) = (group, summary) {
        text = format!("{headline}\n{}", s.body);
        let mut body = format!(
            "*{}* — state {}\n",
            slack_esc(&s.title),
            g.triage.state.as_str()
        );
        for a in g.alerts.iter().take(10) {
            body.push_str(&format!(
                "• {} / {} on {}: {} *{:+.2}%* ({} → {} {}), confidence {}\n",
                slack_esc(&a.series.benchmark),
                slack_esc(&a.series.measure),
                slack_esc(&a.series.testbed),
                a.direction.as_str(),
                a.change_pct(),
                fmt_num(a.before_median),
                fmt_num(a.after_median),
                slack_esc(&a.series.display_unit),
                match a.p_value {
                    Some(p) => format!("{:.2}% (p = {p:.1e})", (1.0 - p) * 100.0),
                    None => "threshold breach".into(),
                }
            ));
        }
        if g.alerts.len() > 10 {
            body.push_str(&format!("• … {} more\n", g.alerts.len() - 10));
        }
        blocks.push(slack_section(body));
        if let Some(a) = g.alerts.first() {
            if !a.suspect_commits.is_empty() {
                let mut sus = format!("*Suspect commits* ({}):\n", a.suspect_total);
                for c in a.suspect_commits.iter().take(10) {
                    let short: String = c.sha.chars().take(10).collect();
                    let msg = c
                        .message
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("");
                    let id = match &c.url {
                        Some(u) => slack_link(u, &short),
                        None => format!("`{short}`"),
                    };
                    sus.push_str(&format!("• {id} {}\n", slack_esc(msg)));
                }
                blocks.push(slack_section(sus));
            }
        }
        for (label, url) in [
            ("Chart", &s.chart_url),
            ("Chart image", &s.chart_image_url),
            ("Compare", &s.compare_url),
        ] {
            if let Some(u) = url {
                links.push((label.into(), u.clone()));
            }
        }
        links.push(("Triage".into(), s.triage_url.clone()));
    } else if let Event::ComparisonFinished {
        head_sha,
        head_url,
        base: base_desc,
        total,
        regressions,
        improvements,
        unchanged,
        inconclusive,
        top_regressions,
        top_improvements,
        compare_path,
        run_path,
        ..
    } = event
    {
        text = format!("{headline}\n{}", comparison_body(event, base));
        let short: String = head_sha.chars().take(10).collect();
        blocks.push(slack_section(format!(
            "Head: {}\nBase: {}\n{total} series: *{regressions}* regressions, *{improvements}* improvements, {unchanged} unchanged, {inconclusive} inconclusive",
            match head_url {
                Some(u) => slack_link(u, &short),
                None => format!("`{short}`"),
            },
            slack_esc(base_desc)
        )));
        for (label, rows) in [
            ("Regressions", top_regressions),
            ("Improvements", top_improvements),
        ] {
            if !rows.is_empty() {
                let mut b = format!("*{label}*:\n");
                for r in rows.iter() {
                    b.push_str(&format!(
                        "• {} ({})\n",
                        slack_esc(&fmt_change(r)),
                        slack_link(&chart_image_url(base, r.series_id), "chart")
                    ));
                }
                blocks.push(slack_section(b));
            }
        }
        if let Some(p) = compare_path {
            links.push(("Compare".into(), format!("{base}{p}")));
        }
        links.push(("Run".into(), format!("{base}{run_path}")));
    } else {
        text = headline.to_string();
    }
    if !links.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": links
                .iter()
                .map(|(l, u)| slack_link(u, l))
                .collect::<Vec<_>>()
                .join(" · ")}],
        }));
    }
    json!({ "text": text, "blocks": blocks })
}
