//! hyperfine JSON (`hyperfine --export-json out.json …`).
//!
//! Benchmark: the command (or its `--command-name`). In a parameter scan
//! (`-P n 1 3 'sleep 0.00{n}'`) every run's command is the template with the value
//! filled in, so the template is rebuilt (`sleep 0.00{n}`) and used as the name, with the
//! value as param `n`: one benchmark, one series per value. If the rebuilt templates do
//! not agree (a value that also occurs elsewhere in the command), the commands are kept.
//! Measures: `time` (every run in `times`, else the mean, unit `s`), `user_time` and
//! `system_time` (hyperfine's means, one sample each), `max_rss` from
//! `memory_usage_byte` when present. Exit codes are ignored.

use serde_json::Value;

use crate::common::{
    at_path, clean_key, clean_param, index_path, key_path, parse_json, scalar_text, Obs, Params,
    Series, J,
};
use crate::{Format, ParseError, Parsed};
use perfwatch_core::Direction;

const F: Format = Format::Hyperfine;

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let j = J { format: F };
    let v = parse_json(F, input)?;
    let root = j.obj(&v, "")?;
    let list = j.arr(j.field(root, "results", "")?, "results")?;
    let mut entries = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let path = index_path("results", i);
        let e = j.obj(entry, &path)?;
        let command = j.req_str(e, "command", &path)?;
        let mut params = Params::new();
        let mut raw_params: Vec<(String, String)> = Vec::new();
        if let Some(Value::Object(p)) = e.get("parameters") {
            for (k, v) in p {
                let text = scalar_text(v).unwrap_or_else(|| v.to_string());
                raw_params.push((k.clone(), text.clone()));
                params.insert(clean_key(k), clean_param(&text));
            }
        }
        entries.push((path, e, command, params, template(command, &raw_params)));
    }
    // Use the templates only when every scanned run yields the same one.
    let mut templates = entries.iter().filter(|x| !x.3.is_empty()).map(|x| &x.4);
    let first = templates.next();
    let use_template = first.is_some_and(|t| templates.all(|u| u == t));

    let mut series = Series::default();
    for (path, e, command, params, template) in &entries {
        let bench = if use_template && !params.is_empty() {
            template.as_str()
        } else {
            command
        };
        let times = match e.get("times") {
            Some(t) if !t.is_null() => j.nums(t, &key_path(path, "times"))?,
            _ => Vec::new(),
        };
        let times = if times.is_empty() {
            vec![j.req_num(e, "mean", path)?]
        } else {
            times
        };
        let mut add = |measure: &str, unit: &str, samples: &[f64]| {
            series
                .add(Obs {
                    benchmark: bench,
                    params,
                    measure,
                    unit,
                    direction: Some(Direction::Lower),
                    samples,
                    iterations: None,
                })
                .map(|_| ())
                .map_err(at_path(F, path))
        };
        add("time", "s", &times)?;
        for (key, measure) in [("user", "user_time"), ("system", "system_time")] {
            if let Some(x) = j.opt_num(e, key, path)? {
                add(measure, "s", &[x])?;
            }
        }
        if let Some(m) = e.get("memory_usage_byte").filter(|m| !m.is_null()) {
            let mem = j.nums(m, &key_path(path, "memory_usage_byte"))?;
            if !mem.is_empty() {
                add("max_rss", "B", &mem)?;
            }
        }
    }
    Ok(Parsed {
        results: series.finish(F)?,
        ..Parsed::default()
    })
}

/// `sleep 0.003` with n=3 → `sleep 0.00{n}` (longest values first, so `10` is not
/// rewritten as `{n}0` when n=1 is also a parameter).
fn template(command: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
    sorted.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
    let mut t = command.to_string();
    for (k, v) in sorted {
        t = t.replace(v.as_str(), &format!("{{{k}}}"));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disagreeing_templates_keep_the_commands() {
        let input = r#"{"results":[
          {"command":"sleep 1 && echo 1","mean":1,"parameters":{"n":"1"}},
          {"command":"sleep 2 && echo 1","mean":2,"parameters":{"n":"2"}}]}"#;
        let p = parse(input).unwrap();
        assert_eq!(p.results[0].benchmark, "sleep 1 && echo 1");
        assert_eq!(p.results[0].samples, vec![1.0]);
    }
}
