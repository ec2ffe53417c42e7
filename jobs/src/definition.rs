//! The job definition, `.perfwatch.toml`: what a worker runs for one commit (build,
//! service, load, metrics, repeats). See docs/jobs-definition.md for the reference.
//!
//! Parsing goes through serde structs whose values are `toml::Spanned`, so every error,
//! syntactic or semantic, names the dotted key and the 1-based line.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use toml::Spanned;

use crate::locate;
use crate::raw::{Ctx, RawDef, RawLoad, RawService, RawStep};

/// Default for `timeout` at the top level: the whole job.
pub const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Default for `build.timeout` and `load.timeout`.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// Default for `service.ready_timeout`.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Default for `service.stop_timeout`.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest `repeats`.
pub const MAX_REPEATS: u32 = 50;

/// A parsed and checked `.perfwatch.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct JobDefinition {
    /// Runs per side, 1..=50 (default 1).
    pub repeats: u32,
    /// Run the base commit in the same job, alternating with head.
    pub interleave: bool,
    /// Machine class the results belong to; results of different testbeds never compare.
    pub testbed: Option<String>,
    pub build: Option<Step>,
    pub service: Option<ServiceStep>,
    pub load: LoadStep,
    /// The raw `[metrics]` table; another crate interprets it.
    pub metrics: Option<toml::Table>,
    /// Bound on the whole job (default 30m).
    pub timeout: Duration,
}

/// A command run to completion (`[build]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub command: String,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    /// Relative to the checkout; never escapes it.
    pub workdir: Option<String>,
}

/// The service under test (`[service]`): started before and stopped after every load.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceStep {
    pub command: String,
    /// `http(s)://…`, may contain `${PORT}`; ready when it answers 2xx.
    pub ready_url: Option<String>,
    /// Ready when 127.0.0.1:ready_port accepts a connection.
    pub ready_port: Option<u16>,
    pub ready_timeout: Duration,
    /// SIGTERM to the process group, SIGKILL after this.
    pub stop_timeout: Duration,
    pub env: BTreeMap<String, String>,
}

/// What produces the results (`[load]`).
#[derive(Debug, Clone, PartialEq)]
pub enum LoadStep {
    /// A perfwatch-loadgen scenario file in the repository.
    Scenario { path: String, timeout: Duration },
    /// Any command whose output a perfwatch-parsers format reads.
    Bench {
        command: String,
        /// A perfwatch-parsers format name; detected from the output when absent.
        format: Option<String>,
        /// File the command writes (relative to the checkout); stdout when absent.
        output: Option<String>,
        timeout: Duration,
        env: BTreeMap<String, String>,
    },
}

impl LoadStep {
    /// The step's time limit.
    pub fn timeout(&self) -> Duration {
        match self {
            LoadStep::Scenario { timeout, .. } | LoadStep::Bench { timeout, .. } => *timeout,
        }
    }
}

/// Why a definition was refused: the dotted key, the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DefinitionError {
    /// Dotted key, e.g. `service.ready_url`; empty when no key applies.
    pub key: String,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.key.is_empty()) {
            (Some(l), false) => write!(f, "line {l}, key {}: {}", self.key, self.message),
            (Some(l), true) => write!(f, "line {l}: {}", self.message),
            (None, false) => write!(f, "key {}: {}", self.key, self.message),
            (None, true) => f.write_str(&self.message),
        }
    }
}

impl DefinitionError {
    /// An error not tied to a place in a file (e.g. "no definition at all").
    pub fn general(key: &str, message: impl Into<String>) -> Self {
        DefinitionError {
            key: key.to_string(),
            line: None,
            message: message.into(),
        }
    }
}

/// Parses and checks a `.perfwatch.toml`. Unknown keys are errors.
pub fn parse(text: &str) -> Result<JobDefinition, DefinitionError> {
    let raw: RawDef = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start);
        DefinitionError {
            key: at.map(|o| locate::key_at(text, o)).unwrap_or_default(),
            line: at.map(|o| locate::line_of(text, o)),
            message: e.message().trim().to_string(),
        }
    })?;
    let c = Ctx { text };
    let repeats = match &raw.repeats {
        None => 1,
        Some(r) => match u32::try_from(*r.get_ref()) {
            Ok(n) if (1..=MAX_REPEATS).contains(&n) => n,
            _ => {
                return Err(c.err(
                    "repeats",
                    r,
                    format!("{} is out of range; give 1 to {MAX_REPEATS}", r.get_ref()),
                ))
            }
        },
    };
    let testbed = match &raw.testbed {
        None => None,
        Some(t) if t.get_ref().trim().is_empty() => {
            return Err(c.err(
                "testbed",
                t,
                "the testbed is empty; leave the key out instead",
            ))
        }
        Some(t) => Some(t.get_ref().trim().to_string()),
    };
    let timeout = c.duration("timeout", raw.timeout.as_ref(), DEFAULT_JOB_TIMEOUT)?;
    let build = raw.build.as_ref().map(|b| build(&c, b)).transpose()?;
    let service = raw.service.as_ref().map(|s| service(&c, s)).transpose()?;
    let Some(load_raw) = &raw.load else {
        return Err(DefinitionError::general(
            "load",
            "missing [load]: give `scenario = \"path.toml\"` or `bench = \"command\"`",
        ));
    };
    Ok(JobDefinition {
        repeats,
        interleave: raw.interleave.unwrap_or(false),
        testbed,
        build,
        service,
        load: load(&c, load_raw)?,
        metrics: raw.metrics,
        timeout,
    })
}

