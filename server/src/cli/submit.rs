//! `perfwatch submit [--format F] FILE…`: parse harness output files (or a native run
//! file, or a `target/criterion` directory), merge them into one run, fill branch and
//! commit from flags, CI variables and git, and post it.

use std::path::PathBuf;

use clap::Args;
use perfwatch_parsers::Format;

use super::git::discover;
use super::ingest::{
    build_run, merge_inputs, parse_format, read_input, submit_and_check, FailOn, RunFields,
    ServerArgs,
};

#[derive(Debug, Args, Clone)]
pub struct SubmitArgs {
    /// Result files, or a Criterion output directory (`target/criterion`); several
    /// files make one run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Input format (default: detected per file): go, go-json, libtest, criterion,
    /// criterion-json, gbench, gbench-console, pytest, hyperfine, jmh, catch2-xml, catch2,
    /// k6, bdn, bmf, vitest, benchmarkjs, asv, ruby, dart, julia, iai, gungraun, dhat,
    /// locust, oha, vegeta, goose, native (docs/ingest-formats.md).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub fields: RunFields,
    /// Exit with status 1 when the run regresses against its baseline on main.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
}

/// Returns the process exit code.
pub async fn run(args: SubmitArgs) -> anyhow::Result<i32> {
    let inputs = args
        .files
        .iter()
        .map(|f| read_input(f, args.format))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let merged = merge_inputs(inputs)?;
    let env = |k: &str| std::env::var(k).ok();
    let git = discover(&args.fields.repo, &env);
    let run = build_run(merged, &args.fields, &git, &env)?;
    submit_and_check(&args.server, &run, args.fail_on).await
}
