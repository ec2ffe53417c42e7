//! Shared by `submit`, `run` and `import`: reading harness output into one run,
//! filling commit details from flags, git and CI variables, posting it, and checking
//! the submitted run against its baseline (`--fail-on regression`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use perfwatch_core::model::{params_key, CommitInput, RunSubmission};
use perfwatch_core::view::RunReceipt;
use perfwatch_parsers::{detect_format_with_hint, parse, parse_files, Format, Parsed};
use serde_json::json;

use super::baseline_check::print_baseline;
use super::git::GitInfo;

/// Where to submit.
#[derive(Args, Clone)]
pub struct ServerArgs {
    /// perfwatch server URL.
    #[arg(long, env = "PERFWATCH_URL", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// API token (or PERFWATCH_TOKEN).
    #[arg(long, env = "PERFWATCH_TOKEN", hide_env_values = true)]
    pub token: String,
}

// By hand: token must never reach a log line.
impl std::fmt::Debug for ServerArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerArgs")
            .field("server", &self.server)
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .finish()
    }
}

/// What the run is about; each flag wins over what files, CI variables and git say.
#[derive(Debug, Args, Clone)]
pub struct RunFields {
    /// Project slug (or PERFWATCH_PROJECT), when the file does not name one.
    #[arg(long, env = "PERFWATCH_PROJECT")]
    pub project: Option<String>,
    /// Branch (default: GITHUB_HEAD_REF, GITHUB_REF, or the checked-out git branch).
    #[arg(long)]
    pub branch: Option<String>,
    /// Testbed (default: the machine the harness names, else `default`).
    #[arg(long, env = "PERFWATCH_TESTBED")]
    pub testbed: Option<String>,
    /// Commit sha measured (default: from GITHUB_SHA or git HEAD).
    #[arg(long)]
    pub commit: Option<String>,
    /// Idempotency key (default: from GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT when set).
    #[arg(long)]
    pub run_key: Option<String>,
    /// Repository to read commit details from.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
}

/// What makes the command exit non-zero after a successful submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Some series is significantly worse than on the baseline (main branch).
    Regression,
}

/// `--format` values: the parser names (`go`, `criterion`, …) and their aliases.
pub fn parse_format(s: &str) -> Result<Format, String> {
    s.parse::<Format>().map_err(|e| e.to_string())
}

/// One parsed harness output.
#[derive(Debug, Clone)]
pub struct Input {
    /// File name (or `stdout`) used in messages.
    pub name: String,
    pub format: Format,
    pub parsed: Parsed,
    /// A full native submission keeps its project, branch, commit, … as defaults.
    pub header: Option<RunSubmission>,
}

/// Parses `text` as `format`, or as the format it looks like.
pub fn parse_text(name: &str, text: &str, format: Option<Format>) -> anyhow::Result<Input> {
    let format = match format {
        Some(f) => f,
        None => detect_format_with_hint(text, Some(name)).with_context(|| {
            format!(
                "{name}: could not tell the format; give --format (one of: {})",
                Format::ALL.map(Format::name).join(", ")
            )
        })?,
    };
    let parsed = parse(format, text).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let header = if format == Format::Native {
        serde_json::from_str::<RunSubmission>(text)
            .ok()
            .filter(|r| !r.project.is_empty())
    } else {
        None
    };
    Ok(Input {
        name: name.to_string(),
        format,
        parsed,
        header,
    })
}

/// Reads one FILE argument: a harness output file, or a Criterion output directory
/// (`target/criterion`), whose `…/new/{benchmark,estimates,sample}.json` are read.
pub fn read_input(path: &Path, format: Option<Format>) -> anyhow::Result<Input> {
    let name = path.display().to_string();
    if path.is_dir() {
        if format.is_some_and(|f| f != Format::CriterionJson) {
            bail!(
                "{name} is a directory; only criterion-json reads a directory (target/criterion)"
            );
        }
        let mut files = Vec::new();
        walk_criterion(path, path, &mut files)?;
        if files.is_empty() {
            bail!("{name}: no Criterion results (…/new/benchmark.json) under this directory");
        }
        let pairs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let parsed = parse_files(Format::CriterionJson, &pairs)
            .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
        return Ok(Input {
            name,
            format: Format::CriterionJson,
            parsed,
            header: None,
        });
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {name}"))?;
    parse_text(&name, &text, format)
}

fn walk_criterion(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk_criterion(root, &p, out)?;
            continue;
        }
        let in_new = p
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "new");
        let wanted = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "benchmark.json" | "estimates.json" | "sample.json"));
        if in_new && wanted {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            out.push((rel, text));
        }
    }
    Ok(())
}

