//! `perfwatch import DIR --manifest manifest.csv|json`: backfill a project's history
//! from a directory of old result files. The manifest says, per file, which commit,
//! branch and time it measured (`file, commit, branch, time[, testbed, format]`).
//! Every row is checked and every file parsed before anything is submitted; runs are
//! then submitted in manifest order, each with the run key `import-<sha>-<file>`, so
//! importing again adds nothing.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::Args;
use perfwatch_core::model::{CommitInput, RunSubmission};
use perfwatch_parsers::Format;
use serde_json::Value;

use super::ingest::{merge_inputs, parse_format, post_run, read_input, ServerArgs};

#[derive(Debug, Args, Clone)]
pub struct ImportArgs {
    /// Directory holding the result files; manifest paths are relative to it.
    pub dir: PathBuf,
    /// CSV (with a header row) or JSON (an array of objects) manifest with the fields
    /// file, commit, branch, time and optionally testbed and format.
    #[arg(long)]
    pub manifest: PathBuf,
    /// Project slug (or PERFWATCH_PROJECT).
    #[arg(long, env = "PERFWATCH_PROJECT")]
    pub project: String,
    /// Testbed for rows that name none (default: the harness's machine, else `default`).
    #[arg(long)]
    pub testbed: Option<String>,
    /// Format for rows that name none (default: detected per file).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Check the manifest and parse every file, but submit nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// One manifest row, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `row 3 (line 4)` or `row 3 ([2])`, for messages.
    pub place: String,
    pub file: String,
    pub commit: String,
    pub branch: String,
    pub time: DateTime<Utc>,
    pub testbed: Option<String>,
    pub format: Option<Format>,
}

fn field_error(place: &str, field: &str, why: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("manifest {place}, field '{field}': {why}")
}

/// `2024-05-01T12:00:00Z` (any RFC 3339), `2024-05-01 12:00:00` or `2024-05-01T12:00:00`
/// (UTC), `2024-05-01` (midnight UTC), or seconds since the epoch.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    s.parse::<i64>()
        .ok()
        .and_then(|n| DateTime::from_timestamp(n, 0))
}

fn check_row(place: String, get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Row> {
    let required = |f: &str| {
        get(f)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| field_error(&place, f, "missing"))
    };
    let optional = |f: &str| {
        get(f)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let file = required("file")?;
    let commit = required("commit")?.to_ascii_lowercase();
    if commit.len() < 4 || commit.len() > 64 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(field_error(
            &place,
            "commit",
            format!("'{commit}' is not a commit sha (4 to 64 hex digits)"),
        ));
    }
    let branch = required("branch")?;
    let time_text = required("time")?;
    let time = parse_time(&time_text).ok_or_else(|| {
        field_error(
            &place,
            "time",
            format!(
                "'{time_text}' is not a time (2024-05-01T12:00:00Z, 2024-05-01 or epoch seconds)"
            ),
        )
    })?;
    let format = match optional("format") {
        Some(f) => Some(parse_format(&f).map_err(|e| field_error(&place, "format", e))?),
        None => None,
    };
    let run_key = format!("import-{commit}-{file}");
    if run_key.len() > perfwatch_core::limits::MAX_RUN_KEY {
        return Err(field_error(
            &place,
            "file",
            "the name is too long for a run key (import-<sha>-<file> over 200 characters)",
        ));
    }
    Ok(Row {
        place,
        file,
        commit,
        branch,
        time,
        testbed: optional("testbed"),
        format,
    })
}

/// Reads and checks every row of a manifest (CSV with a header, or a JSON array).
pub fn parse_manifest(text: &str) -> anyhow::Result<Vec<Row>> {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('[') {
        let v: Vec<Value> = serde_json::from_str(t).context("manifest: invalid JSON")?;
        return v
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let place = format!("row {} ([{i}])", i + 1);
                let Some(obj) = row.as_object() else {
                    bail!("manifest {place}: expected an object with file, commit, branch, time");
                };
                check_row(place, &|f| match obj.get(f) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                })
            })
            .collect();
    }
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines.next().context("manifest: empty")?;
    let header: Vec<String> = perfwatch_parsers::csv_line(header.trim_start_matches('\u{feff}'))
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for needed in ["file", "commit", "branch", "time"] {
        if !header.iter().any(|h| h == needed) {
            bail!("manifest: the header row has no '{needed}' column (expected file, commit, branch, time[, testbed, format])");
        }
    }
    lines
        .enumerate()
        .map(|(i, (line_no, line))| {
            let place = format!("row {} (line {})", i + 1, line_no + 1);
            let fields = perfwatch_parsers::csv_line(line);
            if fields.len() > header.len() {
                bail!(
                    "manifest {place}: {} fields, the header has {}",
                    fields.len(),
                    header.len()
                );
            }
            check_row(place, &|f| {
                header
                    .iter()
                    .position(|h| h == f)
                    .and_then(|i| fields.get(i).cloned())
            })
        })
        .collect()
}

