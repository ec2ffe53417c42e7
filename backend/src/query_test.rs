//! "Test query" (docs/metrics.md, "Testing a query"): an unsaved PromQL template is
//! checked like at save time, then evaluated against a stored metric source over the
//! latest run's window (or the last settled hour), exactly as a collection would: the
//! value(s), the series count, the sample coverage, or the source's error. Nothing is
//! stored. It calls an external system with the source's stored credentials, so the
//! caller must hold the project's admin right (checked by the entry points).

use chrono::{DateTime, Utc};
use perfwatch_sources::{
    check_keeps_label, check_template, collect_window, parse_metrics_table, Auth, Mode, OnEmpty,
    PromSource, QuerySpec, WindowVars,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::secrets::SealKey;
use crate::time::now_ms;
use crate::Store;

/// Which window the query is evaluated over.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestWindow {
    /// The project's latest run with a window (load runs, jobs); the last hour when none.
    LatestRun,
    /// The last hour that has settled (what a schedule reads).
    LastHour,
}

impl TestWindow {
    /// `run` or `hour`; the error names the field.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim() {
            "" | "run" => Ok(Self::LatestRun),
            "hour" => Ok(Self::LastHour),
            other => Err(StoreError::invalid(
                "window",
                format!("'{other}': expected run or hour"),
            )),
        }
    }
}

/// One value the query gave.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestValue {
    /// `label=value` for `by` queries.
    pub label: Option<String>,
    pub value: Option<f64>,
    pub series_count: usize,
    /// Share (0–1) of the expected samples over the window.
    pub coverage: f64,
    /// Why a collection would not use the value.
    pub invalid: Option<String>,
    pub note: Option<String>,
}

/// What the test showed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryTest {
    /// "run 42" or "the last hour".
    pub window: String,
    pub start: i64,
    pub end: i64,
    /// The expanded PromQL, when the template expanded.
    pub query_text: Option<String>,
    pub values: Vec<TestValue>,
    /// The source's error (unreachable, rejected query, …): shown, not raised.
    pub error: Option<String>,
}

/// What the form sends.
#[derive(Debug, Clone)]
pub struct TestInput<'a> {
    pub source: &'a str,
    pub template: &'a str,
    /// Label of a `by (label)` query; empty for one value.
    pub by: &'a str,
    pub window: TestWindow,
}

/// The project's source `name` as stored, its token opened; unknown names a `source`
/// error.
async fn stored_source(
    store: &Store,
    key: &SealKey,
    project_id: i64,
    slug: &str,
    name: &str,
) -> Result<PromSource> {
    let row = store
        .metric_source(project_id, name)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::invalid(
                "source",
                format!("project {slug} has no metric source '{}'", name),
            ),
            other => other,
        })?;
    let table: toml::Table = toml::from_str(&row.config)
        .map_err(|e| StoreError::invalid("source", format!("stored config: {e}")))?;
    let (mut src, _) = parse_metrics_table(&table)
        .map_err(|e| StoreError::invalid("source", format!("stored config: {e}")))?;
    if let Some(t) = &row.bearer_token {
        src.auth = Auth::Bearer(key.open(t, "metric source token")?);
    }
    Ok(src)
}

/// The window the query is tried on: the latest run's, else the last settled hour.
/// Its label, bounds (ms) and the template variables.
async fn window(
    store: &Store,
    project_id: i64,
    which: TestWindow,
    src: &PromSource,
) -> Result<(String, i64, i64, WindowVars)> {
    let run = match which {
        TestWindow::LatestRun => store.latest_run_window(project_id).await?,
        TestWindow::LastHour => None,
    };
    let (label, start, end, run_id) = match run {
        Some(r) => (format!("run {}", r.run_id), r.start, r.end, Some(r.run_id)),
        None => {
            let end = now_ms() - i64::try_from(src.settle.as_millis()).unwrap_or(i64::MAX / 2);
            ("the last hour".to_string(), end - 3_600_000, end, None)
        }
    };
    let ts = |ms: i64| {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .ok_or_else(|| StoreError::invalid("window", "out of range"))
    };
    let vars = WindowVars {
        start: ts(start)?,
        end: ts(end)?,
        run_id: run_id.map(|i| i.to_string()),
        commit: None,
    };
    Ok((label, start, end, vars))
}

/// Evaluates `inp.template` against source `inp.source` of project `slug`. Input errors
/// (unknown source, a template that fails the save-time checks) are errors naming the
/// field; whatever the source answers is in the result.
pub async fn test_query(
    store: &Store,
    key: &SealKey,
    slug: &str,
    inp: &TestInput<'_>,
) -> Result<QueryTest> {
    let project = store.project(slug).await?;
    let template = inp.template.trim();
    if template.is_empty() {
        return Err(StoreError::invalid("query", "empty"));
    }
    check_template(template).map_err(|e| StoreError::invalid("query", e.to_string()))?;
    let by = inp.by.trim();
    let mode = if by.is_empty() {
        Mode::Single
    } else {
        check_keeps_label(template, by).map_err(|e| StoreError::invalid("by", e.to_string()))?;
        Mode::ByLabel(by.to_string())
    };
    let src = stored_source(store, key, project.id, slug, inp.source).await?;

    let (label, start, end, vars) = window(store, project.id, inp.window, &src).await?;
    let spec = QuerySpec {
        name: "test".into(),
        unit: String::new(),
        direction: None,
        template: template.to_string(),
        mode,
        on_empty: OnEmpty::NoData,
        required: true,
    };
    let mut out = QueryTest {
        window: label,
        start,
        end,
        query_text: perfwatch_sources::expand(template, &vars).ok(),
        values: Vec::new(),
        error: None,
    };
    match collect_window(&src, &[spec], &vars).await {
        Ok(c) => {
            out.values = c
                .values
                .into_iter()
                .map(|v| TestValue {
                    label: v.label.map(|(k, v)| format!("{k}={v}")),
                    value: v.value,
                    series_count: v.series_count,
                    coverage: v.coverage,
                    invalid: v.invalid,
                    note: v.note,
                })
                .collect();
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    Ok(out)
}
