//! `perfwatch import DIR --manifest manifest.csv|json`: backfill a project's history
//! from a directory of old result files. The manifest says, per file, which commit,
//! branch and time it measured (`file, commit, branch, time[, testbed, format]`).
//! Every row is checked and every file parsed before anything is submitted; runs are
//! then submitted in manifest order, each with the run key `import-<sha>-<file>`, so
//! importing again adds nothing.
//!
//! Memory stays bounded however long the history: the manifest is read as a stream
//! twice (first to check every row and file, keeping only counts; then to submit), and
//! only a few parsed runs wait at a time between the reading thread and the submitter.
//! Measured in docs/benchmarks.md ("Series page and memory, issue 16").

use std::io::{BufRead, BufReader};
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
    let mut rows = Vec::new();
    for_each_row(text.as_bytes(), &mut |row| {
        rows.push(row);
        Ok(())
    })?;
    Ok(rows)
}

/// Calls `each` with every row of a manifest, checked, in order, reading it as a stream
/// (a manifest of a million rows is never held whole). Stops at the first error.
pub fn for_each_row(
    mut reader: impl BufRead,
    each: &mut dyn FnMut(Row) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    // JSON or CSV, by the first character that is not a byte-order mark or a space.
    let first = loop {
        let buf = reader.fill_buf().context("reading the manifest")?;
        let Some(&b) = buf.first() else { break None };
        let skip = if buf.starts_with("\u{feff}".as_bytes()) {
            3
        } else if b.is_ascii_whitespace() {
            1
        } else {
            break Some(b);
        };
        reader.consume(skip);
    };
    if first == Some(b'[') {
        return json_rows(reader, each);
    }
    let mut lines = reader
        .lines()
        .enumerate()
        .map(|(i, l)| l.map(|l| (i, l)).context("reading the manifest"))
        .filter(|l| {
            l.as_ref().map_or(true, |(_, l)| {
                !l.trim().is_empty() && !l.trim_start().starts_with('#')
            })
        });
    let (_, header) = lines.next().context("manifest: empty")??;
    let header: Vec<String> = perfwatch_parsers::csv_line(&header)
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for needed in ["file", "commit", "branch", "time"] {
        if !header.iter().any(|h| h == needed) {
            bail!("manifest: the header row has no '{needed}' column (expected file, commit, branch, time[, testbed, format])");
        }
    }
    for (i, line) in lines.enumerate() {
        let (line_no, line) = line?;
        let place = format!("row {} (line {})", i + 1, line_no + 1);
        let fields = perfwatch_parsers::csv_line(&line);
        if fields.len() > header.len() {
            bail!(
                "manifest {place}: {} fields, the header has {}",
                fields.len(),
                header.len()
            );
        }
        each(check_row(place, &|f| {
            header
                .iter()
                .position(|h| h == f)
                .and_then(|i| fields.get(i).cloned())
        })?)?;
    }
    Ok(())
}

/// The rows of a JSON array manifest, one element at a time (serde's sequence visitor
/// hands them over as they are read).
fn json_rows(
    reader: impl BufRead,
    each: &mut dyn FnMut(Row) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use serde::de::{Deserializer, SeqAccess, Visitor};

    struct Rows<'a> {
        each: &'a mut dyn FnMut(Row) -> anyhow::Result<()>,
        /// The first error of `each` or of a row (serde's errors carry only text).
        failed: Option<anyhow::Error>,
    }
    impl<'de> Visitor<'de> for &mut Rows<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of objects with file, commit, branch, time")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let mut i = 0;
            while let Some(row) = seq.next_element::<Value>()? {
                let place = format!("row {} ([{i}])", i + 1);
                i += 1;
                let checked = match row.as_object() {
                    Some(obj) => check_row(place, &|f| match obj.get(f) {
                        Some(Value::String(s)) => Some(s.clone()),
                        Some(Value::Number(n)) => Some(n.to_string()),
                        _ => None,
                    }),
                    None => Err(anyhow::anyhow!(
                        "manifest {place}: expected an object with file, commit, branch, time"
                    )),
                };
                if let Err(e) = checked.and_then(|r| (self.each)(r)) {
                    self.failed = Some(e);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
            Ok(())
        }
    }

    let mut rows = Rows { each, failed: None };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let read = de.deserialize_seq(&mut rows).and_then(|()| de.end());
    match (rows.failed, read) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(anyhow::Error::new(e).context("manifest: invalid JSON")),
        (None, Ok(())) => Ok(()),
    }
}

