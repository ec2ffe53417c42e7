//! `--fail-on regression`: the submitted run against its baseline (the main branch),
//! read from `GET /api/v1/runs/{id}/baseline` into the server's own answer type
//! ([`RunVerdict`]) and printed as a summary and a table of the regressions.

use perfwatch_backend::baseline::RunVerdict;
use perfwatch_compare::Verdict;
use perfwatch_core::baseline::BaselineRule;

use super::ingest::ServerArgs;

/// `GET /api/v1/runs/{id}/baseline`.
pub async fn fetch_baseline(server: &ServerArgs, run_id: i64) -> anyhow::Result<RunVerdict> {
    server
        .get_json(&reqwest::Client::new(), &format!("/runs/{run_id}/baseline"))
        .await
}

fn rule_text(r: BaselineRule) -> &'static str {
    match r {
        BaselineRule::PreviousOnMain => "previous on main",
        BaselineRule::Parent => "parent",
        BaselineRule::CommitTime => "commit time",
        BaselineRule::LatestOnMain => "latest on main",
        BaselineRule::EarlierInTime => "earlier in time",
    }
}

/// The baseline summary and a table of the regressions; the number of regressions.
pub fn baseline_report(v: &RunVerdict) -> (String, usize) {
    let s = &v.summary;
    let base = &v.base;
    let mut out = String::new();
    if base.commits.is_empty() && s.added == s.total {
        out.push_str(&format!(
            "baseline: no earlier results on {} to compare with\n",
            base.branch
        ));
        return (out, 0);
    }
    let short = |c: &str| c.get(..10).unwrap_or(c).to_string();
    out.push_str(&format!(
        "baseline: {} at {} ({}): {} series, {} regressions, {} improvements, {} unchanged, {} too few samples, {} new\n",
        base.branch,
        base.commits.iter().map(|c| short(c)).collect::<Vec<_>>().join(", "),
        rule_text(base.rule),
        s.total,
        s.regressions,
        s.improvements,
        s.unchanged,
        s.inconclusive,
        s.added,
    ));
    let rows: Vec<_> = v
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Regression)
        .collect();
    if rows.is_empty() {
        return (out, s.regressions);
    }
    let name = |k: &perfwatch_core::baseline::BaselineKey| {
        if k.params.is_empty() {
            k.benchmark.clone()
        } else {
            format!("{} [{}]", k.benchmark, k.params)
        }
    };
    let width = rows
        .iter()
        .map(|r| name(&r.key).len())
        .max()
        .unwrap_or(9)
        .max(9);
    out.push_str(&format!(
        "  {:<width$}  {:<14} {:>14} {:>14} {:>9} {:>9}\n",
        "benchmark", "measure", "base median", "head median", "change", "p"
    ));
    let num = |x: Option<f64>, unit: &str| {
        x.map(|f| format!("{} {unit}", perfwatch_core::units::sig(f)))
            .unwrap_or_else(|| "-".into())
    };
    for r in rows {
        let unit = r.key.unit.as_str();
        out.push_str(&format!(
            "  {:<width$}  {:<14} {:>14} {:>14} {:>9} {:>9}\n",
            name(&r.key),
            r.key.measure,
            num(r.base.as_ref().map(|b| b.median), unit),
            num(r.head.as_ref().map(|h| h.median), unit),
            r.change_pct
                .map(|c| format!("{c:+.1}%"))
                .unwrap_or_else(|| "-".into()),
            r.p_value
                .map(|p| format!("{p:.2e}"))
                .unwrap_or_else(|| "-".into()),
        ));
    }
    (out, s.regressions)
}
