//! Reading a scenario file: TOML into [`raw`] types, then checked into [`model`]
//! types. Every error names the line and the dotted key.

mod load;
mod locate;
pub mod model;
mod raw;
mod steps;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Spanned;

pub use model::*;
use raw::*;

use crate::taxonomy::{Taxonomy, UserRule, BUILTIN_CLASSES};
use crate::template::BUILTIN_VARS;
use crate::threshold::{parse_threshold, Threshold};
use crate::units::{parse_duration, parse_quantity, Quantity};
use crate::validity::Gate;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub line: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, key `{}`: {}",
            self.line, self.key, self.message
        )
    }
}

impl std::error::Error for ScenarioError {}

pub(crate) struct Ctx<'a> {
    src: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            line: locate::line_of(self.src, span.start),
            key: key.into(),
            message: message.into(),
        }
    }
    fn duration(&self, v: &Spanned<String>, key: &str) -> Result<Duration, ScenarioError> {
        parse_duration(v.get_ref()).map_err(|m| self.err(v.span(), key, m))
    }
}

/// `[validity]`: percentages in (0, 100], a lag as a duration.
fn check_validity(c: &Ctx, v: &RawValidity) -> Result<Gate, ScenarioError> {
    let mut gate = Gate::default();
    let percent = |s: &Spanned<String>, key: &str| match parse_quantity(s.get_ref()) {
        Ok(Quantity::Percent(p)) if p > 0.0 && p <= 100.0 => Ok(p),
        _ => Err(c.err(s.span(), key, "a percentage from 0 to 100, e.g. `80%`")),
    };
    if let Some(s) = &v.max_generator_cpu {
        gate.max_generator_cpu = percent(s, "validity.max_generator_cpu")?;
    }
    if let Some(s) = &v.min_rate {
        gate.min_rate_share = percent(s, "validity.min_rate")? / 100.0;
    }
    if let Some(s) = &v.max_lag_p99 {
        gate.max_lag_p99_ms = c.duration(s, "validity.max_lag_p99")?.as_secs_f64() * 1e3;
    }
    Ok(gate)
}

/// Parses and checks a scenario.
pub fn parse(src: &str) -> Result<Scenario, ScenarioError> {
    let raw = read_toml(src)?;
    let c = Ctx { src };
    let run = check_run(&c, &raw.run)?;
    let (load, duration) = load::check_load(&c, &raw.load, raw.run.duration.as_ref(), run.warmup)?;
    let taxonomy = check_errors(&c, &raw.errors)?;
    let thresholds = parse_thresholds(&c, &raw.thresholds)?;
    let driver = check_driver(&c, raw.driver.as_ref())?;
    let vars: Vec<(String, String)> = raw.run.vars.clone().into_iter().collect();
    let mut known: HashSet<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
    known.extend(vars.iter().map(|(k, _)| k.clone()));
    let flows = steps::check_flows(
        &c,
        &raw.flow,
        &known,
        raw.feeder.is_some(),
        driver.is_some(),
    )?;
    check_threshold_ops(&c, &thresholds, &raw.thresholds, &flows)?;
    let sut = raw.sut.as_ref().map(|s| check_sut(&c, s)).transpose()?;
    let validity = match &raw.validity {
        Some(v) => check_validity(&c, v)?,
        None => Gate::default(),
    };
    Ok(Scenario {
        name: run.name,
        base_url: run.base_url,
        duration,
        warmup: run.warmup,
        seed: raw.run.seed.unwrap_or(0),
        version_url: run.version_url,
        timeout: run.timeout,
        vars,
        load,
        flows,
        taxonomy,
        thresholds,
        sut,
        feeder: raw.feeder.as_ref().map(|f| f.csv.get_ref().into()),
        driver,
        validity,
        hash: hex::encode(Sha256::digest(src.as_bytes())),
    })
}

/// The TOML read into the raw tables; a syntax or type error names its line and key.
fn read_toml(src: &str) -> Result<RawScenario, ScenarioError> {
    toml::from_str(src).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ScenarioError {
            line: locate::line_of(src, span.start),
            key: locate::key_at(src, span.start),
            message: e.message().to_string(),
        }
    })
}

/// The `[run]` keys checked here (its duration goes with `[load]`).
struct RunPart {
    name: String,
    base_url: String,
    warmup: Duration,
    timeout: Duration,
    version_url: Option<String>,
}

fn check_run(c: &Ctx, run: &RawRun) -> Result<RunPart, ScenarioError> {
    let name = run.name.get_ref().trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(c.err(run.name.span(), "run.name", "must be 1 to 100 characters"));
    }
    let base_url = check_base_url(c, &run.base_url, &run.allow_hosts)?;
    let warmup = match &run.warmup {
        Some(w) => c.duration(w, "run.warmup")?,
        None => Duration::ZERO,
    };
    let timeout = match &run.timeout {
        Some(t) => c.duration(t, "run.timeout")?,
        None => Duration::from_secs(10),
    };
    if timeout.is_zero() {
        let t = run.timeout.as_ref().map(|t| t.span()).unwrap_or(0..0);
        return Err(c.err(t, "run.timeout", "must be longer than 0"));
    }
    let version_url = match &run.version_url {
        Some(v) => Some(check_path(c, v, "run.version_url")?),
        None => None,
    };
    Ok(RunPart {
        name,
        base_url,
        warmup,
        timeout,
        version_url,
    })
}

