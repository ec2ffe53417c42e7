//! The terminal output of the valgrind-based Rust harnesses: iai (`iai` 0.1) and
//! iai-callgrind / gungraun (its successor):
//!
//! ```text
//! bench_fibonacci_short                       ← iai
//!   Instructions:                1735 (+0.04%)
//!   L1 Accesses:                 2364
//!   Estimated Cycles:            2404
//! lib_bench::group::bench_fib short:10        ← iai-callgrind / gungraun
//!   ======= CALLGRIND ====================
//!   Instructions:                1733|1733    (No change)
//!   L1 Hits:                     2359|N/A     (*********)
//! ```
//!
//! The unindented lines right above a block of indented metric lines name the benchmark
//! (for iai-callgrind/gungraun: the module path, then the bench id, which becomes param
//! `id`; an id with newlines spans several lines); each indented
//! `<Metric>: <new>[|<old>] …` line under it is one measure, the new value the one sample
//! (these counts are deterministic: one sample is the whole truth). Measures are the
//! metric names in snake case (`instructions`, `l1_hits`, `estimated_cycles`, …),
//! prefixed by the tool section other than Callgrind (`dhat_total_bytes`,
//! `perf_cpu_core_cycles_u`). Units are the first-class counts: `instructions`,
//! `cycles`, `hits`, `misses`, `accesses`, `B`, `blocks`; perf times in their bracketed
//! unit. Change columns, `Command:` and statistics sub-lines are ignored; the cargo and
//! test-harness lines around them are skipped.

use perfwatch_core::Direction;

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};

pub(crate) fn parse(format: Format, input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let mut bench: Option<(String, Params)> = None;
    // Unindented lines since the last blank or indented one: the next benchmark's name
    // (an id with newlines continues over several lines).
    let mut header: Vec<String> = Vec::new();
    let mut section = String::new();
    for (i, raw) in input.lines().enumerate() {
        let n = i + 1;
        let clean = strip_ansi(raw);
        // Grid mode prefixes every line with `|` or `|-`.
        let line = match clean.strip_prefix('|') {
            Some(l) => l.trim_start_matches('-'),
            None => clean.as_str(),
        };
        if line.trim().is_empty() {
            header.clear();
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let t = line.trim();
        if !indented {
            header.push(t.to_string());
            continue;
        }
        if !header.is_empty() {
            bench = Some(name_of(&header.join("\n")));
            header.clear();
            section.clear();
        }
        let Some((name, params)) = &bench else {
            continue;
        };
        if let Some(s) = t.strip_prefix("=======") {
            section = s
                .trim_matches(|c: char| c == '=' || c.is_whitespace())
                .to_ascii_lowercase();
            continue;
        }
        let Some((label, rest)) = t.split_once(": ") else {
            continue;
        };
        let label = label.trim();
        if matches!(label, "Command" | "Baselines")
            || label.starts_with(">>")
            || label.starts_with("##")
        {
            continue;
        }
        let value = rest.split_whitespace().next().unwrap_or("");
        let new = value.split('|').next().unwrap_or("");
        let Some(x) = finite(&new.replace(',', "")) else {
            return Err(ParseError::line(
                format,
                n,
                format!("a count after \"{label}:\""),
            ));
        };
        let (measure, unit, direction) = measure_of(&section, label);
        series
            .add(Obs {
                benchmark: name,
                params,
                measure: &measure,
                unit: &unit,
                direction: Some(direction),
                samples: &[x],
                iterations: None,
            })
            .map_err(at_line(format, n))?;
    }
    Ok(Parsed {
        results: series.finish(format)?,
        ..Parsed::default()
    })
}

/// Drops ANSI colour sequences (`ESC [ … letter`), which cargo keeps when forced to.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `lib::group::bench short:10` → (`lib::group::bench`, {id: `short:10`}).
fn name_of(t: &str) -> (String, Params) {
    let mut params = Params::new();
    match t.split_once(char::is_whitespace) {
        Some((name, id)) if !id.trim().is_empty() => {
            params.insert("id".into(), crate::common::clean_param(id.trim()));
            (name.to_string(), params)
        }
        _ => (t.to_string(), params),
    }
}

fn snake(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// (measure, unit, direction) of a metric line in a tool section.
fn measure_of(section: &str, label: &str) -> (String, String, Direction) {
    // `task-clock/u [us]` → a time in the bracketed unit.
    let (base, bracket) = match label.rsplit_once(" [") {
        Some((b, u)) => (b, Some(u.trim_end_matches(']'))),
        None => (label, None),
    };
    let mut measure = snake(base);
    if !section.is_empty() && section != "callgrind" {
        measure = format!("{}_{measure}", snake(section));
    }
    let l = base.to_ascii_lowercase();
    let unit = if let Some(u) = bracket {
        u.to_string()
    } else if l.contains("instructions") {
        "instructions".into()
    } else if l.contains("cycles") {
        "cycles".into()
    } else if l.contains("miss") {
        "misses".into()
    } else if l.contains("hits") {
        "hits".into()
    } else if l.contains("accesses") || l.contains("read+write") {
        "accesses".into()
    } else if l.contains("bytes") {
        "B".into()
    } else if l.contains("blocks") {
        "blocks".into()
    } else {
        "count".into()
    };
    // Cache hits are good (the more, the fewer RAM trips); everything else is a cost.
    let direction = if unit == "hits" && !l.contains("ram") {
        Direction::Higher
    } else {
        Direction::Lower
    };
    (measure, unit, direction)
}

/// At least one `Instructions:` metric line: which of the two harnesses printed it.
pub(crate) fn detect(t: &str) -> Option<Format> {
    let mut found = None;
    for line in t.lines() {
        let clean = strip_ansi(line);
        let l = clean.trim_start_matches(['|', '-']).trim();
        if let Some(rest) = l.strip_prefix("Instructions:") {
            let v = rest.split_whitespace().next().unwrap_or("");
            if finite(v.split('|').next().unwrap_or("")).is_none() {
                continue;
            }
            if v.contains('|') {
                return Some(Format::Gungraun);
            }
            found = Some(Format::Iai);
        }
        if l.starts_with("======= CALLGRIND") || l.starts_with("Gungraun result") {
            return Some(Format::Gungraun);
        }
    }
    found
}
