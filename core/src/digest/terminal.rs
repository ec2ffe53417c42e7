//! Terminal text for the CLI: plain lines, with colour (bold title, red regressions,
//! green improvements) only when the caller says the output is a terminal. Control
//! characters in names are dropped so a benchmark name cannot send escape sequences.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};

use super::{fmt_change, fmt_confidence, fmt_values, on_testbed, short_sha, Change, Digest};

/// Drops control characters (ESC above all); line breaks become spaces.
fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// `text` in `style` when colour is on.
fn paint(color: bool, style: Style, text: &str) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

fn change_line(c: &Change, color: bool) -> String {
    let style = match c.verdict.as_str() {
        "regression" => AnsiColor::Red.on_default(),
        "improvement" => AnsiColor::Green.on_default(),
        _ => Style::new(),
    };
    format!(
        "  {} / {}{}: {} ({}){}\n",
        clean(&c.name()),
        clean(&c.measure),
        on_testbed(&clean(&c.testbed)),
        paint(
            color,
            style,
            &format!("{} {}", clean(&c.verdict), fmt_change(c))
        ),
        clean(&fmt_values(c)),
        fmt_confidence(c)
    )
}

/// The digest as terminal text; `color` only when stdout is a terminal.
pub fn to_terminal(d: &Digest, color: bool) -> String {
    let bold = Style::new().bold();
    let mut out = paint(color, bold, &clean(&d.title));
    out.push('\n');
    match (&d.project, &d.state) {
        (p, Some(s)) if !p.is_empty() => {
            let _ = writeln!(out, "project {}, state {}", clean(p), clean(s));
        }
        (_, Some(s)) => {
            let _ = writeln!(out, "state {}", clean(s));
        }
        _ => {}
    }
    if let Some(o) = &d.outcome {
        let style = if o.bad {
            AnsiColor::Red.on_default().bold()
        } else {
            AnsiColor::Green.on_default().bold()
        };
        let _ = writeln!(
            out,
            "{} {}: {}",
            clean(&o.mark),
            paint(color, style, &clean(&o.word)),
            clean(&o.text)
        );
    }
    if let Some(s) = &d.sides {
        let url = s
            .head_url
            .as_deref()
            .map(|u| format!(" ({})", clean(u)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Head: {}{url}\nBase: {}",
            clean(&s.head_sha),
            clean(&s.base)
        );
    }
    if let Some(c) = &d.counts {
        let _ = writeln!(out, "{}", c.text());
    }
    for s in d.sections.iter().filter(|s| !s.changes.is_empty()) {
        if let Some(l) = &s.label {
            let _ = writeln!(out, "{}:", paint(color, bold, &clean(l)));
        }
        for c in &s.changes {
            out.push_str(&change_line(c, color));
        }
        if s.more > 0 {
            let _ = writeln!(out, "  … {} more", s.more);
        }
    }
    if let Some(s) = d.suspects.as_ref().filter(|s| !s.commits.is_empty()) {
        let _ = writeln!(out, "Suspect commits ({}):", s.total);
        for c in &s.commits {
            let _ = writeln!(out, "  {} {}", clean(&short_sha(&c.sha)), clean(&c.message));
        }
    }
    if !d.invalid.is_empty() {
        let _ = writeln!(out, "Invalid runs (left out of the comparison):");
        for why in &d.invalid {
            let _ = writeln!(out, "  {}", clean(why));
        }
    }
    for l in &d.links {
        let _ = writeln!(out, "{}: {}", l.kind.label(), clean(&l.url));
    }
    out
}
