//! One flow iteration's variables. Built once per iteration, so it must be cheap: the
//! built-ins stay numbers until a template reads them, `run.vars` and the feeder row
//! are borrowed from the scenario, and the handful of values steps extract sit in a
//! vector searched linearly. (A `HashMap<String, String>` filled per iteration — eight
//! allocations and SipHash — was a visible share of the generator's CPU per request.)
//!
//! Precedence, lowest first: `run.vars`, the feeder row, the built-ins, then values
//! extracted by earlier steps (a later extraction replaces an earlier one).

use std::fmt::Write as _;

/// Where a template finds its variables.
pub trait Lookup {
    /// Appends the value of `name` to `out`; false when it has none.
    fn append(&self, name: &str, out: &mut String) -> bool;
}

impl<S: std::hash::BuildHasher> Lookup for std::collections::HashMap<String, String, S> {
    fn append(&self, name: &str, out: &mut String) -> bool {
        match self.get(name) {
            Some(v) => {
                out.push_str(v);
                true
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Vars<'a> {
    vu: u64,
    iter: u64,
    seq: u64,
    flow: &'a str,
    /// `run.vars` then the feeder row; searched from the end so the row wins.
    base: Vec<(&'a str, &'a str)>,
    /// Set by steps, in the order first set.
    set: Vec<(String, String)>,
}

impl<'a> Vars<'a> {
    pub fn new(vu: u64, iter: u64, seq: u64, flow: &'a str) -> Self {
        Self {
            vu,
            iter,
            seq,
            flow,
            base: Vec::new(),
            set: Vec::new(),
        }
    }

    /// Adds scenario-level values (`run.vars`, then the feeder row).
    pub fn extend_base(&mut self, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
        self.base.extend(pairs);
    }

    /// Sets a value extracted by a step (or answered by the driver).
    pub fn set(&mut self, name: String, value: String) {
        match self.set.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.set.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<String> {
        let mut out = String::new();
        self.append(name, &mut out).then_some(out)
    }

    fn builtin(&self, name: &str, out: &mut String) -> bool {
        let n = match name {
            "vu" => self.vu,
            "iter" => self.iter,
            "seq" => self.seq,
            "flow" => {
                out.push_str(self.flow);
                return true;
            }
            _ => return false,
        };
        let _ = write!(out, "{n}");
        true
    }

    /// Every variable with its value, each name once, as a template would see it.
    pub fn all(&self) -> Vec<(String, String)> {
        let mut names: Vec<&str> = crate::template::BUILTIN_VARS.to_vec();
        for (k, _) in &self.base {
            if !names.contains(k) {
                names.push(k);
            }
        }
        for (k, _) in &self.set {
            if !names.contains(&k.as_str()) {
                names.push(k);
            }
        }
        names
            .into_iter()
            .filter_map(|n| self.get(n).map(|v| (n.to_string(), v)))
            .collect()
    }
}

impl Lookup for Vars<'_> {
    fn append(&self, name: &str, out: &mut String) -> bool {
        if let Some((_, v)) = self.set.iter().find(|(k, _)| k == name) {
            out.push_str(v);
            return true;
        }
        if self.builtin(name, out) {
            return true;
        }
        match self.base.iter().rev().find(|(k, _)| *k == name) {
            Some((_, v)) => {
                out.push_str(v);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_sources_win_and_builtins_are_formatted_on_demand() {
        let mut v = Vars::new(3, 17, 99, "join");
        v.extend_base([("host", "a"), ("vu", "from-run-vars")]);
        v.extend_base([("host", "b")]);
        assert_eq!(v.get("host").as_deref(), Some("b"), "the feeder row wins");
        assert_eq!(
            v.get("vu").as_deref(),
            Some("3"),
            "built-ins win over run.vars"
        );
        assert_eq!(v.get("iter").as_deref(), Some("17"));
        assert_eq!(v.get("seq").as_deref(), Some("99"));
        assert_eq!(v.get("flow").as_deref(), Some("join"));
        assert_eq!(v.get("gid"), None);
        v.set("gid".into(), "7".into());
        v.set("vu".into(), "extracted".into());
        v.set("gid".into(), "8".into());
        assert_eq!(
            v.get("gid").as_deref(),
            Some("8"),
            "a later extraction replaces"
        );
        assert_eq!(v.get("vu").as_deref(), Some("extracted"));
        let mut all = v.all();
        all.sort();
        assert_eq!(
            all,
            [
                ("flow", "join"),
                ("gid", "8"),
                ("host", "b"),
                ("iter", "17"),
                ("seq", "99"),
                ("vu", "extracted")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
    }
}