/// Several inputs as one run.
#[derive(Debug, Clone, Default)]
pub struct Merged {
    pub parsed: Parsed,
    pub header: Option<RunSubmission>,
    pub formats: Vec<Format>,
}

/// Merges the inputs into one run; a series (benchmark × measure × parameters) in two
/// inputs is an error naming both.
pub fn merge_inputs(inputs: Vec<Input>) -> anyhow::Result<Merged> {
    let mut out = Merged::default();
    let mut seen: HashMap<(String, String, String), String> = HashMap::new();
    for input in inputs {
        for r in input.parsed.results {
            let key = (
                r.benchmark.clone(),
                r.measure.clone(),
                params_key(&r.params),
            );
            if let Some(first) = seen.get(&key) {
                let params = if key.2.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", key.2)
                };
                bail!(
                    "series {}{params} · {} is in both {first} and {}; submit them as separate runs",
                    key.0,
                    key.1,
                    input.name
                );
            }
            seen.insert(key, input.name.clone());
            out.parsed.results.push(r);
        }
        for (k, v) in input.parsed.metadata {
            out.parsed.metadata.entry(k).or_insert(v);
        }
        if out.parsed.testbed_hint.is_none() {
            out.parsed.testbed_hint = input.parsed.testbed_hint;
        }
        if out.header.is_none() {
            out.header = input.header;
        }
        if !out.formats.contains(&input.format) {
            out.formats.push(input.format);
        }
    }
    Ok(out)
}

/// Fills what the file leaves out from the flags and from git; the file wins over git,
/// flags win over both.
pub fn complete_run(mut run: RunSubmission, fields: &RunFields, git: &GitInfo) -> RunSubmission {
    if let Some(p) = &fields.project {
        run.project = p.clone();
    }
    if let Some(b) = fields
        .branch
        .clone()
        .or_else(|| run.branch.clone())
        .or_else(|| git.branch.clone())
    {
        run.branch = Some(b);
    }
    if let Some(t) = &fields.testbed {
        run.testbed = Some(t.clone());
    }
    if let Some(k) = &fields.run_key {
        run.run_key = Some(k.clone());
    }
    let sha = fields
        .commit
        .clone()
        .or_else(|| run.commit.as_ref().map(|c| c.sha.clone()))
        .or_else(|| git.sha.clone());
    if let Some(sha) = sha {
        let same_as_git = git.sha.as_deref() == Some(sha.as_str());
        let mut c = run.commit.take().unwrap_or_default();
        c.sha = sha;
        if same_as_git {
            c.parent = c.parent.or_else(|| git.parent.clone());
            c.author = c.author.or_else(|| git.author.clone());
            c.message = c.message.or_else(|| git.message.clone());
            c.time = c.time.or(git.time);
        }
        run.commit = Some(CommitInput { ..c });
    }
    run
}