fn build(c: &Ctx<'_>, b: &RawStep) -> Result<Step, DefinitionError> {
    Ok(Step {
        command: c.command("build.command", &b.command)?,
        timeout: c.duration("build.timeout", b.timeout.as_ref(), DEFAULT_STEP_TIMEOUT)?,
        env: c.env("build.env", b.env.as_ref())?,
        workdir: b
            .workdir
            .as_ref()
            .map(|w| c.path("build.workdir", w))
            .transpose()?,
    })
}

fn service(c: &Ctx<'_>, s: &RawService) -> Result<ServiceStep, DefinitionError> {
    let ready_url = match &s.ready_url {
        None => None,
        Some(u) => {
            let t = u.get_ref();
            let scheme_ok = t.starts_with("http://") || t.starts_with("https://");
            if !scheme_ok || t.chars().any(char::is_whitespace) {
                return Err(c.err(
                    "service.ready_url",
                    u,
                    format!("`{t}` is not an http(s) URL; write e.g. `http://127.0.0.1:${{PORT}}/health`"),
                ));
            }
            Some(t.clone())
        }
    };
    let ready_port = match &s.ready_port {
        None => None,
        Some(p) => match u16::try_from(*p.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(c.err(
                    "service.ready_port",
                    p,
                    format!("{} is not a TCP port (1 to 65535)", p.get_ref()),
                ))
            }
        },
    };
    if ready_url.is_some() == ready_port.is_some() {
        return Err(c.err(
            "service",
            &s.command,
            "give exactly one readiness probe: `ready_url` or `ready_port`",
        ));
    }
    Ok(ServiceStep {
        command: c.command("service.command", &s.command)?,
        ready_url,
        ready_port,
        ready_timeout: c.duration(
            "service.ready_timeout",
            s.ready_timeout.as_ref(),
            DEFAULT_READY_TIMEOUT,
        )?,
        stop_timeout: c.duration(
            "service.stop_timeout",
            s.stop_timeout.as_ref(),
            DEFAULT_STOP_TIMEOUT,
        )?,
        env: c.env("service.env", s.env.as_ref())?,
    })
}

fn load(c: &Ctx<'_>, l: &Spanned<RawLoad>) -> Result<LoadStep, DefinitionError> {
    let r = l.get_ref();
    let timeout = c.duration("load.timeout", r.timeout.as_ref(), DEFAULT_STEP_TIMEOUT)?;
    match (&r.scenario, &r.bench) {
        (Some(path), None) => {
            let bench_only = [("load.format", &r.format), ("load.output", &r.output)];
            if let Some((key, v)) = bench_only
                .iter()
                .find_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            {
                return Err(c.err(key, v, "applies only to `bench`, not to `scenario`"));
            }
            if let Some((_, v)) = r.env.as_ref().and_then(|e| e.iter().next()) {
                return Err(c.err(
                    "load.env",
                    v,
                    "applies only to `bench`; a scenario sets its own variables",
                ));
            }
            Ok(LoadStep::Scenario {
                path: c.path("load.scenario", path)?,
                timeout,
            })
        }
        (None, Some(cmd)) => {
            let format = match &r.format {
                None => None,
                Some(f) => {
                    // Stored under its canonical name so aliases (`gotest`, `go`) hash alike.
                    let fmt = f
                        .get_ref()
                        .parse::<perfwatch_parsers::Format>()
                        .map_err(|e| c.err("load.format", f, e.to_string()))?;
                    Some(fmt.name().to_string())
                }
            };
            Ok(LoadStep::Bench {
                command: c.command("load.bench", cmd)?,
                format,
                output: r
                    .output
                    .as_ref()
                    .map(|o| c.path("load.output", o))
                    .transpose()?,
                timeout,
                env: c.env("load.env", r.env.as_ref())?,
            })
        }
        (Some(_), Some(b)) => Err(c.err("load.bench", b, "give `scenario` or `bench`, not both")),
        (None, None) => Err(c.err(
            "load",
            l,
            "give `scenario = \"path.toml\"` (built-in load runner) or `bench = \"command\"`",
        )),
    }
}