/// Every row's run, parsed and ready to submit, in manifest order.
pub fn prepare(args: &ImportArgs, rows: &[Row]) -> anyhow::Result<Vec<RunSubmission>> {
    rows.iter().map(|row| prepare_one(args, row)).collect()
}

/// One row's run: its file parsed, the row's commit, branch, time and testbed applied.
pub fn prepare_one(args: &ImportArgs, row: &Row) -> anyhow::Result<RunSubmission> {
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
}

fn resolve(dir: &Path, file: &str) -> PathBuf {
    let p = Path::new(file);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

fn open_manifest(path: &Path) -> anyhow::Result<BufReader<std::fs::File>> {
    let f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(BufReader::new(f))
}

/// Runs parsed ahead of the submitter: enough to keep it busy, few enough to bound memory.
const READ_AHEAD: usize = 16;

/// Returns the process exit code.
pub async fn run(args: ImportArgs) -> anyhow::Result<i32> {
    // First pass: check every row and parse every file, keeping only counts.
    let (mut runs, mut series) = (0u64, 0usize);
    for_each_row(open_manifest(&args.manifest)?, &mut |row| {
        series += prepare_one(&args, &row)?.results.len();
        runs += 1;
        Ok(())
    })?;
    if runs == 0 {
        bail!("manifest: no rows");
    }
    if args.dry_run {
        println!("manifest OK: {runs} runs, {series} results; nothing submitted (--dry-run)");
        return Ok(0);
    }
    // Second pass: a thread reads and parses again, a few runs ahead of the submitter.
    let (tx, mut rx) =
        tokio::sync::mpsc::channel::<anyhow::Result<(Row, RunSubmission)>>(READ_AHEAD);
    let reader_args = args.clone();
    let reader = tokio::task::spawn_blocking(move || {
        let sent = open_manifest(&reader_args.manifest).and_then(|m| {
            for_each_row(m, &mut |row| {
                let run = prepare_one(&reader_args, &row)?;
                // A closed channel: the submitter stopped on an error it reports.
                tx.blocking_send(Ok((row, run)))
                    .map_err(|_| anyhow::anyhow!("submitter stopped"))
            })
        });
        if let Err(e) = sent {
            let _ = tx.blocking_send(Err(e));
        }
    });
    // Drawn on stderr only when it is a terminal; the per-run lines go to stdout.
    let bar = indicatif::ProgressBar::new(runs).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs · {per_sec} · eta {eta}",
        )
        .expect("a valid template"),
    );
    let (mut new, mut old) = (0, 0);
    while let Some(next) = rx.recv().await {
        let (row, run) = next?;
        let receipt = post_run(&args.server, &run)
            .await
            .with_context(|| format!("manifest {}: submitting {}", row.place, row.file))?;
        if receipt.duplicate {
            old += 1;
        } else {
            new += 1;
        }
        bar.suspend(|| {
            println!(
                "{} {} {} @ {} → run {}",
                if receipt.duplicate { "=" } else { "+" },
                row.file,
                row.branch,
                row.commit.get(..10).unwrap_or(&row.commit),
                receipt.run_id
            )
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    reader.await?;
    if new + old != runs {
        bail!(
            "the manifest changed while importing: {runs} rows checked, {} submitted",
            new + old
        );
    }
    println!(
        "imported {runs} runs into {}: {new} new, {old} already stored; {series} results",
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
