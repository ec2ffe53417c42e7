//! `perfwatch parse FILE… [--format F] [--json]`: what `perfwatch submit` would send for
//! these files — format per file, series, units, sample counts — without a server, for
//! debugging a CI set-up. Reads and merges exactly as `submit` does, then checks the
//! run as the server would (units, samples, limits); exits 1 when it would be refused.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use perfwatch_core::model::{params_key, ResultInput};
use perfwatch_core::validate::validate_run;
use perfwatch_parsers::Format;
use serde_json::json;

use super::ingest::{merge_inputs, parse_format, read_input};

#[derive(Debug, Args, Clone)]
pub struct ParseArgs {
    /// Result files, or a Criterion output directory; several files make one run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Input format (default: detected per file); `perfwatch parse --format help` lists them.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Print the results as JSON (the `results` of the run that would be submitted).
    #[arg(long)]
    pub json: bool,
}

/// Prints the run; returns the exit code (1 when the server would refuse it).
pub fn run(args: ParseArgs) -> anyhow::Result<i32> {
    let inputs = args
        .files
        .iter()
        .map(|f| read_input(f, args.format))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let files: Vec<(String, Format, usize)> = inputs
        .iter()
        .map(|i| (i.name.clone(), i.format, i.parsed.results.len()))
        .collect();
    let merged = merge_inputs(inputs)?;
    let parsed = merged.parsed;
    // The project is filled in by `submit`; any valid slug checks the rest.
    let verdict = validate_run(parsed.clone().into_submission("dry-run"));
    let mut text = String::new();
    if args.json {
        let doc = json!({
            "files": files.iter().map(|(name, format, n)| json!({
                "file": name, "format": format.name(), "series": n,
            })).collect::<Vec<_>>(),
            "testbed_hint": parsed.testbed_hint,
            "metadata": parsed.metadata,
            "results": parsed.results,
            "valid": verdict.is_ok(),
            "errors": verdict.as_ref().err().map(|e| &e.errors),
        });
        writeln!(text, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        for (name, format, n) in &files {
            writeln!(text, "{name}: {format}, {n} series")?;
        }
        if let Some(t) = &parsed.testbed_hint {
            writeln!(text, "testbed hint: {t}")?;
        }
        writeln!(text, "\n{}", table(&parsed.results))?;
        match &verdict {
            Ok(_) => writeln!(
                text,
                "{} series; the server would accept this run",
                parsed.results.len()
            )?,
            Err(e) => {
                writeln!(text, "the server would refuse this run:")?;
                for fe in &e.errors {
                    writeln!(text, "  {}: {}", fe.path, fe.reason)?;
                }
            }
        }
    }
    // `perfwatch parse … | head` closes the pipe early: that is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if verdict.is_ok() { 0 } else { 1 })
}

/// One line per series: name [params] · measure, unit, sample count, iterations,
/// direction and the median sample.
fn table(results: &[ResultInput]) -> String {
    let rows: Vec<[String; 6]> = results
        .iter()
        .map(|r| {
            let params = params_key(&r.params);
            let name = if params.is_empty() {
                format!("{} · {}", r.benchmark, r.measure)
            } else {
                format!("{} [{params}] · {}", r.benchmark, r.measure)
            };
            [
                name,
                r.unit.clone(),
                match r.samples.len() {
                    1 => "1 sample".to_string(),
                    n => format!("{n} samples"),
                },
                r.iterations
                    .map(|i| format!("{i} iters"))
                    .unwrap_or_default(),
                r.direction
                    .map(|d| d.as_str().to_string())
                    .unwrap_or_default(),
                median(&r.samples)
                    .map(|m| format!("median {m}"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn median(samples: &[f64]) -> Option<f64> {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => s.get(n / 2).copied(),
        _ => Some((s.get(n / 2 - 1)? + s.get(n / 2)?) / 2.0),
    }
}
