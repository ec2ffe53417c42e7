//! Ruby's two benchmark reporters.
//!
//! `benchmark-ips` (`Benchmark.ips`): the `Calculating` section, one line per report
//! (a long label sits alone on the line before its numbers):
//!
//! ```text
//! Calculating -------------------------------------
//!               encode    117.614k (± 3.5%) i/s -    597.896k in   5.090119s
//! ```
//!
//! gives measure `throughput` in `ops/s` (the iterations per second, its `k`/`M`/`B`
//! suffix applied). The `- 597.896k` total is rounded by the reporter, so no iteration
//! count is reported. Warm-up and comparison lines are skipped.
//!
//! The standard library's `Benchmark.bm`/`bmbm`: under the `user system total real`
//! header, `<label> <user> <system> <total> (<real>)` rows give measures `real`,
//! `user`, `system` in seconds; a `bmbm` rehearsal section is skipped (only the rows after
//! the last header count).

use perfwatch_core::Direction;

use crate::common::{at_line, finite, Obs, Params, Series};
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Ruby;

#[derive(PartialEq)]
enum Mode {
    Idle,
    Ips,
    Bm,
}

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut series = Series::default();
    let mut mode = Mode::Idle;
    let mut pending_label: Option<String> = None;
    for (i, line) in input.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.starts_with("Calculating -") {
            mode = Mode::Ips;
            pending_label = None;
            continue;
        }
        if t.starts_with("Warming up -")
            || t.starts_with("Comparison:")
            || t.starts_with("Rehearsal -")
        {
            mode = Mode::Idle;
            continue;
        }
        if is_bm_header(t) {
            mode = Mode::Bm;
            continue;
        }
        match mode {
            Mode::Idle => {}
            Mode::Ips if !t.is_empty() => read_ips(&mut series, &mut pending_label, n, t)?,
            Mode::Bm if !t.is_empty() => {
                if !read_bm(&mut series, n, t)? {
                    mode = Mode::Idle;
                }
            }
            Mode::Ips | Mode::Bm => {}
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// A line of a `benchmark-ips` report: `<label> <ips> (±<err>%) i/s - …`, or a long
/// label on its own line (kept in `pending_label` for the figures below it).
fn read_ips(
    series: &mut Series,
    pending_label: &mut Option<String>,
    n: usize,
    t: &str,
) -> Result<(), ParseError> {
    match ips_line(t) {
        Some((label, ips)) => {
            let name = match (label.is_empty(), pending_label.take()) {
                (false, _) => label.to_string(),
                (true, Some(p)) => p,
                (true, None) => {
                    return Err(ParseError::line(
                        F,
                        n,
                        "a report label before the i/s figures",
                    ))
                }
            };
            series
                .add(Obs {
                    benchmark: &name,
                    params: &Params::new(),
                    measure: "throughput",
                    unit: "ops/s",
                    direction: Some(Direction::Higher),
                    samples: &[ips],
                    iterations: None,
                })
                .map_err(at_line(F, n))?;
        }
        None if t.contains(" i/s") => {
            return Err(ParseError::line(
                F,
                n,
                "\"<label> <ips>[k|M|B] (±<err>%) i/s - <iterations> in <secs>s\"",
            ))
        }
        // A long label printed on its own line.
        None => *pending_label = Some(t.to_string()),
    }
    Ok(())
}

/// A row of a `Benchmark.bm` table: real, user and system seconds. False when the line
/// is not a row (the table has ended).
fn read_bm(series: &mut Series, n: usize, t: &str) -> Result<bool, ParseError> {
    let Some((label, user, system, real)) = bm_row(t) else {
        return Ok(false);
    };
    // `Benchmark.benchmark` adds derived rows (`>total:`, `>avg:`): not measured.
    if label.starts_with('>') {
        return Ok(true);
    }
    let label = label.trim_end_matches(':');
    let label = if label.is_empty() {
        format!("report {n}")
    } else {
        label.to_string()
    };
    for (measure, x) in [("real", real), ("user", user), ("system", system)] {
        series
            .add(Obs {
                benchmark: &label,
                params: &Params::new(),
                measure,
                unit: "s",
                direction: Some(Direction::Lower),
                samples: &[x],
                iterations: None,
            })
            .map_err(at_line(F, n))?;
    }
    Ok(true)
}

fn is_bm_header(t: &str) -> bool {
    let f: Vec<&str> = t.split_whitespace().collect();
    f.ends_with(&["user", "system", "total", "real"])
}

/// `encode    117.614k (± 3.5%) i/s - …` → ("encode", 117614.0).
fn ips_line(t: &str) -> Option<(&str, f64)> {
    let (head, _) = t.split_once(" (±")?;
    let rest = t.get(head.len()..)?;
    rest.split_once(") i/s")?;
    let (label, value) = match head.trim_end().rsplit_once(char::is_whitespace) {
        Some((l, v)) => (l.trim(), v),
        None => ("", head.trim()),
    };
    Some((label, suffixed(value)?))
}

/// benchmark-ips scales with `k`, `M`, `B` (billion), `T`.
fn suffixed(v: &str) -> Option<f64> {
    let (num, mult) = match v.chars().last()? {
        'k' => (v.strip_suffix('k')?, 1e3),
        'M' => (v.strip_suffix('M')?, 1e6),
        'B' => (v.strip_suffix('B')?, 1e9),
        'T' => (v.strip_suffix('T')?, 1e12),
        _ => (v, 1.0),
    };
    finite(num).map(|x| x * mult)
}

/// `regex  1.26  0.01  1.27 (  1.268214)` → (label, user, system, real).
fn bm_row(t: &str) -> Option<(String, f64, f64, f64)> {
    let (head, real) = t.rsplit_once('(')?;
    let real = finite(real.trim().strip_suffix(')')?.trim())?;
    let f: Vec<&str> = head.split_whitespace().collect();
    let [label @ .., user, system, total] = f.as_slice() else {
        return None;
    };
    finite(total)?;
    Some((label.join(" "), finite(user)?, finite(system)?, real))
}

/// `Calculating ----` followed by an i/s line, or a `user system total real` header.
pub(crate) fn looks_like(t: &str) -> bool {
    t.lines().any(|l| {
        let l = l.trim();
        (l.starts_with("Calculating -") && t.contains(" i/s")) || is_bm_header(l)
    })
}
