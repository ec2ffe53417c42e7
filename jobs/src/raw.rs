//! The shape of `.perfwatch.toml` as serde reads it (every value `Spanned`, unknown
//! keys refused) and the checks shared by its sections, which turn spans into errors
//! with the dotted key and the line.

use std::collections::BTreeMap;
use std::path::{Component, Path};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::definition::DefinitionError;
use crate::{duration, locate};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDef {
    pub repeats: Option<Spanned<i64>>,
    pub interleave: Option<bool>,
    pub testbed: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub build: Option<RawStep>,
    pub service: Option<RawService>,
    pub load: Option<Spanned<RawLoad>>,
    pub metrics: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub command: Spanned<String>,
    pub timeout: Option<Spanned<String>>,
    pub env: Option<BTreeMap<String, Spanned<String>>>,
    pub workdir: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawService {
    pub command: Spanned<String>,
    pub ready_url: Option<Spanned<String>>,
    pub ready_port: Option<Spanned<i64>>,
    pub ready_timeout: Option<Spanned<String>>,
    pub stop_timeout: Option<Spanned<String>>,
    pub env: Option<BTreeMap<String, Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    pub scenario: Option<Spanned<String>>,
    pub bench: Option<Spanned<String>>,
    pub format: Option<Spanned<String>>,
    pub output: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub env: Option<BTreeMap<String, Spanned<String>>>,
}

/// Turns spans into errors with lines.
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
}

impl Ctx<'_> {
    pub fn err<T>(&self, key: &str, v: &Spanned<T>, message: impl Into<String>) -> DefinitionError {
        DefinitionError {
            key: key.to_string(),
            line: Some(locate::line_of(self.text, v.span().start)),
            message: message.into(),
        }
    }

    pub fn duration(
        &self,
        key: &str,
        v: Option<&Spanned<String>>,
        default: Duration,
    ) -> Result<Duration, DefinitionError> {
        match v {
            None => Ok(default),
            Some(s) => duration::parse(s.get_ref()).map_err(|m| self.err(key, s, m)),
        }
    }

    pub fn command(&self, key: &str, v: &Spanned<String>) -> Result<String, DefinitionError> {
        let c = v.get_ref();
        if c.trim().is_empty() {
            return Err(self.err(key, v, "the command is empty"));
        }
        if c.contains('\0') {
            return Err(self.err(key, v, "the command contains a NUL character"));
        }
        Ok(c.clone())
    }

    pub fn path(&self, key: &str, v: &Spanned<String>) -> Result<String, DefinitionError> {
        check_relative(v.get_ref())
            .map(|()| v.get_ref().clone())
            .map_err(|m| self.err(key, v, m))
    }

    pub fn env(
        &self,
        key: &str,
        v: Option<&BTreeMap<String, Spanned<String>>>,
    ) -> Result<BTreeMap<String, String>, DefinitionError> {
        let mut out = BTreeMap::new();
        for (name, value) in v.into_iter().flatten() {
            let k = format!("{key}.{name}");
            let valid_name = !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(self.err(&k, value, "not a valid variable name (letters, digits, _)"));
            }
            if name == "PORT" || name.starts_with("PERFWATCH_") {
                return Err(self.err(&k, value, "PORT and PERFWATCH_* are set by the runner"));
            }
            if value.get_ref().contains('\0') {
                return Err(self.err(&k, value, "the value contains a NUL character"));
            }
            out.insert(name.clone(), value.get_ref().clone());
        }
        Ok(out)
    }
}

/// A path inside the checkout: relative, no `..`, no NUL.
fn check_relative(p: &str) -> Result<(), String> {
    if p.trim().is_empty() {
        return Err("the path is empty".into());
    }
    if p.contains('\0') {
        return Err("the path contains a NUL character".into());
    }
    for c in Path::new(p).components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err(format!("`{p}` leaves the checkout (`..`)")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "`{p}` is absolute; give a path inside the repository"
                ))
            }
        }
    }
    Ok(())
}
