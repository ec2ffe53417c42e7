//! "Save query" of the metric sources page (docs/metrics.md, "Testing a query"): a
//! query is one `[[query]]` entry of its source's stored `[metrics]` table, so saving
//! one edits that table (by `toml_edit`, keeping the admin's comments and layout) and
//! stores it through [`put_source`], the path `PUT …/metric-sources/{name}` takes: the
//! same checks, the same row. With a step it is also scheduled as a production series
//! through [`metric_schedules::put`], as `PUT …/schedule` does. Input errors name the
//! form's field (`unit: must not be empty`), not the table's path. The caller must hold
//! the project's admin right (checked by the entry points).

use chrono::{DateTime, Utc};
use perfwatch_sources::{parse_metrics_table, ConfigError, Mode, OnEmpty};
use serde::{Deserialize, Serialize};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table};

use crate::error::{Result, StoreError};
use crate::metric_schedules::{self, ScheduleInput};
use crate::secrets::SealKey;
use crate::store::metric_sources::MetricSourceRow;
use crate::window_metrics::{put_source, SourceInput};
use crate::Store;

/// What the form sends to save a query.
#[derive(Debug, Clone, Default)]
pub struct SaveQuery {
    pub source: String,
    pub name: String,
    pub unit: String,
    /// `lower`, `higher` or empty (unknown).
    pub direction: String,
    pub template: String,
    /// Label of a `by (label)` query; empty for one value.
    pub by: String,
    /// What an empty result means: `no_data` (default), `zero` or `error`.
    pub empty: String,
    /// Read every `step_s` seconds as a production series; None: window collection only.
    pub schedule: Option<ScheduleInput>,
}

/// A saved query as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedQuery {
    pub source: String,
    pub name: String,
    pub unit: String,
    pub direction: Option<String>,
    pub template: String,
    pub by: Option<String>,
    pub empty: String,
    /// Step of the schedule reading it, when one does.
    pub step_s: Option<i64>,
}

async fn source_row(
    store: &Store,
    project_id: i64,
    slug: &str,
    source: &str,
) -> Result<MetricSourceRow> {
    store
        .metric_source(project_id, source)
        .await
        .map_err(|e| match e {
            StoreError::NotFound(_) => StoreError::invalid(
                "source",
                format!("project {slug} has no metric source '{source}'"),
            ),
            other => other,
        })
}

fn document(row: &MetricSourceRow) -> Result<DocumentMut> {
    row.config
        .parse::<DocumentMut>()
        .map_err(|e| StoreError::invalid("source", format!("stored config: {e}")))
}

