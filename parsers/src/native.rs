//! perfwatch's own JSON: a whole run submission (what `POST /api/v1/runs` takes), an
//! object with just `results` (and optionally `metadata`, `testbed`), or a bare array of
//! results. Results pass through unchanged (the core validates them); project, branch
//! and commit of a full submission are left to the CLI, which knows them.

use perfwatch_core::{ResultInput, RunSubmission};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{Format, ParseError, Parsed};

const F: Format = Format::Native;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResultsOnly {
    results: Vec<ResultInput>,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    testbed: Option<String>,
}

pub(crate) fn parse(input: &str) -> Result<Parsed, ParseError> {
    let v = crate::common::parse_json(F, input)?;
    let parsed = match &v {
        Value::Array(_) => Parsed {
            results: typed::<Vec<ResultInput>>(v)?,
            ..Parsed::default()
        },
        Value::Object(m) if m.contains_key("project") => {
            let run: RunSubmission = typed(v)?;
            Parsed {
                results: run.results,
                metadata: run.metadata,
                testbed_hint: run.testbed,
            }
        }
        Value::Object(_) => {
            let r: ResultsOnly = typed(v)?;
            Parsed {
                results: r.results,
                metadata: r.metadata,
                testbed_hint: r.testbed,
            }
        }
        _ => {
            return Err(ParseError::path(
                F,
                "",
                "a run object ({\"project\", …, \"results\": [...]}), {\"results\": [...]} or an array of results",
            ))
        }
    };
    if parsed.results.is_empty() {
        return Err(ParseError::path(F, "results", "at least one result"));
    }
    Ok(parsed)
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ParseError::path(
            F,
            &path,
            format!("a valid native field ({})", e.into_inner()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_three_shapes_and_names_bad_paths() {
        let r = r#"{"benchmark":"B","measure":"time","unit":"ns","samples":[1,2]}"#;
        assert_eq!(parse(&format!("[{r}]")).unwrap().results.len(), 1);
        let p = parse(&format!(r#"{{"results":[{r}],"testbed":"ci"}}"#)).unwrap();
        assert_eq!(p.testbed_hint.as_deref(), Some("ci"));
        let p = parse(&format!(
            r#"{{"project":"p","commit":{{"sha":"abcd"}},"results":[{r}]}}"#
        ))
        .unwrap();
        assert_eq!(p.results[0].samples, vec![1.0, 2.0]);
        let e =
            parse(r#"[{"benchmark":"B","measure":"t","unit":"ns","samples":["x"]}]"#).unwrap_err();
        assert_eq!(e.location, crate::Location::Path("[0].samples[0]".into()));
    }
}