/// Every row's run, parsed and ready to submit, in manifest order.
pub fn prepare(args: &ImportArgs, rows: &[Row]) -> anyhow::Result<Vec<RunSubmission>> {
    rows.iter()
        .map(|row| {
            let path = resolve(&args.dir, &row.file);
            if !path.exists() {
                return Err(field_error(
                    &row.place,
                    "file",
                    format!("{} does not exist", path.display()),
                ));
            }
            let input = read_input(&path, row.format.or(args.format))
                .map_err(|e| field_error(&row.place, "file", format!("{e:#}")))?;
            let merged = merge_inputs(vec![input])?;
            let format = merged.formats.first().map(|f| f.name()).unwrap_or("");
            let mut run = merged.parsed.into_submission(args.project.clone());
            run.branch = Some(row.branch.clone());
            run.commit = Some(CommitInput {
                sha: row.commit.clone(),
                time: Some(row.time),
                ..CommitInput::default()
            });
            run.testbed = row
                .testbed
                .clone()
                .or_else(|| args.testbed.clone())
                .or(run.testbed);
            run.run_key = Some(format!("import-{}-{}", row.commit, row.file));
            run.started_at = Some(row.time);
            run.trigger = Some("import".into());
            run.metadata
                .entry("format")
                .or_insert_with(|| serde_json::json!(format));
            run.metadata
                .insert("import_file".into(), serde_json::json!(row.file));
            Ok(run)
        })
        .collect()
}

fn resolve(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

/// Returns the process exit code.
pub async fn run(args: ImportArgs) -> anyhow::Result<i32> {
    let text = std::fs::read_to_string(&args.manifest)
        .with_context(|| format!("reading {}", args.manifest.display()))?;
    let rows = parse_manifest(&text)?;
    if rows.is_empty() {
        bail!("manifest: no rows");
    }
    let runs = prepare(&args, &rows)?;
    let series: usize = runs.iter().map(|r| r.results.len()).sum();
    if args.dry_run {
        println!(
            "manifest OK: {} runs, {series} results; nothing submitted (--dry-run)",
            runs.len()
        );
        return Ok(0);
    }
    let (mut new, mut old) = (0, 0);
    for (row, run) in rows.iter().zip(&runs) {
        let receipt = post_run(&args.server, run)
            .await
            .with_context(|| format!("manifest {}: submitting {}", row.place, row.file))?;
        if receipt.duplicate {
            old += 1;
        } else {
            new += 1;
        }
        println!(
            "{} {} {} @ {} → run {}",
            if receipt.duplicate { "=" } else { "+" },
            row.file,
            row.branch,
            row.commit.get(..10).unwrap_or(&row.commit),
            receipt.run_id
        );
    }
    println!(
        "imported {} runs into {}: {new} new, {old} already stored; {series} results",
        runs.len(),
        args.project
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_manifest_rows_and_errors_name_row_and_field() {
        let rows = parse_manifest(
            "file,commit,branch,time\na.txt,abc123,main,2024-05-01\n\"b,c.txt\",ABCDEF,main,2024-05-02T10:00:00Z\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].file, "b,c.txt");
        assert_eq!(rows[1].commit, "abcdef");
        let e = parse_manifest(
            "file,commit,branch,time\na,abc123,main,2024-05-01\nb,zz,main,2024-05-01\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("row 2") && e.contains("'commit'"), "{e}");
        let e = parse_manifest("file,commit,branch,time\na,abc123,main,yesterday\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 1") && e.contains("'time'"), "{e}");
    }

    #[test]
    fn json_manifest() {
        let rows = parse_manifest(
            r#"[{"file":"a","commit":"abcd","branch":"main","time":1714557600,"format":"go"}]"#,
        )
        .unwrap();
        assert_eq!(rows[0].format, Some(Format::Go));
        assert_eq!(rows[0].time.timestamp(), 1714557600);
        let e = parse_manifest(r#"[{"file":"a","commit":"abcd","time":"2024-01-01"}]"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'branch'"), "{e}");
    }
}
