//! `perfwatch compare BASE HEAD --project P`: asks a server for the comparison and
//! prints a benchstat-like table (or, with `--summary`, its digest as terminal text); `--fail-on regression` exits 1 when any series
//! regressed (for CI gates).
//!
//! When BASE and HEAD are both existing files or directories, the comparison runs
//! offline on their harness output instead (`compare_offline`), with no server and no
//! `--project`.

use std::io::IsTerminal;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use perfwatch_core::comparison::{
    CompareRow, CompareSpec, ComparisonView, RowVerdict, SideSpec, SideSummary,
};
use perfwatch_core::digest::{to_terminal, view_digest};
use perfwatch_core::units::format_value;
use perfwatch_parsers::Format;

use super::compare_offline::compare_paths;
use super::ingest::parse_format;
use perfwatch_backend::comparison::CompareConfig;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Regression,
}

#[derive(Args, Clone)]
pub struct CompareArgs {
    /// Base side: commit:SHA, branch:NAME, run:ID, release:NAME, time:FROM..TO, or
    /// `default` (main branch at the merge-base of a branch HEAD). Or, offline, a
    /// harness output file or directory (then HEAD is one too).
    pub base: String,
    /// Head side, same syntax (or a file or directory).
    pub head: String,
    /// The project on the server (not used offline).
    #[arg(long)]
    pub project: Option<String>,
    #[arg(
        long,
        env = "PERFWATCH_SERVER",
        default_value = "http://127.0.0.1:3000"
    )]
    pub server: String,
    /// API token, for servers with private reads.
    #[arg(long, env = "PERFWATCH_TOKEN")]
    pub token: Option<String>,
    /// Only regressions and improvements.
    #[arg(long)]
    pub only_significant: bool,
    /// Exit with status 1 when the comparison has a regression.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Print the JSON instead of the table.
    #[arg(long, conflicts_with_all = ["csv", "markdown", "summary"])]
    pub json: bool,
    /// Print CSV (one line per series) instead of the table.
    #[arg(long, conflicts_with_all = ["markdown", "summary"])]
    pub csv: bool,
    /// Print a Markdown pull-request comment instead of the table.
    #[arg(long, conflicts_with = "summary")]
    pub markdown: bool,
    /// Print the summary (counts, the largest changes, the permalink) instead of the
    /// table: the same digest webhooks and PR comments render; coloured on a terminal.
    #[arg(long)]
    pub summary: bool,
    /// Offline: the input format (default: detected per file).
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Offline: Benjamini–Hochberg false-discovery rate across series, in (0, 1]; 1
    /// turns it off (a plain test per series, as benchstat does).
    #[arg(long, default_value_t = 0.05)]
    pub fdr_q: f64,
    /// Offline: smallest change that counts, in % (0 = any significant change).
    #[arg(long, default_value_t = 1.0)]
    pub min_change: f64,
}

// By hand: token must never reach a log line.
impl std::fmt::Debug for CompareArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompareArgs")
            .field("base", &self.base)
            .field("head", &self.head)
            .field("project", &self.project)
            .field("server", &self.server)
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .field("only_significant", &self.only_significant)
            .field("fail_on", &self.fail_on)
            .field("json", &self.json)
            .field("csv", &self.csv)
            .field("markdown", &self.markdown)
            .field("summary", &self.summary)
            .field("format", &self.format)
            .field("fdr_q", &self.fdr_q)
            .field("min_change", &self.min_change)
            .finish()
    }
}

/// Whether the arguments name two files/directories (offline) rather than sides.
pub fn is_offline(args: &CompareArgs) -> anyhow::Result<bool> {
    let (b, h) = (
        std::path::Path::new(&args.base).exists(),
        std::path::Path::new(&args.head).exists(),
    );
    match (b, h) {
        (true, true) => Ok(true),
        (false, false) => Ok(false),
        (true, false) | (false, true) => {
            let (file, other) = if b {
                (&args.base, &args.head)
            } else {
                (&args.head, &args.base)
            };
            bail!(
                "'{file}' is a file or directory but '{other}' is not: give two paths to compare \
                 offline, or two sides (commit:…, branch:…, release:…) with --project"
            )
        }
    }
}

/// Offline comparison of two paths; `Ok(true)` = fail the process.
fn run_offline(args: &CompareArgs) -> anyhow::Result<bool> {
    let cfg = CompareConfig {
        fdr_q: args.fdr_q,
        min_change: args.min_change / 100.0,
        ..Default::default()
    };
    let view = compare_paths(
        args.base.as_ref(),
        args.head.as_ref(),
        args.format,
        &cfg,
        args.only_significant,
    )?;
    print!("{}", render(args, &view, None, None)?);
    Ok(args.fail_on == Some(FailOn::Regression) && view.summary.regressions > 0)
}

/// Rows listed by `--summary`.
const SUMMARY_ROWS: usize = 10;

