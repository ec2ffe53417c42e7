//! Checking flows and their steps: methods, paths, templates whose variables an
//! earlier step sets, expectations, extraction and repeats.

use std::collections::HashSet;

use toml::Spanned;

use super::raw::{RawFlow, RawStep};
use super::{Ctx, Flow, ScenarioError, Step, StepKind};
use crate::template::{Template, BUILTIN_VARS};

pub(super) fn check_flows(
    c: &Ctx,
    flows: &[RawFlow],
    known: &HashSet<String>,
    has_feeder: bool,
    has_driver: bool,
) -> Result<Vec<Flow>, ScenarioError> {
    if flows.is_empty() {
        return Err(ScenarioError {
            line: 1,
            key: "flow".into(),
            message: "no [[flow]]: give at least one".into(),
        });
    }
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for (fi, f) in flows.iter().enumerate() {
        let name = f.name.get_ref().clone();
        if !names.insert(name.clone()) {
            return Err(c.err(
                f.name.span(),
                format!("flow[{fi}].name"),
                format!("flow `{name}` is defined twice"),
            ));
        }
        let weight = match &f.weight {
            Some(w) if !(0..=1_000_000).contains(w.get_ref()) => {
                return Err(c.err(
                    w.span(),
                    format!("flow[{fi}].weight"),
                    "must be 0 to 1,000,000",
                ))
            }
            Some(w) => *w.get_ref() as u32,
            None => 1,
        };
        if f.steps.is_empty() {
            return Err(c.err(
                f.name.span(),
                format!("flow[{fi}].steps"),
                "a flow needs at least one step",
            ));
        }
        let mut vars = known.clone();
        let mut steps = Vec::new();
        for (si, s) in f.steps.iter().enumerate() {
            let step = check_step(
                c,
                s,
                &format!("flow[{fi}].steps[{si}]"),
                &vars,
                has_feeder,
                has_driver,
            )?;
            vars.extend(step.extract.iter().map(|(v, _)| v.clone()));
            steps.push(step);
        }
        out.push(Flow {
            name,
            weight,
            steps,
        });
    }
    if out.iter().all(|f| f.weight == 0) {
        return Err(c.err(
            flows[0].name.span(),
            "flow[0].weight",
            "at least one flow needs a weight above 0",
        ));
    }
    Ok(out)
}

/// What checking one step's keys needs: where it is and which variables are set.
struct StepCtx<'a> {
    c: &'a Ctx<'a>,
    span: std::ops::Range<usize>,
    key: &'a str,
    vars: &'a HashSet<String>,
    has_feeder: bool,
}

impl StepCtx<'_> {
    fn err(&self, k: &str, m: String) -> ScenarioError {
        self.c
            .err(self.span.clone(), format!("{}.{k}", self.key), m)
    }

    /// A template whose variables are all set before the step runs.
    fn tpl(&self, k: &str, text: &str) -> Result<Template, ScenarioError> {
        let t = Template::parse(text).map_err(|m| self.err(k, m))?;
        // Feeder columns are checked when the CSV is opened.
        if !self.has_feeder {
            if let Some(v) = t.vars().find(|v| !self.vars.contains(*v)) {
                return Err(self.err(
                    k,
                    format!("variable `{v}` is not set by an earlier step's extract, run.vars or the built-ins ({})", BUILTIN_VARS.join(", ")),
                ));
            }
        }
        Ok(t)
    }
}

fn check_step(
    c: &Ctx,
    s: &Spanned<RawStep>,
    key: &str,
    vars: &HashSet<String>,
    has_feeder: bool,
    has_driver: bool,
) -> Result<Step, ScenarioError> {
    let r = s.get_ref();
    let sc = StepCtx {
        c,
        span: s.span(),
        key,
        vars,
        has_feeder,
    };
    if r.op.is_empty()
        || !r
            .op
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(sc.err("op", "operation names are letters, digits, _ and -".into()));
    }
    let kind = match (&r.method, &r.path) {
        (Some(m), Some(p)) => http_kind(&sc, r, m, p)?,
        (None, None) if !has_driver => {
            return Err(sc.err("method", "an HTTP step needs `method` and `path`; without them the step goes to [driver], which is not set".into()));
        }
        (None, None) => driver_kind(&sc, r)?,
        (Some(_), None) => return Err(sc.err("path", "an HTTP step needs `path`".into())),
        (None, Some(_)) => return Err(sc.err("method", "an HTTP step needs `method`".into())),
    };
    if let Some(bad) = r
        .expect_status
        .iter()
        .flatten()
        .find(|s| !(100..=599).contains(*s))
    {
        return Err(sc.err("expect_status", format!("{bad} is not an HTTP status")));
    }
    let repeat = match r.repeat {
        Some(n) if !(1..=10_000).contains(&n) => {
            return Err(sc.err("repeat", "must be 1 to 10,000".into()))
        }
        Some(n) => n as u32,
        None => 1,
    };
    Ok(Step {
        op: r.op.clone(),
        kind,
        expect_status: r.expect_status.clone().unwrap_or_default(),
        extract: check_extract(&sc, r)?,
        repeat,
    })
}

fn http_kind(sc: &StepCtx<'_>, r: &RawStep, m: &str, p: &str) -> Result<StepKind, ScenarioError> {
    let method = reqwest::Method::from_bytes(m.to_ascii_uppercase().as_bytes())
        .map_err(|_| sc.err("method", format!("`{m}` is not an HTTP method")))?;
    if !p.starts_with('/') {
        return Err(sc.err(
            "path",
            "must start with `/` (the host is run.base_url)".into(),
        ));
    }
    let mut headers = Vec::new();
    for (h, v) in &r.headers {
        reqwest::header::HeaderName::from_bytes(h.as_bytes())
            .map_err(|_| sc.err("headers", format!("`{h}` is not a header name")))?;
        headers.push((h.clone(), sc.tpl("headers", v)?));
    }
    Ok(StepKind::Http {
        method,
        path: sc.tpl("path", p)?,
        headers,
        body: r.body.as_deref().map(|b| sc.tpl("body", b)).transpose()?,
        bearer: r
            .bearer
            .as_deref()
            .map(|b| sc.tpl("bearer", b))
            .transpose()?,
    })
}

/// A step without method and path goes to the external driver with its `vars`.
fn driver_kind(sc: &StepCtx<'_>, r: &RawStep) -> Result<StepKind, ScenarioError> {
    if r.body.is_some() || r.bearer.is_some() || !r.headers.is_empty() {
        return Err(sc.err("body", "driver steps take `vars`, not HTTP fields".into()));
    }
    let mut dv = Vec::new();
    for (k, v) in &r.vars {
        dv.push((k.clone(), sc.tpl("vars", v)?));
    }
    Ok(StepKind::Driver { vars: dv })
}

fn check_extract(sc: &StepCtx<'_>, r: &RawStep) -> Result<Vec<(String, String)>, ScenarioError> {
    let mut extract = Vec::new();
    for (var, path) in &r.extract {
        if path.is_empty() {
            return Err(sc.err(
                "extract",
                format!("`{var}` needs a path into the JSON answer"),
            ));
        }
        extract.push((var.clone(), path.clone()));
    }
    Ok(extract)
}
