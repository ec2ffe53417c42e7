//! Server functions of the threshold rules on the series page: thin. Each finds the
//! request's actor, checks the `triage` right on the series' project (triager or admin
//! role, or a token with the triage scope), builds the rule from the form fields, has
//! `perfwatch_detect::threshold` validate it and calls the store.
//!
//! Every form field is text (an empty input means "not set"), so the same functions
//! serve the form posted with `fetch` after hydration (`crate::enhance`) and a plain
//! form post.

// One argument per form field; `#[server]` drops an `allow` put on the function itself.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::api_error::AppError;
use serde::{Deserialize, Serialize};

/// One rule that applies to a series, described for the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRow {
    pub id: i64,
    /// `series`, `measure` or `project`.
    pub scope: String,
    /// Who it covers, e.g. "this series" or "every series of measure time".
    pub scope_label: String,
    /// What it checks, e.g. "percent change against the median of the last 10 points:
    /// at most +10 %".
    pub what: String,
}

/// The threshold section of a series page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesThresholds {
    pub rules: Vec<ThresholdRow>,
    pub measure: String,
    /// The unit values (and static bounds) are stored in.
    pub unit: String,
    /// Whether the visitor may add and delete rules (triage right on the project).
    pub can_manage: bool,
}

#[cfg(feature = "ssr")]
mod server {
    use crate::api_error::AppError;
    use perfwatch_backend::detection::engine::threshold::{Baseline, Side, ThresholdRule};
    use perfwatch_backend::store::StoredRule;

    /// A number without float noise: at most 6 decimals, trailing zeros dropped.
    pub fn num(x: f64) -> String {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        if s == "-0" {
            "0".into()
        } else {
            s.into()
        }
    }

    fn pct(x: f64) -> String {
        format!("{} %", num(x * 100.0))
    }

    /// What a rule checks, in words.
    pub fn describe(rule: &ThresholdRule, unit: &str) -> String {
        match rule {
            ThresholdRule::Static { min, max } => match (min, max) {
                (Some(lo), Some(hi)) => format!(
                    "static bound: stays between {} and {} {unit}",
                    num(*lo),
                    num(*hi)
                ),
                (Some(lo), None) => format!("static bound: at least {} {unit}", num(*lo)),
                (None, Some(hi)) => format!("static bound: at most {} {unit}", num(*hi)),
                (None, None) => "static bound: none".into(),
            },
            ThresholdRule::PercentChange {
                baseline,
                max_increase,
                max_decrease,
            } => {
                let base = match baseline {
                    Baseline::MedianOfLast { n } => format!("the median of the last {n} points"),
                    Baseline::Pinned { value, label } => match label {
                        Some(l) => format!("pinned baseline {} {unit} ({l})", num(*value)),
                        None => format!("pinned baseline {} {unit}", num(*value)),
                    },
                };
                let mut limits = Vec::new();
                if let Some(up) = max_increase {
                    limits.push(format!("at most +{}", pct(*up)));
                }
                if let Some(down) = max_decrease {
                    limits.push(format!("at most −{}", pct(*down)));
                }
                if limits.is_empty() {
                    limits.push("no limit".into());
                }
                format!("percent change against {base}: {}", limits.join(", "))
            }
            ThresholdRule::ZScore {
                lookback,
                max_z,
                side,
            } => {
                let side = match side {
                    Side::Both => "either way",
                    Side::Increase => "rises only",
                    Side::Decrease => "falls only",
                };
                format!(
                    "z-score against the last {lookback} points: |z| ≤ {} ({side})",
                    num(*max_z)
                )
            }
        }
    }

    pub fn scope(r: &StoredRule, measure: &str) -> (String, String) {
        match (&r.series_id, &r.measure) {
            (Some(_), _) => ("series".into(), "this series".into()),
            (None, Some(_)) => (
                "measure".into(),
                format!("every series of measure {measure}"),
            ),
            (None, None) => ("project".into(), "every series of the project".into()),
        }
    }