/// The view in the chosen output format; `permalink` is the compare page on the
/// server (none offline).
fn render(
    args: &CompareArgs,
    view: &ComparisonView,
    raw: Option<&str>,
    permalink: Option<String>,
) -> anyhow::Result<String> {
    Ok(if args.summary {
        let digest = view_digest(view, permalink, SUMMARY_ROWS);
        to_terminal(&digest, std::io::stdout().is_terminal())
    } else if args.json {
        match raw {
            Some(t) => format!("{t}\n"),
            None => serde_json::to_string_pretty(view)? + "\n",
        }
    } else if args.csv {
        crate::api::compare::to_csv(view)
    } else if args.markdown {
        crate::api::compare::to_markdown(view, permalink)
    } else {
        table(view)
    })
}

/// Runs the command; `Ok(true)` means "fail the process" (a regression under
/// `--fail-on regression`).
pub async fn run(args: CompareArgs) -> anyhow::Result<bool> {
    if is_offline(&args)? {
        return run_offline(&args);
    }
    let Some(project) = args.project.clone() else {
        bail!(
            "--project is required to compare sides on a server (or give two existing files \
             or directories to compare offline)"
        );
    };
    let base = if args.base == "default" {
        None
    } else {
        Some(SideSpec::parse(&args.base).map_err(|e| anyhow::anyhow!("BASE: {e}"))?)
    };
    let head = SideSpec::parse(&args.head).map_err(|e| anyhow::anyhow!("HEAD: {e}"))?;
    let spec = CompareSpec {
        base,
        head: Some(head),
        only_significant: args.only_significant,
        ..Default::default()
    };
    let url = format!(
        "{}/api/v1/projects/{}/compare?{}",
        args.server.trim_end_matches('/'),
        project,
        spec.to_query_string()
    );
    let mut req = reqwest::Client::new().get(&url);
    if let Some(t) = &args.token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.with_context(|| format!("GET {url}"))?;
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        bail!("the server answered {status}: {text}");
    }
    let view: ComparisonView = serde_json::from_str(&text).context("reading the comparison")?;
    let permalink = format!(
        "{}{}",
        args.server.trim_end_matches('/'),
        view.spec.page_path(&project)
    );
    let out = render(&args, &view, Some(&text), Some(permalink))?;
    print!("{out}");
    Ok(args.fail_on == Some(FailOn::Regression) && view.summary.regressions > 0)
}

fn side(s: &Option<SideSummary>, unit: &str) -> String {
    match s {
        Some(s) => {
            let half = ((s.ci_high - s.ci_low) / 2.0).abs();
            let rel = if s.median != 0.0 {
                format!(" ±{:.0}%", half / s.median.abs() * 100.0)
            } else {
                String::new()
            };
            format!("{}{rel}", format_value(s.median, unit))
        }
        None => "–".into(),
    }
}

fn row_cells(r: &CompareRow) -> [String; 6] {
    let params = if r.series.params.is_empty() {
        String::new()
    } else {
        format!(" [{}]", r.series.params)
    };
    let name = format!(
        "{}{params} {} {}",
        r.series.benchmark, r.series.measure, r.series.testbed
    )
    .trim_end()
    .to_string();
    let delta = match r.change_pct {
        Some(c) => format!("{}{:.2}%", if c >= 0.0 { "+" } else { "" }, c),
        None => "~".into(),
    };
    let p = r
        .p_adjusted
        .or(r.p_value)
        .map(|p| {
            format!(
                "p={p:.3} n={}+{}",
                r.base.map_or(0, |s| s.n),
                r.head.map_or(0, |s| s.n)
            )
        })
        .unwrap_or_default();
    let verdict = match (r.verdict, r.needed) {
        (RowVerdict::NotEnoughSamples, Some(n)) => format!("need {n}/side"),
        (v, _) => v.label().to_string(),
    };
    [
        name,
        side(&r.base, &r.series.unit),
        side(&r.head, &r.series.unit),
        delta,
        p,
        verdict,
    ]
}

/// The benchstat-like table with a summary line.
pub fn table(v: &ComparisonView) -> String {
    let header = [
        "name".to_string(),
        "base".into(),
        "head".into(),
        "delta".into(),
        "p".into(),
        "verdict".into(),
    ];
    let rows: Vec<[String; 6]> = v.rows.iter().map(row_cells).collect();
    let mut w = [0usize; 6];
    for r in std::iter::once(&header).chain(rows.iter()) {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |r: &[String; 6]| {
        let mut s = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = format!("base: {}\nhead: {}\n\n", v.base.label, v.head.label);
    out.push_str(&line(&header));
    for r in &rows {
        out.push_str(&line(r));
    }
    let s = &v.summary;
    out.push_str(&format!(
        "\n{} regressions, {} improvements, {} unchanged, {} inconclusive, {} added, {} removed",
        s.regressions, s.improvements, s.unchanged, s.inconclusive, s.added, s.removed
    ));
    if let Some(g) = s.geomean.change_pct {
        out.push_str(&format!(
            "; geomean {}{g:.2}%",
            if g >= 0.0 { "+" } else { "" }
        ));
    }
    out.push('\n');
    out
}
