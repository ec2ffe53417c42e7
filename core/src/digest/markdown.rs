//! Markdown (GitHub-flavoured): ticket bodies, the generic webhook's `text` and
//! `summary.body`. Names come from submitted results, so every piece of text is escaped
//! and link targets cannot close their parentheses.

use std::fmt::Write;

use super::{fmt_change, fmt_confidence, fmt_values, on_testbed, short_sha, Change, Digest};

/// Backslash-escapes the characters that start emphasis, code, links, tables, HTML or
/// strike-through; line breaks become spaces so a name cannot start a block.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A link target: characters that would end `(…)` or the line are percent-encoded.
fn target(url: &str) -> String {
    url.replace(' ', "%20")
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('\n', "")
}

fn change_line(c: &Change) -> String {
    let mut line = format!(
        "- {} / {}{}: {} {} ({}){}",
        escape(&c.name()),
        escape(&c.measure),
        on_testbed(&escape(&c.testbed)),
        escape(&c.verdict),
        fmt_change(c),
        escape(&fmt_values(c)),
        fmt_confidence(c)
    );
    if let Some(img) = &c.chart_image_url {
        let _ = write!(line, " — [chart]({})", target(img));
    }
    line.push('\n');
    line
}

/// The whole digest as Markdown.
pub fn to_markdown(d: &Digest) -> String {
    let mut out = format!("**{}**", escape(&d.title));
    if !d.project.is_empty() {
        let _ = write!(out, " — project `{}`", d.project.replace('`', "'"));
    }
    if let Some(s) = &d.state {
        let _ = write!(out, ", state {}", escape(s));
    }
    out.push_str("\n\n");
    if let Some(o) = &d.outcome {
        let _ = writeln!(
            out,
            "{} **{}**: {}\n",
            escape(&o.mark),
            escape(&o.word),
            escape(&o.text)
        );
    }
    if let Some(s) = &d.sides {
        let head = match &s.head_url {
            Some(u) => format!("[{}]({})", short_sha(&s.head_sha), target(u)),
            None => format!("`{}`", short_sha(&s.head_sha).replace('`', "'")),
        };
        let _ = writeln!(out, "Head: {head}  \nBase: {}  ", escape(&s.base));
    }
    if let Some(c) = &d.counts {
        let _ = writeln!(out, "{}", c.text());
    }
    for s in d.sections.iter().filter(|s| !s.changes.is_empty()) {
        if let Some(l) = &s.label {
            let _ = writeln!(out, "\n**{}**:", escape(l));
        }
        for c in &s.changes {
            out.push_str(&change_line(c));
        }
        if s.more > 0 {
            let _ = writeln!(out, "- … {} more", s.more);
        }
    }
    if let Some(s) = d.suspects.as_ref().filter(|s| !s.commits.is_empty()) {
        let _ = writeln!(out, "\nSuspect commits ({}):", s.total);
        for c in &s.commits {
            let short = short_sha(&c.sha);
            match &c.url {
                Some(u) => {
                    let _ = writeln!(out, "- [{short}]({}) {}", target(u), escape(&c.message));
                }
                None => {
                    let _ = writeln!(out, "- {} {}", escape(&short), escape(&c.message));
                }
            }
        }
    }
    if !d.invalid.is_empty() {
        out.push_str("\n**Invalid runs** (left out of the comparison):\n");
        for why in &d.invalid {
            let _ = writeln!(out, "- {}", escape(why));
        }
    }
    out.push('\n');
    for l in &d.links {
        let _ = writeln!(out, "{}: {}", l.kind.label(), target(&l.url));
    }
    out
}
