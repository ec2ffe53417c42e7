//! Query templates: `{{window}}`, `{{start}}`, `{{end}}`, `{{run_id}}`, `{{commit}}`.
//!
//! Numbers and durations may go anywhere. `{{run_id}}` and `{{commit}}` come from
//! outside, so they may only stand inside a quoted string (a label matcher value) and
//! are escaped for that string's quoting: a run id can never change the query's shape.

use chrono::{DateTime, Utc};

use crate::duration::prom_duration_ms;

/// The values of one run window.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowVars {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub run_id: Option<String>,
    pub commit: Option<String>,
}

impl WindowVars {
    /// Length of the window in milliseconds (what `{{window}}` becomes).
    pub fn window_ms(&self) -> i64 {
        (self.end - self.start).num_milliseconds()
    }
}

/// Why a template cannot be expanded or is rejected at check time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown placeholder {{{{{name}}}}} at byte {pos} (known: window, start, end, run_id, commit)")]
    UnknownPlaceholder { name: String, pos: usize },
    #[error("`{{{{` at byte {pos} is not closed with `}}}}`")]
    Unclosed { pos: usize },
    #[error("{{{{{name}}}}} is used but the run has no {name}")]
    MissingValue { name: String },
    #[error("{{{{{name}}}}} at byte {pos} must stand inside a quoted label value, e.g. {{run_id=\"{{{{{name}}}}}\"}}")]
    Unquoted { name: String, pos: usize },
    #[error("{{{{{name}}}}}: the value contains a backtick, which a `raw string` cannot hold")]
    Unescapable { name: String },
    #[error("the template is {len} bytes; at most {max} are accepted")]
    TooLong { len: usize, max: usize },
    #[error("window: {0}")]
    Window(String),
    #[error("PromQL syntax error{}: {message}", pos.map(|p| format!(" at byte {p}")).unwrap_or_default())]
    Syntax { pos: Option<usize>, message: String },
    #[error("{metric} looks like a counter (suffix {suffix}) but is not inside rate(), irate() or increase(): its raw value is a running total, not a measurement of the window")]
    CounterWithoutRate { metric: String, suffix: String },
    #[error("histogram_quantile: {0}")]
    Quantile(String),
    #[error("by = \"{label}\", but the query's outer aggregation does not keep {label}: write e.g. sum by ({label}) (…)")]
    DropsLabel { label: String },
}

/// Expands every placeholder. The window must be positive.
pub fn expand(template: &str, vars: &WindowVars) -> Result<String, TemplateError> {
    expand_impl(template, vars, &prom_duration_ms(vars.window_ms()))
}

/// Expands like [`expand`] but with `{{window}}` set to `range`: the coverage query,
/// where a short range makes a gap in the data show as missing points.
pub fn expand_for_coverage(
    template: &str,
    vars: &WindowVars,
    range: std::time::Duration,
) -> Result<String, TemplateError> {
    let ms = i64::try_from(range.as_millis()).unwrap_or(i64::MAX).max(1);
    expand_impl(template, vars, &prom_duration_ms(ms))
}

fn expand_impl(template: &str, vars: &WindowVars, window: &str) -> Result<String, TemplateError> {
    let ms = vars.window_ms();
    if ms <= 0 {
        return Err(TemplateError::Window(format!(
            "end {} is not after start {}",
            vars.end.to_rfc3339(),
            vars.start.to_rfc3339()
        )));
    }
    let mut out = String::with_capacity(template.len() + 16);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut i = 0;
    while i < template.len() {
        let rest = &template[i..];
        if rest.starts_with("{{") {
            let close = rest.find("}}").ok_or(TemplateError::Unclosed { pos: i })?;
            let name = rest[2..close].trim();
            out.push_str(&value_for(name, i, vars, quote, window)?);
            i += close + 2;
            escaped = false;
            continue;
        }
        // Slicing at i is safe: i only ever advances by whole characters.
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        i += c.len_utf8();
        // Track whether we are inside a string literal, so values get the right escaping.
        match quote {
            Some(_) if escaped => escaped = false,
            Some(q) if q != '`' && c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None => {}
        }
    }
    Ok(out)
}

fn value_for(
    name: &str,
    pos: usize,
    vars: &WindowVars,
    quote: Option<char>,
    window: &str,
) -> Result<String, TemplateError> {
    let external = match name {
        "window" => return Ok(window.to_string()),
        "start" => return Ok(unix_seconds(vars.start)),
        "end" => return Ok(unix_seconds(vars.end)),
        "run_id" => vars.run_id.as_deref(),
        "commit" => vars.commit.as_deref(),
        _ => {
            return Err(TemplateError::UnknownPlaceholder {
                name: name.to_string(),
                pos,
            })
        }
    };
    let value = external.ok_or_else(|| TemplateError::MissingValue {
        name: name.to_string(),
    })?;
    let unquoted = || TemplateError::Unquoted {
        name: name.to_string(),
        pos,
    };
    match quote.ok_or_else(unquoted)? {
        '`' if value.contains('`') => Err(TemplateError::Unescapable {
            name: name.to_string(),
        }),
        '`' => Ok(value.to_string()),
        q => Ok(escape(value, q)),
    }
}

/// Escapes for a PromQL string quoted with `q` (`"` or `'`), Go-style.
fn escape(value: &str, q: char) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            // Other control characters cannot be written raw; drop them rather than
            // produce a string Prometheus rejects.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds, with milliseconds only when there are any (`1796000000`, `1796000000.5`).
fn unix_seconds(t: DateTime<Utc>) -> String {
    let ms = t.timestamp_millis();
    if ms % 1000 == 0 {
        format!("{}", ms / 1000)
    } else {
        format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
