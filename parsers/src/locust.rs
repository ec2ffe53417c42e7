//! Locust's CSV statistics (`locust --headless --csv PREFIX` → `PREFIX_stats.csv`): one
//! row per request name (`Type,Name,Request Count,Failure Count,Median Response Time,…`)
//! and an `Aggregated` row.
//!
//! Benchmark: `<Type> <Name>` (just `Aggregated` for the total row). Measures:
//! `latency` in `ms` (the average response time as the sample, the `50%` … `100%`
//! columns as percentiles, the request count as the iteration count), `throughput`
//! (`Requests/s`, `1/s`), `error_rate` (failures / requests, `%`), `requests` and
//! `failures` (counts). Columns are found by header name, so older and newer Locust
//! versions (which add or reorder columns) read the same.

use crate::common::{at_line, finite, Series};
use crate::load_common::LoadSummary;
use crate::{Format, ParseError, Parsed};

const F: Format = Format::Locust;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let mut lines = input.trim_start_matches('\u{feff}').lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split(',').map(str::trim).collect(),
        None => Vec::new(),
    };
    let col = |name: &str| header.iter().position(|h| *h == name);
    let need = |name: &'static str| {
        col(name)
            .ok_or_else(|| ParseError::line(F, 1, format!("a \"{name}\" column in the header")))
    };
    let (name_c, count_c, fail_c, avg_c) = (
        need("Name")?,
        need("Request Count")?,
        need("Failure Count")?,
        need("Average Response Time")?,
    );
    let (type_c, rps_c) = (col("Type").or(col("Method")), col("Requests/s"));
    let pct_cols: Vec<(String, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let q = h.strip_suffix('%')?;
            finite(q).filter(|q| (0.0..=100.0).contains(q))?;
            Some((q.to_string(), i))
        })
        .collect();
    let mut series = Series::default();
    for (i, line) in lines {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells = crate::csv_line(line);
        let cell = |c: usize| cells.get(c).map(|s| s.trim()).unwrap_or("");
        let num = |c: usize, what: &str| {
            finite(cell(c))
                .ok_or_else(|| ParseError::line(F, n, format!("a number in column \"{what}\"")))
        };
        let name = cell(name_c);
        if name.is_empty() {
            return Err(ParseError::line(F, n, "a request name in column \"Name\""));
        }
        let bench = match type_c.map(cell).filter(|t| !t.is_empty()) {
            Some(t) => format!("{t} {name}"),
            None => name.to_string(),
        };
        let requests = num(count_c, "Request Count")?;
        let failures = num(fail_c, "Failure Count")?;
        let throughput = match rps_c {
            Some(c) => Some(num(c, "Requests/s")?),
            None => None,
        };
        // A name without any request has no latency ("N/A" in the percentiles).
        let latency_mean_ms = finite(cell(avg_c)).filter(|_| requests > 0.0);
        let percentiles_ms = pct_cols
            .iter()
            .filter_map(|(q, c)| Some((q.clone(), finite(cell(*c))?)))
            .filter(|_| latency_mean_ms.is_some())
            .collect();
        LoadSummary {
            latency_mean_ms,
            percentiles_ms,
            requests: Some(requests),
            failures: Some(failures),
            throughput,
        }
        .add_to(&mut series, &bench)
        .map_err(at_line(F, n))?;
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// The stats header Locust writes.
pub(crate) fn looks_like(first_line: &str) -> bool {
    first_line.contains("Name,")
        && first_line.contains("Request Count")
        && first_line.contains("Average Response Time")
}
