//! `--fail-on regression`: the submitted run against its baseline (the main branch),
//! read from `GET /api/v1/runs/{id}/baseline` and printed as a summary and a table of
//! the regressions.

use serde_json::Value;

use super::ingest::ServerArgs;

/// `GET /api/v1/runs/{id}/baseline`.
pub async fn fetch_baseline(server: &ServerArgs, run_id: i64) -> anyhow::Result<Value> {
    server
        .get_json(&reqwest::Client::new(), &format!("/runs/{run_id}/baseline"))
        .await
}

/// The baseline summary and a table of the regressions; the number of regressions.
pub fn baseline_report(v: &Value) -> (String, usize) {
    let s = &v["summary"];
    let count = |k: &str| s[k].as_u64().unwrap_or(0);
    let regressions = count("regressions") as usize;
    let base = &v["base"];
    let commits: Vec<&str> = base["commits"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = String::new();
    if commits.is_empty() && count("added") == count("total") {
        out.push_str(&format!(
            "baseline: no earlier results on {} to compare with\n",
            base["branch"].as_str().unwrap_or("main")
        ));
        return (out, 0);
    }
    let short = |c: &str| c.get(..10).unwrap_or(c).to_string();
    out.push_str(&format!(
        "baseline: {} at {} ({}): {} series, {} regressions, {} improvements, {} unchanged, {} too few samples, {} new\n",
        base["branch"].as_str().unwrap_or("main"),
        commits.iter().map(|c| short(c)).collect::<Vec<_>>().join(", "),
        base["rule"].as_str().unwrap_or("").replace('_', " "),
        count("total"),
        regressions,
        count("improvements"),
        count("unchanged"),
        count("inconclusive"),
        count("added"),
    ));
    let rows: Vec<&Value> = v["rows"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|r| r["verdict"]["kind"] == "regression")
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        return (out, regressions);
    }
    let name = |r: &Value| {
        let k = &r["key"];
        let params = k["params"].as_str().unwrap_or("");
        if params.is_empty() {
            k["benchmark"].as_str().unwrap_or("").to_string()
        } else {
            format!("{} [{params}]", k["benchmark"].as_str().unwrap_or(""))
        }
    };
    let width = rows.iter().map(|r| name(r).len()).max().unwrap_or(9).max(9);
    out.push_str(&format!(
        "  {:<width$}  {:<14} {:>14} {:>14} {:>9} {:>9}\n",
        "benchmark", "measure", "base median", "head median", "change", "p"
    ));
    let num = |x: &Value, unit: &str| {
        x.as_f64()
            .map(|f| format!("{} {unit}", perfwatch_core::units::sig(f)))
            .unwrap_or_else(|| "-".into())
    };
    for r in rows {
        let unit = r["key"]["unit"].as_str().unwrap_or("");
        out.push_str(&format!(
            "  {:<width$}  {:<14} {:>14} {:>14} {:>9} {:>9}\n",
            name(r),
            r["key"]["measure"].as_str().unwrap_or(""),
            num(&r["base"]["median"], unit),
            num(&r["head"]["median"], unit),
            r["change_pct"]
                .as_f64()
                .map(|c| format!("{c:+.1}%"))
                .unwrap_or_else(|| "-".into()),
            r["p_value"]
                .as_f64()
                .map(|p| format!("{p:.2e}"))
                .unwrap_or_else(|| "-".into()),
        ));
    }
    (out, regressions)
}
