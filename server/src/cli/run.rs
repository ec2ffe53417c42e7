//! `perfwatch run [--format F] -- <command…>`: run a benchmark command, stream its
//! output through while capturing it, parse it and submit one run.

use std::io::{Read, Write};
use std::process::{ExitStatus, Stdio};

use anyhow::{bail, Context};
use clap::Args;
use perfwatch_parsers::{detect_format, Format};

use super::git::discover;
use super::ingest::{
    build_run, merge_inputs, parse_format, parse_text, submit_and_check, FailOn, Input, RunFields,
    ServerArgs,
};

#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Output format (default: detected from stdout, else stderr).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub fields: RunFields,
    /// Exit with status 1 when the run regresses against its baseline on main.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Submit the results even when the command exits with a failure status.
    #[arg(long)]
    pub submit_on_failure: bool,
    /// The benchmark command and its arguments, after `--`.
    #[arg(required = true, last = true, num_args = 1..)]
    pub command: Vec<String>,
}

/// Copies `r` to `w` as it comes, and returns everything read.
fn tee(mut r: impl Read, mut w: impl Write) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = buf.get(..n).unwrap_or_default();
        // The terminal going away must not lose the results.
        let _ = w.write_all(chunk);
        let _ = w.flush();
        all.extend_from_slice(chunk);
    }
    Ok(all)
}

/// Runs the command with stdout and stderr streamed through and captured.
fn execute(command: &[String]) -> anyhow::Result<(ExitStatus, Vec<u8>, Vec<u8>)> {
    let (program, rest) = command
        .split_first()
        .context("give the command after `--`")?;
    let shown = command.join(" ");
    let mut child = std::process::Command::new(program)
        .args(rest)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("could not start `{shown}`"))?;
    let out = child.stdout.take().context("no stdout pipe")?;
    let err = child.stderr.take().context("no stderr pipe")?;
    let out = std::thread::spawn(move || tee(out, std::io::stdout()));
    let err = std::thread::spawn(move || tee(err, std::io::stderr()));
    let status = child.wait().context("waiting for the command")?;
    let join = |h: std::thread::JoinHandle<std::io::Result<Vec<u8>>>| {
        h.join()
            .map_err(|_| anyhow::anyhow!("output reader panicked"))?
            .context("reading the command's output")
    };
    Ok((status, join(out)?, join(err)?))
}

/// The results in the command's output: stdout first, stderr when stdout holds none.
pub fn parse_output(format: Option<Format>, stdout: &str, stderr: &str) -> anyhow::Result<Input> {
    match format {
        Some(f) => parse_text("stdout", stdout, Some(f))
            .or_else(|e| parse_text("stderr", stderr, Some(f)).map_err(|_| e)),
        None => {
            if detect_format(stdout).is_some() {
                parse_text("stdout", stdout, None)
            } else if detect_format(stderr).is_some() {
                parse_text("stderr", stderr, None)
            } else {
                bail!("could not tell the format of the command's output (stdout or stderr); give --format")
            }
        }
    }
}

/// Returns the process exit code.
pub async fn run(args: RunArgs) -> anyhow::Result<i32> {
    let shown = args.command.join(" ");
    let command = args.command.clone();
    let (status, stdout, stderr) = tokio::task::spawn_blocking(move || execute(&command)).await??;
    if !status.success() && !args.submit_on_failure {
        eprintln!(
            "perfwatch: `{shown}` failed ({status}); nothing submitted (--submit-on-failure submits anyway)"
        );
        return Ok(status.code().filter(|c| *c != 0).unwrap_or(1));
    }
    let input = parse_output(
        args.format,
        &String::from_utf8_lossy(&stdout),
        &String::from_utf8_lossy(&stderr),
    )?;
    let merged = merge_inputs(vec![input])?;
    let env = |k: &str| std::env::var(k).ok();
    let git = discover(&args.fields.repo, &env);
    let mut run = build_run(merged, &args.fields, &git, &env)?;
    run.metadata
        .entry("command")
        .or_insert_with(|| serde_json::json!(shown));
    if !status.success() {
        run.metadata.insert(
            "command_status".into(),
            serde_json::json!(status.to_string()),
        );
    }
    submit_and_check(&args.server, &run, args.fail_on).await
}
