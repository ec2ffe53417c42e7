//! `perfwatch load --submit`: the scenario's `[thresholds]` stored as threshold rules on
//! the submitted run's series (`POST /api/v1/projects/{slug}/thresholds`), so a later
//! run that breaches one raises a threshold alert like any rule. A rule already stored
//! on the series is not added twice; thresholds no series can judge are named and left.

use anyhow::{bail, Context};
use perfwatch_core::alerts::ThresholdRuleView;
use perfwatch_core::units::normalize_unit;
use perfwatch_core::view::{RunDetail, SeriesInfo};
use perfwatch_loadgen::threshold::Threshold;
use perfwatch_loadgen::threshold_rules::{rule_for, RuleTarget};
use serde_json::{json, Value};

use super::ingest::ServerArgs;

/// `k=v,k=v` (a series' params) has `key=value`.
fn has_param(params: &str, key: &str, value: &str) -> bool {
    params
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .any(|(k, v)| k == key && v == value)
}

/// The run's series a rule target names.
fn series_of<'a>(t: &RuleTarget, scenario: &str, series: &'a [SeriesInfo]) -> Vec<&'a SeriesInfo> {
    series
        .iter()
        .filter(|s| t.op == "*" || s.benchmark == t.op)
        .filter(|s| s.measure == t.measure && has_param(&s.params, "scenario", scenario))
        .filter(|s| match &t.class {
            Some(c) => has_param(&s.params, "class", c),
            None => !s.params.split(',').any(|kv| kv.starts_with("class=")),
        })
        .collect()
}

/// Stores the thresholds as rules on run `run_id`'s series; prints what was done.
pub async fn store_rules(
    server: &ServerArgs,
    run_id: i64,
    scenario: &str,
    thresholds: &[Threshold],
) -> anyhow::Result<()> {
    if thresholds.is_empty() {
        return Ok(());
    }
    let client = reqwest::Client::new();
    let run: RunDetail = server.get_json(&client, &format!("/runs/{run_id}")).await?;
    let series: Vec<SeriesInfo> = run.measurements.into_iter().map(|m| m.series).collect();
    let existing: Vec<ThresholdRuleView> = server
        .get_json(&client, &format!("/projects/{}/thresholds", run.project))
        .await?;
    let existing: Vec<(i64, Value)> = existing
        .into_iter()
        .filter_map(|r| Some((r.series_id?, r.rule)))
        .collect();
    let url = format!(
        "{}/api/v1/projects/{}/thresholds",
        server.server.trim_end_matches('/'),
        run.project
    );
    for t in thresholds {
        let target = match rule_for(t) {
            Ok(target) => target,
            Err(why) => {
                println!("threshold rule not stored: {why}");
                continue;
            }
        };
        let unit = normalize_unit(target.unit);
        let matched = series_of(&target, scenario, &series);
        if matched.is_empty() {
            println!(
                "threshold rule not stored: `{} {}`: the run has no such series",
                t.key, t.limit_text
            );
        }
        for s in matched {
            if s.unit != unit.canonical {
                bail!(
                    "series {} is in {}, not {}: threshold `{}` not stored",
                    s.id,
                    s.unit,
                    unit.canonical,
                    t.key
                );
            }
            let rule = target.rule_json(unit.factor);
            let label = format!("{} · {}", s.benchmark, s.measure);
            if existing.iter().any(|(id, r)| *id == s.id && *r == rule) {
                println!(
                    "threshold rule `{} {}` on {label}: already stored",
                    t.key, t.limit_text
                );
                continue;
            }
            let resp = client
                .post(&url)
                .bearer_auth(&server.token)
                .json(&json!({"series_id": s.id, "rule": rule}))
                .send()
                .await
                .with_context(|| format!("posting to {url}"))?;
            let status = resp.status();
            if !status.is_success() {
                bail!(
                    "storing threshold `{}` as a rule: server answered {status}: {}",
                    t.key,
                    resp.text().await.unwrap_or_default()
                );
            }
            println!(
                "threshold rule `{} {}` stored on {label}",
                t.key, t.limit_text
            );
        }
    }
    Ok(())
}
