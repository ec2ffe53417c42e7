//! `perfwatch detect FILE`: change points of series in a CSV or JSON file, offline.
//! `perfwatch detect --project SLUG`: one detection pass against the database.
//!
//! CSV: a header row, then one row per point; every numeric column is a series; a first
//! column that is not numeric holds labels (commit, date) printed next to the change.
//! JSON: an array of numbers, or an object of name → array of numbers.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use perfwatch_backend::detection::engine::{detect, DetectConfig, Detection};
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

/// Series read from a file: labels (possibly empty) and named columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub labels: Vec<String>,
    pub columns: Vec<(String, Vec<f64>)>,
}

pub fn parse_csv(text: &str) -> anyhow::Result<Table> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let header: Vec<String> = lines
        .next()
        .context("the CSV file is empty")?
        .split(',')
        .map(|h| h.trim().trim_matches('"').to_string())
        .collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| {
            l.split(',')
                .map(|c| c.trim().trim_matches('"').to_string())
                .collect()
        })
        .collect();
    for (i, r) in rows.iter().enumerate() {
        if r.len() != header.len() {
            bail!(
                "CSV row {} has {} fields, the header {}",
                i + 2,
                r.len(),
                header.len()
            );
        }
    }
    let numeric = |c: usize| rows.iter().all(|r| r[c].parse::<f64>().is_ok());
    let label_col = !header.is_empty() && !rows.is_empty() && !numeric(0);
    let first = usize::from(label_col);
    let mut columns = Vec::new();
    for (c, name) in header.iter().enumerate().skip(first) {
        let mut values = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let v: f64 = r[c].parse().with_context(|| {
                format!(
                    "CSV row {}, column '{name}': '{}' is not a number",
                    i + 2,
                    r[c]
                )
            })?;
            if !v.is_finite() {
                bail!("CSV row {}, column '{name}': value is not finite", i + 2);
            }
            values.push(v);
        }
        columns.push((name.clone(), values));
    }
    let labels = if label_col {
        rows.iter().map(|r| r[0].clone()).collect()
    } else {
        vec![]
    };
    Ok(Table { labels, columns })
}

pub fn parse_json(text: &str) -> anyhow::Result<Table> {
    let v: serde_json::Value = serde_json::from_str(text).context("invalid JSON")?;
    let numbers = |name: &str, v: &serde_json::Value| -> anyhow::Result<Vec<f64>> {
        let arr = v
            .as_array()
            .with_context(|| format!("'{name}' must be an array of numbers"))?;
        arr.iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_f64()
                    .filter(|f| f.is_finite())
                    .with_context(|| format!("'{name}'[{i}] is not a finite number"))
            })
            .collect()
    };
    let columns = match &v {
        serde_json::Value::Array(_) => vec![("values".to_string(), numbers("values", &v)?)],
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, x)| Ok((k.clone(), numbers(k, x)?)))
            .collect::<anyhow::Result<_>>()?,
        _ => bail!("expected an array of numbers or an object of name → array"),
    };
    Ok(Table {
        labels: vec![],
        columns,
    })
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

/// The report for a table, as printed.
pub fn report(table: &Table, cfg: &DetectConfig) -> anyhow::Result<(String, serde_json::Value)> {
    let mut out = String::new();
    let mut json = serde_json::Map::new();
    for (name, values) in &table.columns {
        let d = detect(values, cfg).map_err(|e| anyhow::anyhow!("column '{name}': {e}"))?;
        out.push_str(&format!("{name} ({} points)\n", values.len()));
        match &d {
            Detection::TooShort { needed, got } => {
                out.push_str(&format!("  too short: needs {needed} points, has {got}\n"));
            }
            Detection::Done { change_points, .. } if change_points.is_empty() => {
                out.push_str("  no change points\n");
            }
            Detection::Done { change_points, .. } => {
                out.push_str(&format!(
                    "  {:>7}  {:<16} {:>14} {:>14} {:>9} {:>10}\n",
                    "index", "label", "before", "after", "change", "p-value"
                ));
                for cp in change_points {
                    let label = table.labels.get(cp.index).map(String::as_str).unwrap_or("");
                    out.push_str(&format!(
                        "  {:>7}  {:<16} {:>14} {:>14} {:>+8.2}% {:>10.2e}\n",
                        cp.index,
                        label,
                        perfwatch_core::units::sig(cp.before_median),
                        perfwatch_core::units::sig(cp.after_median),
                        cp.relative_change * 100.0,
                        cp.p_value
                    ));
                }
            }
        }
        json.insert(name.clone(), serde_json::to_value(&d)?);
    }
    Ok((out, serde_json::Value::Object(json)))
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

    #[test]
    fn csv_with_label_column_and_many_series() {
        let t = parse_csv("commit,a,b\nc1,1,2\nc2,1.5,2\n\"c3\",1,3e0\n").unwrap();
        assert_eq!(t.labels, vec!["c1", "c2", "c3"]);
        assert_eq!(t.columns[0], ("a".to_string(), vec![1.0, 1.5, 1.0]));
        assert_eq!(t.columns[1].1, vec![2.0, 2.0, 3.0]);
    }

    #[test]
    fn csv_without_labels_and_bad_values() {
        let t = parse_csv("x\n1\n2\n").unwrap();
        assert!(t.labels.is_empty());
        assert_eq!(t.columns.len(), 1);
        assert!(parse_csv("a,b\n1,x\n").is_err());
        assert!(parse_csv("a,b\n1\n").is_err());
        assert!(parse_csv("a\nNaN\n").is_err());
    }

    #[test]
    fn json_array_or_object() {
        assert_eq!(
            parse_json("[1, 2.5]").unwrap().columns,
            vec![("values".to_string(), vec![1.0, 2.5])]
        );
        let t = parse_json(r#"{"p99": [1, 2], "p50": [3, 4]}"#).unwrap();
        assert_eq!(t.columns.len(), 2);
        assert!(parse_json(r#"{"a": [1, "x"]}"#).is_err());
        assert!(parse_json("3").is_err());
    }

    #[test]
    fn report_prints_the_step() {
        let mut values: Vec<f64> = (0..40).map(|i| 100.0 + (i % 3) as f64 * 0.1).collect();
        values.extend((0..40).map(|i| 120.0 + (i % 3) as f64 * 0.1));
        let table = Table {
            labels: (0..80).map(|i| format!("c{i}")).collect(),
            columns: vec![("t".into(), values), ("short".into(), vec![1.0, 2.0])],
        };
        let (text, json) = report(&table, &DetectConfig::default()).unwrap();
        assert!(text.contains("     40  c40"), "{text}");
        assert!(text.contains("+19.9"), "{text}");
        assert!(text.contains("too short"), "{text}");
        assert_eq!(json["t"]["change_points"][0]["index"], 40);
    }
}
