//! Slack incoming-webhook messages: `text` (the notification fallback) and Block Kit
//! `blocks` of mrkdwn sections with `<url|label>` links.

use serde_json::{json, Value};

use super::{fmt_change, fmt_confidence, fmt_values, on_testbed, short_sha, Change, Digest};

/// Escapes `&`, `<` and `>`, the characters Slack's mrkdwn reserves (so a benchmark
/// named `<!channel>` cannot ping anyone); line breaks become spaces.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

/// `<url|label>`; a `|` or `>` in the URL would end it early.
fn link(url: &str, label: &str) -> String {
    format!(
        "<{}|{}>",
        url.replace('|', "%7C").replace('>', "%3E"),
        escape(label)
    )
}

/// A section block; its text is limited to 3000 characters.
fn section(text: String) -> Value {
    let text = if text.chars().count() > 2900 {
        let mut t: String = text.chars().take(2900).collect();
        t.push('…');
        t
    } else {
        text
    };
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn change_line(c: &Change) -> String {
    let mut line = format!(
        "• {} / {}{}: {} *{}* ({}){}",
        escape(&c.name()),
        escape(&c.measure),
        on_testbed(&escape(&c.testbed)),
        escape(&c.verdict),
        fmt_change(c),
        escape(&fmt_values(c)),
        fmt_confidence(c)
    );
    if let Some(img) = &c.chart_image_url {
        line.push_str(&format!(" ({})", link(img, "chart")));
    }
    line.push('\n');
    line
}

fn overview(d: &Digest) -> String {
    let mut b = format!("*{}*", escape(&d.title));
    if let Some(s) = &d.state {
        b.push_str(&format!(" — state {}", escape(s)));
    }
    b.push('\n');
    if let Some(o) = &d.outcome {
        b.push_str(&format!(
            "{} *{}*: {}\n",
            escape(&o.mark),
            escape(&o.word),
            escape(&o.text)
        ));
    }
    if let Some(s) = &d.sides {
        let short = short_sha(&s.head_sha);
        let head = match &s.head_url {
            Some(u) => link(u, &short),
            None => format!("`{}`", escape(&short)),
        };
        b.push_str(&format!("Head: {head}\nBase: {}\n", escape(&s.base)));
    }
    if let Some(c) = &d.counts {
        b.push_str(&escape(&c.text()));
        b.push('\n');
    }
    b
}

/// The Slack message of a digest under `headline` (what happened: "New alert group").
pub fn to_slack(d: &Digest, headline: &str) -> Value {
    let mut blocks = vec![
        section(format!("*{}*", escape(headline))),
        section(overview(d)),
    ];
    for s in d.sections.iter().filter(|s| !s.changes.is_empty()) {
        let mut b = s
            .label
            .as_deref()
            .map(|l| format!("*{}*:\n", escape(l)))
            .unwrap_or_default();
        for c in &s.changes {
            b.push_str(&change_line(c));
        }
        if s.more > 0 {
            b.push_str(&format!("• … {} more\n", s.more));
        }
        blocks.push(section(b));
    }
    if let Some(s) = d.suspects.as_ref().filter(|s| !s.commits.is_empty()) {
        let mut b = format!("*Suspect commits* ({}):\n", s.total);
        for c in &s.commits {
            let short = short_sha(&c.sha);
            let id = match &c.url {
                Some(u) => link(u, &short),
                None => format!("`{}`", escape(&short)),
            };
            b.push_str(&format!("• {id} {}\n", escape(&c.message)));
        }
        blocks.push(section(b));
    }
    if !d.invalid.is_empty() {
        let mut b = "*Invalid runs* (left out of the comparison):\n".to_string();
        for why in &d.invalid {
            b.push_str(&format!("• {}\n", escape(why)));
        }
        blocks.push(section(b));
    }
    if !d.links.is_empty() {
        let links: Vec<String> = d
            .links
            .iter()
            .map(|l| link(&l.url, l.kind.label()))
            .collect();
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": links.join(" · ")}],
        }));
    }
    let text = format!(
        "{}\n{}",
        escape(headline),
        escape(&super::to_terminal(d, false))
    );
    json!({ "text": text, "blocks": blocks })
}