fn check_driver(c: &Ctx, d: Option<&RawDriver>) -> Result<Option<Vec<String>>, ScenarioError> {
    match d {
        Some(d) if d.command.get_ref().is_empty() => Err(c.err(
            d.command.span(),
            "driver.command",
            "needs the program and its arguments",
        )),
        Some(d) => Ok(Some(d.command.get_ref().clone())),
        None => Ok(None),
    }
}

fn parse_thresholds(
    c: &Ctx,
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
) -> Result<Vec<Threshold>, ScenarioError> {
    raw.iter()
        .map(|(k, v)| {
            parse_threshold(k.get_ref(), v.get_ref())
                .map_err(|m| c.err(v.span(), format!("thresholds.\"{}\"", k.get_ref()), m))
        })
        .collect()
}

/// Each threshold's op is one that a step has (or `*`).
fn check_threshold_ops(
    c: &Ctx,
    thresholds: &[Threshold],
    raw: &BTreeMap<Spanned<String>, Spanned<String>>,
    flows: &[Flow],
) -> Result<(), ScenarioError> {
    let op_set: HashSet<&str> = flows
        .iter()
        .flat_map(|f| f.steps.iter().map(|s| s.op.as_str()))
        .collect();
    for (t, (k, _)) in thresholds.iter().zip(raw) {
        if t.op != "*" && !op_set.contains(t.op.as_str()) {
            return Err(c.err(
                k.span(),
                format!("thresholds.\"{}\"", t.key),
                format!("no step has op `{}`", t.op),
            ));
        }
    }
    Ok(())
}

fn check_base_url(c: &Ctx, v: &Spanned<String>, allow: &[String]) -> Result<String, ScenarioError> {
    let key = "run.base_url";
    let url = url::Url::parse(v.get_ref())
        .map_err(|e| c.err(v.span(), key, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(c.err(v.span(), key, "must start with http:// or https://"));
    }
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_matches(|c| c == '[' || c == ']')
        .to_string();
    let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback && !allow.iter().any(|a| a.eq_ignore_ascii_case(&host)) {
        return Err(c.err(
            v.span(),
            key,
            format!("host `{host}` is not loopback; list it in run.allow_hosts to load-test it on purpose"),
        ));
    }
    if url.path() != "/" || url.query().is_some() {
        return Err(c.err(
            v.span(),
            key,
            "give scheme, host and port only; paths go in the steps",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn check_path(c: &Ctx, v: &Spanned<String>, key: &str) -> Result<String, ScenarioError> {
    if v.get_ref().starts_with('/') {
        Ok(v.get_ref().clone())
    } else {
        Err(c.err(
            v.span(),
            key,
            "must be a path starting with `/` (the host is run.base_url)",
        ))
    }
}

fn check_errors(
    c: &Ctx,
    rules: &std::collections::BTreeMap<Spanned<String>, RawErrorRule>,
) -> Result<Taxonomy, ScenarioError> {
    let mut out = Taxonomy::default();
    for (name, r) in rules {
        let n = name.get_ref();
        let key = format!("errors.{n}");
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(c.err(name.span(), key, "class names are letters, digits and _"));
        }
        if r.status.is_empty() && r.message.is_none() {
            return Err(c.err(
                name.span(),
                key,
                "give `status = [..]` or `message = \"..\"`",
            ));
        }
        if let Some(s) = r.status.iter().find(|s| !(100..=599).contains(*s)) {
            return Err(c.err(name.span(), key, format!("{s} is not an HTTP status")));
        }
        out.rules.push(UserRule {
            class: n.clone(),
            status: r.status.clone(),
            message: r.message.clone(),
        });
    }
    debug_assert!(BUILTIN_CLASSES.contains(&"other"));
    Ok(out)
}

fn check_sut(c: &Ctx, s: &Spanned<RawSut>) -> Result<SutTarget, ScenarioError> {
    let r = s.get_ref();
    let children = r.children.unwrap_or(true);
    let given = [
        r.pid.is_some(),
        r.pid_file.is_some(),
        r.process.is_some(),
        r.cgroup.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(c.err(
            s.span(),
            "sut",
            "give exactly one of pid, pid_file, process, cgroup",
        ));
    }
    Ok(if let Some(pid) = r.pid {
        if pid <= 0 {
            return Err(c.err(s.span(), "sut.pid", "must be a positive process id"));
        }
        SutTarget::Pid { pid, children }
    } else if let Some(p) = &r.pid_file {
        SutTarget::PidFile {
            path: p.into(),
            children,
        }
    } else if let Some(p) = &r.process {
        SutTarget::Process(p.clone())
    } else {
        SutTarget::Cgroup(r.cgroup.clone().unwrap_or_default().into())
    })
}

#[cfg(test)]
mod tests;