    /// Text of an optional form field: empty means unset.
    fn field(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    fn number(name: &str, v: &Option<String>) -> Result<Option<f64>, AppError> {
        field(v)
            .map(|s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| AppError::invalid(name, "not a number"))
            })
            .transpose()
    }

    fn count(name: &str, v: &Option<String>) -> Result<Option<usize>, AppError> {
        field(v)
            .map(|s| {
                s.parse::<usize>()
                    .map_err(|_| AppError::invalid(name, "not a whole number"))
            })
            .transpose()
    }

    /// The form fields of a new rule.
    pub struct Form {
        pub kind: String,
        pub min: Option<String>,
        pub max: Option<String>,
        pub max_up: Option<String>,
        pub max_down: Option<String>,
        pub baseline: Option<String>,
        pub n: Option<String>,
        pub pinned: Option<String>,
        pub pinned_label: Option<String>,
        pub lookback: Option<String>,
        pub max_z: Option<String>,
        pub side: Option<String>,
    }

    /// Builds and validates the rule; percentages are entered in percent.
    pub fn build(f: &Form) -> Result<ThresholdRule, AppError> {
        let rule = match f.kind.as_str() {
            "static" => ThresholdRule::Static {
                min: number("min", &f.min)?,
                max: number("max", &f.max)?,
            },
            "percent_change" => {
                let baseline = match field(&f.baseline).unwrap_or("median_of_last") {
                    "median_of_last" => Baseline::MedianOfLast {
                        n: count("baseline points", &f.n)?.unwrap_or(10),
                    },
                    "pinned" => Baseline::Pinned {
                        value: number("pinned baseline", &f.pinned)?.ok_or_else(|| {
                            AppError::invalid("pinned baseline", "give the baseline value")
                        })?,
                        label: field(&f.pinned_label).map(|l| l.chars().take(100).collect()),
                    },
                    _ => return Err(AppError::invalid("baseline", "median_of_last or pinned")),
                };
                let max_increase = number("max increase", &f.max_up)?.map(|p| p / 100.0);
                let max_decrease = number("max decrease", &f.max_down)?.map(|p| p / 100.0);
                if max_increase.is_none() && max_decrease.is_none() {
                    return Err(AppError::invalid(
                        "percent change",
                        "give a largest increase and/or decrease",
                    ));
                }
                ThresholdRule::PercentChange {
                    baseline,
                    max_increase,
                    max_decrease,
                }
            }
            "z_score" => ThresholdRule::ZScore {
                lookback: count("lookback", &f.lookback)?.unwrap_or(30),
                max_z: number("z threshold", &f.max_z)?.unwrap_or(4.0),
                side: match field(&f.side).unwrap_or("both") {
                    "both" => Side::Both,
                    "increase" => Side::Increase,
                    "decrease" => Side::Decrease,
                    _ => return Err(AppError::invalid("side", "both, increase or decrease")),
                },
            },
            _ => {
                return Err(AppError::invalid(
                    "kind",
                    "static, percent_change or z_score",
                ))
            }
        };
        // The rule's own check names no single field: shown above the form.
        rule.validate()
            .map_err(|e| AppError::invalid("", e.to_string()))?;
        Ok(rule)
    }
}

/// The rules that apply to a series (its own, its measure's, the project's) and
/// whether the visitor may manage them.
#[server(prefix = "/fn", endpoint = "fetch_series_thresholds")]
pub async fn fetch_series_thresholds(series_id: i64) -> Result<SeriesThresholds, AppError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::detection::{engine::threshold::ThresholdRule, rule_applies};
    let store = crate::api_ctx::store()?;
    let series = store.series(series_id).await.map_err(AppError::from)?;
    let project = store
        .project_ref(&series.project)
        .await
        .map_err(AppError::from)?;
    let rules = store
        .threshold_rules(project.id)
        .await
        .map_err(AppError::from)?
        .into_iter()
        .filter(|r| rule_applies(r, &series))
        .map(|r| {
            let (scope, scope_label) = server::scope(&r, &series.measure);
            let what = match serde_json::from_str::<ThresholdRule>(&r.rule) {
                Ok(rule) => server::describe(&rule, &series.unit),
                Err(_) => format!("unreadable rule {}", r.rule),
            };
            ThresholdRow {
                id: r.id,
                scope,
                scope_label,
                what,
            }
        })
        .collect();
    Ok(SeriesThresholds {
        rules,
        measure: series.measure,
        unit: series.unit,
        can_manage: crate::api_ctx::actor().can(Right::Triage, Some(project.id)),
    })
}

/// Adds a rule for the series (`scope=series`) or for every series of its measure
/// (`scope=measure`). Numbers are text fields: empty means unset; percentages are in
/// percent (10 = 10 %).
#[server(prefix = "/fn", endpoint = "create_threshold")]
pub async fn create_series_threshold(
    series_id: i64,
    scope: String,
    kind: String,
    min: Option<String>,
    max: Option<String>,
    max_up: Option<String>,
    max_down: Option<String>,
    baseline: Option<String>,
    n: Option<String>,
    pinned: Option<String>,
    pinned_label: Option<String>,
    lookback: Option<String>,
    max_z: Option<String>,
    side: Option<String>,
) -> Result<i64, AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let series = store.series(series_id).await.map_err(AppError::from)?;
    let project = store
        .project_ref(&series.project)
        .await
        .map_err(AppError::from)?;
    crate::api_ctx::actor()
        .require(Right::Triage, Some(project.id))
        .map_err(AppError::from)?;
    let rule = server::build(&server::Form {
        kind,
        min,
        max,
        max_up,
        max_down,
        baseline,
        n,
        pinned,
        pinned_label,
        lookback,
        max_z,
        side,
    })?;
    let json = serde_json::to_string(&rule).map_err(crate::api_ctx::internal)?;
    let (sid, measure) = match scope.as_str() {
        "series" => (Some(series.id), None),
        "measure" => (None, Some(series.measure.as_str())),
        _ => return Err(AppError::invalid("scope", "series or measure")),
    };
    store
        .create_threshold_rule(project.id, sid, measure, &json)
        .await
        .map_err(AppError::from)
}

/// Deletes a rule that applies to the series (alerts it raised stay).
#[server(prefix = "/fn", endpoint = "delete_threshold")]
pub async fn delete_series_threshold(id: i64, series_id: i64) -> Result<(), AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let series = store.series(series_id).await.map_err(AppError::from)?;
    let project = store
        .project_ref(&series.project)
        .await
        .map_err(AppError::from)?;
    crate::api_ctx::actor()
        .require(Right::Triage, Some(project.id))
        .map_err(AppError::from)?;
    let applies = store
        .threshold_rules(project.id)
        .await
        .map_err(AppError::from)?
        .iter()
        .any(|r| r.id == id && perfwatch_backend::detection::rule_applies(r, &series));
    if !applies {
        return Err(AppError::NotFound {
            what: format!("threshold rule {id} of this series"),
        });
    }
    store
        .delete_threshold_rule(id)
        .await
        .map_err(AppError::from)
}