/// The run to submit: parsed results, the native header if any, flags, git and CI.
pub fn build_run(
    merged: Merged,
    fields: &RunFields,
    git: &GitInfo,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<RunSubmission> {
    let formats = merged
        .formats
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(",");
    let run = match merged.header {
        Some(mut h) => {
            h.results = merged.parsed.results;
            h.metadata = merged.parsed.metadata;
            h.testbed = h.testbed.or(merged.parsed.testbed_hint);
            h
        }
        None => merged.parsed.into_submission(String::new()),
    };
    let mut run = complete_run(run, fields, git);
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if !formats.is_empty() {
        run.metadata
            .entry("format")
            .or_insert_with(|| json!(formats));
    }
    if let Some(pr) = git.pull_request {
        run.metadata.insert("pull_request".into(), json!(pr));
        run.trigger.get_or_insert_with(|| "pull_request".into());
    }
    if let Some(b) = &git.base_branch {
        run.metadata
            .entry("base_branch")
            .or_insert_with(|| json!(b));
    }
    if let (Some(server), Some(repo), Some(id)) = (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_RUN_ID"),
    ) {
        run.metadata
            .entry("ci_url")
            .or_insert_with(|| json!(format!("{server}/{repo}/actions/runs/{id}")));
        run.trigger.get_or_insert_with(|| "ci".into());
    }
    if run.run_key.is_none() {
        if let (Some(id), Some(attempt)) = (env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT")) {
            run.run_key = Some(format!(
                "gha-{id}-{attempt}-{}",
                run.testbed.clone().unwrap_or_default()
            ));
        }
    }
    if run.project.is_empty() {
        bail!(
            "no project: give --project (or PERFWATCH_PROJECT), or set \"project\" in a native file"
        );
    }
    Ok(run)
}

/// Posts a run; a 4xx answer is printed with its field errors.
pub async fn post_run(server: &ServerArgs, run: &RunSubmission) -> anyhow::Result<RunReceipt> {
    let url = format!("{}/api/v1/runs", server.server.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&server.token)
        .json(run)
        .send()
        .await
        .with_context(|| format!("posting to {url}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    if !status.is_success() {
        bail!("server answered {status}: {body}");
    }
    Ok(serde_json::from_str(&body)?)
}

/// One line saying what was stored, and the link to the run's page.
pub fn describe(run: &RunSubmission, receipt: &RunReceipt) -> String {
    let samples: usize = run.results.iter().map(|r| r.samples.len()).sum();
    let commit = run
        .commit
        .as_ref()
        .map(|c| format!(", commit {}", c.sha.get(..12).unwrap_or(&c.sha)))
        .unwrap_or_default();
    let branch = run
        .branch
        .as_ref()
        .map(|b| format!(", branch {b}"))
        .unwrap_or_default();
    format!(
        "{} run {} of {}: {} series, {} samples{branch}{commit}\n  {}",
        if receipt.duplicate {
            "already stored:"
        } else {
            "submitted"
        },
        receipt.run_id,
        run.project,
        run.results.len(),
        samples,
        receipt.url
    )
}

/// Posts the run, prints what was stored, and with `--fail-on regression` compares it
/// with its baseline. Returns the exit code.
pub async fn submit_and_check(
    server: &ServerArgs,
    run: &RunSubmission,
    fail_on: Option<FailOn>,
) -> anyhow::Result<i32> {
    let receipt = post_run(server, run).await?;
    println!("{}", describe(run, &receipt));
    match fail_on {
        None => Ok(0),
        Some(FailOn::Regression) => {
            let regressions = print_baseline(server, receipt.run_id).await?;
            Ok(i32::from(regressions > 0))
        }
    }
}

impl ServerArgs {
    /// An authenticated `GET /api/v1{path}`, decoded into the answer's own type (the
    /// one the server serialises); an answer other than 2xx is an error carrying the
    /// server's words.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        client: &reqwest::Client,
        path: &str,
    ) -> anyhow::Result<T> {
        let url = format!("{}/api/v1{path}", self.server.trim_end_matches('/'));
        let resp = client
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("reading {url}"))?;
        let status = resp.status();
        let body = resp.text().await?;
        if !status.is_success() {
            bail!("server answered {status} for {path}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("decoding the answer for {path}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, text: &str) -> Input {
        parse_text(name, text, None).unwrap()
    }

    #[test]
    fn merging_rejects_a_series_in_two_files() {
        let a = input("a.txt", "BenchmarkX-8 100 10 ns/op\n");
        let b = input("b.txt", "BenchmarkY-8 100 10 ns/op\n");
        let c = input("c.txt", "BenchmarkX-8 100 12 ns/op\n");
        let m = merge_inputs(vec![a.clone(), b]).unwrap();
        assert_eq!(m.parsed.results.len(), 2);
        let e = merge_inputs(vec![a, c]).unwrap_err().to_string();
        assert!(e.contains("a.txt") && e.contains("c.txt"), "{e}");
    }

    #[test]
    fn parse_errors_name_the_file_and_line() {
        let e = parse_text("bench.txt", "BenchmarkX-8 100 ns/op\n", Some(Format::Go))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("bench.txt: go: line 1: expected"), "{e}");
    }

    #[test]
    fn pull_request_goes_into_metadata() {
        let m = merge_inputs(vec![input("a.txt", "BenchmarkX-8 100 10 ns/op\n")]).unwrap();
        let git = GitInfo {
            sha: Some("abcdef12".into()),
            branch: Some("feature".into()),
            pull_request: Some(12),
            ..GitInfo::default()
        };
        let fields = RunFields {
            project: Some("p".into()),
            branch: None,
            testbed: None,
            commit: None,
            run_key: None,
            repo: ".".into(),
        };
        let run = build_run(m, &fields, &git, &|_| None).unwrap();
        assert_eq!(run.metadata["pull_request"], 12);
        assert_eq!(run.metadata["format"], "go");
        assert_eq!(run.branch.as_deref(), Some("feature"));
        assert_eq!(run.trigger.as_deref(), Some("pull_request"));
    }
}
