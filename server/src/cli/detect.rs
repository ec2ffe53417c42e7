//! `perfwatch detect FILE`: change points of series in a CSV or JSON file, offline.
//! `perfwatch detect --project SLUG`: one detection pass against the database.
//!
//! The file formats (empty cells are gaps, a first column named index/time/date/commit
//! or not numeric is the x axis) are parsed by `perfwatch_detect::table`; detection skips
//! the gaps and reports rows of the file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use perfwatch_backend::detection::engine::table::{parse_csv, parse_json, SeriesTable};
use perfwatch_backend::detection::engine::{detect_with_gaps, DetectConfig, Detection, Drift};
use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};

use super::DbArgs;

#[derive(Debug, Args, Clone)]
pub struct DetectArgs {
    /// CSV or JSON file with one or many series (offline mode).
    #[arg(required_unless_present = "project", conflicts_with = "project")]
    pub file: Option<PathBuf>,
    /// Run detection over a project's series in the database instead.
    #[arg(long)]
    pub project: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Smallest relative change reported, as a fraction (0.01 = 1 %).
    #[arg(long)]
    pub min_change: Option<f64>,
    /// Largest p-value reported.
    #[arg(long)]
    pub p_value: Option<f64>,
    /// Fewest points on each side of a change.
    #[arg(long)]
    pub min_segment: Option<usize>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn config(args: &DetectArgs) -> anyhow::Result<DetectConfig> {
    let mut cfg = DetectConfig::default();
    if let Some(m) = args.min_change {
        cfg.min_relative_change = m;
    }
    if let Some(p) = args.p_value {
        cfg.max_p_value = p;
    }
    if let Some(s) = args.min_segment {
        cfg.min_segment = s;
    }
    Ok(cfg)
}

/// The report for a table, as printed and as JSON (per column: the detection, with
/// `gaps`, the rows of missing points).
pub fn report(
    table: &SeriesTable,
    cfg: &DetectConfig,
) -> anyhow::Result<(String, serde_json::Value)> {
    let mut out = String::new();
    let mut json = serde_json::Map::new();
    let label = |i: usize| table.labels.get(i).map(String::as_str).unwrap_or("");
    for col in &table.columns {
        let name = &col.name;
        let d = detect_with_gaps(&col.values, cfg)
            .map_err(|e| anyhow::anyhow!("column '{name}': {e}"))?;
        let gaps = col.gaps();
        out.push_str(&format!("{name} ({} points", col.values.len() - gaps.len()));
        if !gaps.is_empty() {
            let rows: Vec<String> = gaps.iter().map(usize::to_string).collect();
            out.push_str(&format!(
                ", {} missing at rows {}",
                gaps.len(),
                rows.join(", ")
            ));
        }
        out.push_str(")\n");
        match &d {
            Detection::TooShort { needed, got } => {
                out.push_str(&format!("  too short: needs {needed} points, has {got}\n"));
            }
            Detection::Done {
                change_points,
                drifts,
            } => {
                if change_points.is_empty() && drifts.is_empty() {
                    out.push_str("  no change points\n");
                }
                if !change_points.is_empty() {
                    out.push_str(&format!(
                        "  {:>7}  {:<16} {:>14} {:>14} {:>9} {:>10}\n",
                        "index", "label", "before", "after", "change", "p-value"
                    ));
                }
                for cp in change_points {
                    out.push_str(&format!(
                        "  {:>7}  {:<16} {:>14} {:>14} {:>+8.2}% {:>10.2e}\n",
                        cp.index,
                        label(cp.index),
                        perfwatch_core::units::sig(cp.before_median),
                        perfwatch_core::units::sig(cp.after_median),
                        cp.relative_change * 100.0,
                        cp.p_value
                    ));
                }
                for dr in drifts {
                    out.push_str(&drift_line(dr, col.values.len(), &label));
                }
            }
        }
        let mut v = serde_json::to_value(&d)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("gaps".into(), serde_json::to_value(&gaps)?);
        }
        json.insert(name.clone(), v);
    }
    Ok((out, serde_json::Value::Object(json)))
}

