//! The canonical rendering of a [`JobDefinition`] and its hash.
//!
//! The hash decides which runs are comparable, so two files that mean the same (keys
//! reordered, `90s` vs `1m30s`, defaults spelled out or not, comments) must hash alike.
//! Rendering is deterministic TOML with every key written, tables and keys sorted,
//! durations in [`duration::format`] form; it parses back to the same definition.
//!
//! The hash leaves out what cannot change a measurement: how many runs (`repeats`),
//! whether base runs in the same job (`interleave`), time limits and how readiness is
//! probed. Otherwise a pull request asking for more repeats, or a longer build timeout,
//! would turn its comparison into "not comparable".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use toml::Value;

use crate::definition::{JobDefinition, LoadStep};
use crate::duration;

impl JobDefinition {
    /// Hex SHA-256 of [`JobDefinition::canonical`] with the keys that do not affect
    /// results set to fixed values (see the module docs).
    pub fn hash(&self) -> String {
        let mut d = self.clone();
        let zero = std::time::Duration::ZERO;
        d.repeats = 1;
        d.interleave = false;
        d.timeout = zero;
        if let Some(b) = &mut d.build {
            b.timeout = zero;
        }
        if let Some(s) = &mut d.service {
            s.ready_url = None;
            s.ready_port = None;
            s.ready_timeout = zero;
            s.stop_timeout = zero;
        }
        match &mut d.load {
            LoadStep::Scenario { timeout, .. } | LoadStep::Bench { timeout, .. } => *timeout = zero,
        }
        hex::encode(Sha256::digest(d.canonical().as_bytes()))
    }

    /// The canonical TOML text of this definition (see the module docs).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        line(&mut out, "interleave", &Value::Boolean(self.interleave));
        line(
            &mut out,
            "repeats",
            &Value::Integer(i64::from(self.repeats)),
        );
        if let Some(t) = &self.testbed {
            line(&mut out, "testbed", &Value::String(t.clone()));
        }
        dur(&mut out, "timeout", self.timeout);
        if let Some(b) = &self.build {
            out.push_str("\n[build]\n");
            line(&mut out, "command", &Value::String(b.command.clone()));
            env(&mut out, &b.env);
            dur(&mut out, "timeout", b.timeout);
            if let Some(w) = &b.workdir {
                line(&mut out, "workdir", &Value::String(w.clone()));
            }
        }
        out.push_str("\n[load]\n");
        match &self.load {
            LoadStep::Scenario { path, timeout } => {
                line(&mut out, "scenario", &Value::String(path.clone()));
                dur(&mut out, "timeout", *timeout);
            }
            LoadStep::Bench {
                command,
                format,
                output,
                timeout,
                env: e,
            } => {
                line(&mut out, "bench", &Value::String(command.clone()));
                env(&mut out, e);
                if let Some(f) = format {
                    line(&mut out, "format", &Value::String(f.clone()));
                }
                if let Some(o) = output {
                    line(&mut out, "output", &Value::String(o.clone()));
                }
                dur(&mut out, "timeout", *timeout);
            }
        }
        if let Some(m) = &self.metrics {
            out.push_str("\n[metrics]\n");
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            for (k, v) in sorted {
                line(&mut out, k, v);
            }
        }
        if let Some(s) = &self.service {
            out.push_str("\n[service]\n");
            line(&mut out, "command", &Value::String(s.command.clone()));
            env(&mut out, &s.env);
            if let Some(p) = s.ready_port {
                line(&mut out, "ready_port", &Value::Integer(i64::from(p)));
            }
            dur(&mut out, "ready_timeout", s.ready_timeout);
            if let Some(u) = &s.ready_url {
                line(&mut out, "ready_url", &Value::String(u.clone()));
            }
            dur(&mut out, "stop_timeout", s.stop_timeout);
        }
        out
    }
}

fn line(out: &mut String, key: &str, v: &Value) {
    out.push_str(&quote(key));
    out.push_str(" = ");
    value(out, v);
    out.push('\n');
}

fn dur(out: &mut String, key: &str, d: std::time::Duration) {
    line(out, key, &Value::String(duration::format(d)));
}

fn env(out: &mut String, env: &BTreeMap<String, String>) {
    let t: toml::Table = env
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    line(out, "env", &Value::Table(t));
}

/// One value, inline; tables with sorted keys.
fn value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => out.push_str(&quote(s)),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => out.push_str(&float(*f)),
        Value::Boolean(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Datetime(d) => {
            let _ = write!(out, "{d}");
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, x);
            }
            out.push(']');
        }
        Value::Table(t) => {
            out.push('{');
            let sorted: BTreeMap<&String, &Value> = t.iter().collect();
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                out.push_str(&quote(k));
                out.push_str(" = ");
                value(out, x);
            }
            out.push_str(if t.is_empty() { "}" } else { " }" });
        }
    }
}

/// A float that reads back bit-for-bit: Rust's shortest round-trip digits, with `.0`
/// so TOML sees a float, and TOML's spellings of the specials.
fn float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let s = format!("{f:?}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// A TOML basic string; control characters escaped so the line structure holds.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
