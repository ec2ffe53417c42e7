//! Save-time checks of a query template: it expands with sample values, parses as
//! PromQL, reads counters only through `rate`/`irate`/`increase`, and aggregates
//! histogram buckets keeping `le` before `histogram_quantile`.

use chrono::{TimeZone, Utc};
use promql_parser::label::Labels;
use promql_parser::parser::{self, Expr, LabelModifier};

use crate::template::{expand, TemplateError, WindowVars};

/// Suffixes of series that only make sense as a rate or increase.
const COUNTER_SUFFIXES: &[&str] = &["_total", "_count", "_sum", "_bucket"];
/// Functions that turn a counter's running total into a per-window measurement.
const COUNTER_FUNCTIONS: &[&str] = &["rate", "irate", "increase"];

/// Longest template accepted: real queries are far shorter, and the bound keeps
/// parsing and walking deeply nested text within the stack of the checking thread.
pub const MAX_TEMPLATE_BYTES: usize = 16 * 1024;
/// Stack of the thread that parses: the parser and the tree's drop recurse per level.
const PARSE_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Checks a template; the error says what is wrong and where when it can.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
    if template.len() > MAX_TEMPLATE_BYTES {
        return Err(TemplateError::TooLong {
            len: template.len(),
            max: MAX_TEMPLATE_BYTES,
        });
    }
    let vars = sample_vars();
    let text = expand(template, &vars)?;
    // Scanned on the template with placeholders masked, so positions are the user's.
    if let Some((pos, message)) = unbalanced(&mask_placeholders(template)) {
        return Err(TemplateError::Syntax {
            pos: Some(pos),
            message,
        });
    }
    with_parsed(text, |expr| walk(expr, false))
}

/// Parses `text` and runs `f` on the tree in a thread with a large stack: the parser is
/// third-party code that recurses per nesting level, and a panic in it must come back
/// as an error, not take the caller down.
fn with_parsed<F>(text: String, f: F) -> Result<(), TemplateError>
where
    F: FnOnce(&Expr) -> Result<(), TemplateError> + Send + 'static,
{
    let failed = |what: &str| TemplateError::Syntax {
        pos: None,
        message: format!("the PromQL parser {what} on this text"),
    };
    let handle = std::thread::Builder::new()
        .name("promql-check".into())
        .stack_size(PARSE_STACK_BYTES)
        .spawn(move || {
            let expr = parser::parse(&text)
                .map_err(|message| TemplateError::Syntax { pos: None, message })?;
            f(&expr)
        })
        .map_err(|_| failed("could not start"))?;
    handle.join().map_err(|_| failed("failed"))?
}

/// For a `by = "label"` query: the outermost aggregation must keep `label`, or every
/// value would land under an empty label. Runs [`check_template`] first.
pub fn check_keeps_label(template: &str, label: &str) -> Result<(), TemplateError> {
    check_template(template)?;
    let text = expand(template, &sample_vars())?;
    let label = label.to_string();
    with_parsed(text, move |expr| {
        let keeps = match find_aggregation(expr) {
            None => true,
            Some(None) => false,
            Some(Some(LabelModifier::Include(l))) => l.labels.contains(&label),
            Some(Some(LabelModifier::Exclude(l))) => !l.labels.contains(&label),
        };
        if keeps {
            Ok(())
        } else {
            Err(TemplateError::DropsLabel { label })
        }
    })
}

/// Sample values: a 93 s window with a run id and commit, so every placeholder expands.
fn sample_vars() -> WindowVars {
    let start = Utc
        .timestamp_opt(1_796_000_000, 0)
        .single()
        .unwrap_or_else(Utc::now);
    WindowVars {
        start,
        end: start + chrono::Duration::seconds(93),
        run_id: Some("sample-run".into()),
        commit: Some("0123456789abcdef".into()),
    }
}