/// The `[[query]]` entries of a table (an inline `query = [{…}]` array is turned into
/// tables so an entry can be replaced in place).
fn queries(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables> {
    let item = doc
        .as_table_mut()
        .entry("query")
        .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    if !item.is_array_of_tables() {
        let taken = std::mem::take(item);
        *item = Item::ArrayOfTables(taken.into_array_of_tables().map_err(|_| {
            StoreError::invalid("source", "stored config: `query` is not an array of tables")
        })?);
    }
    Ok(item
        .as_array_of_tables_mut()
        .expect("made an array of tables"))
}

fn position(aot: &ArrayOfTables, name: &str) -> Option<usize> {
    aot.iter()
        .position(|t| t.get("name").and_then(Item::as_str).map(str::trim) == Some(name))
}

/// A check failure of the edited table, named by the form's field when it is about the
/// saved entry (`metrics.query[2].unit` → `unit`).
fn field_error(e: ConfigError, index: usize) -> StoreError {
    let prefix = format!("metrics.query[{index}].");
    match e.key.strip_prefix(&prefix) {
        Some(field) => StoreError::invalid(field, e.reason),
        None => StoreError::invalid("config", e.to_string()),
    }
}

fn entry(q: &SaveQuery) -> Table {
    let mut t = Table::new();
    t.insert("name", toml_edit::value(q.name.trim()));
    t.insert("unit", toml_edit::value(q.unit.trim()));
    if !q.direction.trim().is_empty() {
        t.insert("direction", toml_edit::value(q.direction.trim()));
    }
    t.insert("query", toml_edit::value(q.template.trim()));
    if !q.by.trim().is_empty() {
        t.insert("by", toml_edit::value(q.by.trim()));
    }
    if !q.empty.trim().is_empty() {
        t.insert("empty", toml_edit::value(q.empty.trim()));
    }
    t
}

/// Adds query `q.name` to its source, or replaces the entry of that name; schedules it
/// when asked. Nothing is written unless every field passes.
pub async fn save_query(
    store: &Store,
    key: &SealKey,
    slug: &str,
    q: &SaveQuery,
) -> Result<SavedQuery> {
    let project = store.project(slug).await?;
    let name = q.name.trim();
    if name.is_empty() {
        return Err(StoreError::invalid("name", "must not be empty"));
    }
    if q.template.trim().is_empty() {
        return Err(StoreError::invalid("query", "must not be empty"));
    }
    let row = source_row(store, project.id, slug, &q.source).await?;
    let mut doc = document(&row)?;
    let aot = queries(&mut doc)?;
    let index = match position(aot, name) {
        Some(i) => {
            *aot.get_mut(i).expect("found") = entry(q);
            i
        }
        None => {
            aot.push(entry(q));
            aot.len() - 1
        }
    };
    let config = doc.to_string();
    let table: toml::Table = toml::from_str(&config)
        .map_err(|e| StoreError::invalid("config", format!("not a TOML table: {e}")))?;
    parse_metrics_table(&table).map_err(|e| field_error(e, index))?;
    if let Some(s) = &q.schedule {
        // Checked before the source is written, so a bad step saves nothing.
        if !(1..=86_400).contains(&s.step_s) {
            return Err(StoreError::invalid("step_s", "1 to 86400 seconds"));
        }
        s.settings()?;
    }
    put_source(
        store,
        key,
        slug,
        &row.name,
        &SourceInput {
            config,
            bearer_token: None,
        },
    )
    .await?;
    let mut step_s = None;
    if let Some(s) = &q.schedule {
        let s = ScheduleInput {
            query: name.to_string(),
            ..s.clone()
        };
        metric_schedules::put(store, slug, &row.name, &s).await?;
        step_s = Some(s.step_s);
    }
    let saved = saved_queries(store, slug)
        .await?
        .into_iter()
        .find(|s| s.source == row.name && s.name == name)
        .ok_or_else(|| StoreError::NotFound(format!("query {name}")))?;
    Ok(SavedQuery {
        step_s: step_s.or(saved.step_s),
        ..saved
    })
}

/// Removes query `name` from source `source`, and the schedule reading it (its points
/// stay). A source keeps at least one query.
pub async fn delete_query(
    store: &Store,
    key: &SealKey,
    slug: &str,
    source: &str,
    name: &str,
) -> Result<()> {
    let project = store.project(slug).await?;
    let row = source_row(store, project.id, slug, source).await?;
    let mut doc = document(&row)?;
    let aot = queries(&mut doc)?;
    let Some(i) = position(aot, name.trim()) else {
        return Err(StoreError::invalid(
            "name",
            format!("source '{source}' has no query '{name}'"),
        ));
    };
    if aot.len() == 1 {
        return Err(StoreError::invalid(
            "name",
            format!("'{name}' is the source's only query: a source needs at least one"),
        ));
    }
    aot.remove(i);
    put_source(
        store,
        key,
        slug,
        &row.name,
        &SourceInput {
            config: doc.to_string(),
            bearer_token: None,
        },
    )
    .await?;
    store.metric_schedule_delete(row.id, name.trim()).await?;
    Ok(())
}

/// Every query of the project's sources, with the step of the schedule reading it.
pub async fn saved_queries(store: &Store, slug: &str) -> Result<Vec<SavedQuery>> {
    let project = store.project(slug).await?;
    let schedules = store.metric_schedules().await?;
    let mut out = Vec::new();
    for row in store.metric_sources(project.id).await? {
        let Ok(table) = toml::from_str::<toml::Table>(&row.config) else {
            continue;
        };
        let Ok((_, specs)) = parse_metrics_table(&table) else {
            continue;
        };
        for q in specs {
            let step_s = schedules
                .iter()
                .find(|s| s.source_id == row.id && s.query_name == q.name)
                .map(|s| s.step_s);
            out.push(SavedQuery {
                source: row.name.clone(),
                direction: q.direction.map(|d| d.as_str().to_string()),
                by: match &q.mode {
                    Mode::Single => None,
                    Mode::ByLabel(l) => Some(l.clone()),
                },
                empty: match q.on_empty {
                    OnEmpty::Zero => "zero",
                    OnEmpty::NoData => "no_data",
                    OnEmpty::Error => "error",
                }
                .to_string(),
                name: q.name,
                unit: q.unit,
                template: q.template,
                step_s,
            });
        }
    }
    Ok(out)
}

/// Parses the form's schedule fields: empty `step_s` means window collection only;
/// `from` is RFC 3339 (empty: a day before now); `timezone` empty means UTC.
pub fn schedule_input(
    step_s: &str,
    from: &str,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<Option<ScheduleInput>> {
    let step_s = step_s.trim();
    if step_s.is_empty() {
        return Ok(None);
    }
    let step_s: i64 = step_s.parse().map_err(|_| {
        StoreError::invalid(
            "step_s",
            format!("'{step_s}' is not a whole number of seconds"),
        )
    })?;
    let from = match from.trim() {
        "" => now - chrono::Duration::days(1),
        f => DateTime::parse_from_rfc3339(f)
            .map_err(|e| StoreError::invalid("from", format!("'{f}': expected RFC 3339 ({e})")))?
            .with_timezone(&Utc),
    };
    let timezone = Some(timezone.trim().to_string()).filter(|t| !t.is_empty());
    Ok(Some(ScheduleInput {
        query: String::new(),
        step_s,
        from,
        timezone,
        dry_run: false,
        marker_label: None,
        raw_days: None,
    }))
}