/// "drift rows 60–140 (a → b): +0.5 per point, 100 → 140 (+40.00 %), p 1.2e-9".
fn drift_line<'a>(d: &Drift, len: usize, label: &impl Fn(usize) -> &'a str) -> String {
    let end = if d.end >= len {
        "end (still going)".to_string()
    } else {
        d.end.to_string()
    };
    let labels = match (label(d.start), label(d.end.min(len.saturating_sub(1)))) {
        ("", _) | (_, "") => String::new(),
        (a, b) => format!(" ({a} → {b})"),
    };
    format!(
        "  drift from row {} to {end}{labels}: {:+} per point, {} → {} ({:+.2}%), p {:.2e}\n",
        d.start,
        perfwatch_core::units::sig(d.slope),
        perfwatch_core::units::sig(d.start_level),
        perfwatch_core::units::sig(d.end_level),
        d.relative_change * 100.0,
        d.p_value
    )
}

pub async fn run(args: DetectArgs) -> anyhow::Result<()> {
    let cfg = config(&args)?;
    if let Some(slug) = &args.project {
        let store = perfwatch_backend::Store::connect(&args.db.database_url).await?;
        let settings = DetectSettings {
            config: cfg,
            threshold_history: true,
            ..Default::default()
        };
        let summary = detect_project(&store, slug, Scope::All, &settings).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            println!(
                "{} series ({} too short): {} change points found, {} kept after FDR; alerts: {} created, {} updated, {} unchanged, {} retracted; {} threshold alerts created; {} groups",
                summary.series,
                summary.too_short,
                summary.change_points_found,
                summary.change_points_kept,
                summary.alerts_created,
                summary.alerts_updated,
                summary.alerts_unchanged,
                summary.alerts_retracted,
                summary.threshold_alerts_created,
                summary.groups
            );
        }
        store.close().await;
        return Ok(());
    }
    let file = args.file.as_ref().context("give a FILE or --project")?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let is_json = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with(['[', '{']);
    let table = if is_json {
        parse_json(&text)?
    } else {
        parse_csv(&text)?
    };
    let (text, json) = report(&table, &cfg)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{text}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfwatch_backend::detection::engine::table::SeriesColumn;

    fn column(name: &str, values: Vec<f64>) -> SeriesColumn {
        SeriesColumn {
            name: name.into(),
            values: values.into_iter().map(Some).collect(),
        }
    }

    #[test]
    fn report_prints_the_step() {
        let mut values: Vec<f64> = (0..40).map(|i| 100.0 + (i % 3) as f64 * 0.1).collect();
        values.extend((0..40).map(|i| 120.0 + (i % 3) as f64 * 0.1));
        let table = SeriesTable {
            x_name: Some("commit".into()),
            labels: (0..80).map(|i| format!("c{i}")).collect(),
            columns: vec![column("t", values), column("short", vec![1.0, 2.0])],
        };
        let (text, json) = report(&table, &DetectConfig::default()).unwrap();
        assert!(text.contains("     40  c40"), "{text}");
        assert!(text.contains("+19.9"), "{text}");
        assert!(text.contains("too short"), "{text}");
        assert_eq!(json["t"]["change_points"][0]["index"], 40);
        assert_eq!(json["t"]["gaps"], serde_json::json!([]));
    }

    #[test]
    fn report_names_gap_rows_and_drifts() {
        // Memory creeping from 100 to 160 over rows 40–100, flat around it; rows 5, 6 missing.
        let mut values: Vec<Option<f64>> = (0..160)
            .map(|i: usize| {
                let level = 100.0 + (i.clamp(40, 100) - 40) as f64;
                Some(level + [0.3, -0.2, 0.1, -0.4, 0.25][i % 5])
            })
            .collect();
        values[5] = None;
        values[6] = None;
        let table = SeriesTable {
            x_name: None,
            labels: vec![],
            columns: vec![SeriesColumn {
                name: "rss".into(),
                values,
            }],
        };
        let (text, json) = report(&table, &DetectConfig::default()).unwrap();
        assert!(
            text.contains("rss (158 points, 2 missing at rows 5, 6)"),
            "{text}"
        );
        assert!(text.contains("drift from row"), "{text}");
        assert_eq!(json["rss"]["gaps"], serde_json::json!([5, 6]));
        let drift = &json["rss"]["drifts"][0];
        assert!(
            (drift["slope"].as_f64().unwrap() - 1.0).abs() < 0.05,
            "{drift}"
        );
        assert!(
            drift["start"].as_u64().unwrap().abs_diff(40) <= 3,
            "{drift}"
        );
        assert_eq!(json["rss"]["change_points"], serde_json::json!([]));
    }
}