/// Walks the tree; `in_counter_fn` is true below rate/irate/increase.
fn walk(e: &Expr, in_counter_fn: bool) -> Result<(), TemplateError> {
    match e {
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                walk(p, false)?;
            }
            walk(&a.expr, false)
        }
        Expr::Unary(u) => walk(&u.expr, false),
        Expr::Binary(b) => {
            walk(&b.lhs, false)?;
            walk(&b.rhs, false)
        }
        Expr::Paren(p) => walk(&p.expr, in_counter_fn),
        // rate(x_total[5m:1m]) still reads the counter through rate.
        Expr::Subquery(s) => walk(&s.expr, in_counter_fn),
        Expr::MatrixSelector(m) => selector(m.vs.name.as_deref(), in_counter_fn),
        Expr::VectorSelector(v) => selector(v.name.as_deref(), in_counter_fn),
        Expr::Call(c) => {
            let counter_fn = COUNTER_FUNCTIONS.contains(&c.func.name);
            if c.func.name == "histogram_quantile" {
                if let Some(arg) = c.args.args.get(1) {
                    keeps_le(arg)?;
                }
            }
            c.args.args.iter().try_for_each(|a| walk(a, counter_fn))
        }
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => Ok(()),
    }
}

fn selector(name: Option<&str>, in_counter_fn: bool) -> Result<(), TemplateError> {
    let Some(name) = name else { return Ok(()) };
    match COUNTER_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        Some(suffix) if !in_counter_fn => Err(TemplateError::CounterWithoutRate {
            metric: name.to_string(),
            suffix: (*suffix).to_string(),
        }),
        _ => Ok(()),
    }
}

/// The buckets given to `histogram_quantile` must be aggregated (one quantile for the
/// run, not one per instance) and the aggregation must keep `le`.
fn keeps_le(arg: &Expr) -> Result<(), TemplateError> {
    match find_aggregation(arg) {
        None => Err(TemplateError::Quantile(
            "aggregate the buckets first, e.g. histogram_quantile(0.99, sum by (le) (rate(x_bucket[{{window}}])))".into(),
        )),
        Some(None) => Err(TemplateError::Quantile(
            "the aggregation drops `le`: write sum by (le) (…) or sum without (…) keeping le".into(),
        )),
        Some(Some(modifier)) => match modifier {
            LabelModifier::Include(l) if has_le(l) => Ok(()),
            LabelModifier::Exclude(l) if !has_le(l) => Ok(()),
            LabelModifier::Include(_) => Err(TemplateError::Quantile(
                "`by (…)` must include le, e.g. sum by (le) (…)".into(),
            )),
            LabelModifier::Exclude(_) => Err(TemplateError::Quantile(
                "`without (…)` removes le; keep it".into(),
            )),
        },
    }
}

/// The outermost aggregation in `e` (through parentheses and binary operators):
/// `None` when there is none, `Some(None)` for one without `by`/`without`.
fn find_aggregation(e: &Expr) -> Option<Option<&LabelModifier>> {
    match e {
        Expr::Aggregate(a) => Some(a.modifier.as_ref()),
        Expr::Paren(p) => find_aggregation(&p.expr),
        Expr::Binary(b) => find_aggregation(&b.lhs).or_else(|| find_aggregation(&b.rhs)),
        _ => None,
    }
}

fn has_le(l: &Labels) -> bool {
    l.labels.iter().any(|x| x == "le")
}

/// The template with every `{{…}}` replaced by as many `x`, keeping byte positions.
fn mask_placeholders(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => {
                out.extend(std::iter::repeat_n('x', close + 2));
                rest = &rest[open + close + 2..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// First unbalanced bracket or unterminated string, with its byte position: the
/// parser's own messages carry no position, and these are the commonest slips.
fn unbalanced(text: &str) -> Option<(usize, String)> {
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<(usize, char)> = None;
    let mut escaped = false;
    let mut comment = false;
    for (i, c) in text.char_indices() {
        if comment {
            comment = c != '\n';
            continue;
        }
        if let Some((_, q)) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' && q != '`' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' => quote = Some((i, c)),
            '#' => comment = true,
            '(' | '[' | '{' => stack.push((i, c)),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match stack.pop() {
                    Some((_, open)) if open == want => {}
                    Some((p, open)) => {
                        return Some((i, format!("`{c}` closes `{open}` opened at byte {p}")))
                    }
                    None => return Some((i, format!("`{c}` has no opening `{want}`"))),
                }
            }
            _ => {}
        }
    }
    if let Some((p, q)) = quote {
        return Some((p, format!("string opened with {q} is not closed")));
    }
    stack
        .pop()
        .map(|(p, open)| (p, format!("`{open}` is not closed")))
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
