//! Comparisons over REST: JSON, CSV and a Markdown pull-request comment; short
//! permalinks (`/c/<id>`). Thin: parse the spec, call the use case, format.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use perfwatch_backend::comparison::compare as compare_use_case;
use perfwatch_core::comparison::{
    decode_query, CompareRow, CompareSpec, ComparisonView, RowVerdict,
};
use perfwatch_core::{FieldError, ValidationErrors};
use serde::Deserialize;

use super::bodies::ShortLink;

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;
use perfwatch_backend::accounts::Right;

fn bad_field(field: &str, reason: impl Into<String>) -> ApiError {
    ApiError::invalid(
        StatusCode::UNPROCESSABLE_ENTITY,
        ValidationErrors {
            errors: vec![FieldError::new(field, reason)],
        },
    )
}

fn parse_spec(raw: &str) -> ApiResult<(CompareSpec, String)> {
    let pairs = decode_query(raw);
    let format = pairs
        .iter()
        .find(|(k, _)| k == "format")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "json".into());
    let spec = CompareSpec::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|(f, r)| bad_field(&f, r))?;
    Ok((spec, format))
}

/// `GET /projects/{slug}/compare?base=&head=&format=json|csv|markdown` (+ the page's
/// filters `only`, `bench`, `measure`, `testbed`, `sort`).
#[utoipa::path(
    get,
    path = "/projects/{slug}/compare",
    tag = "compare",
    params(
        ("slug" = String, Path, description = "Project slug"),
        ("base" = Option<String>, Query, description = "Base side: `commit:<sha>`, `branch:<name>`, `run:<id>`, `release:<name>` or `time:<from>..<to>`"),
        ("head" = String, Query, description = "Head side, same forms as base"),
        ("format" = Option<String>, Query, description = "`json` (default), `csv` or `markdown`"),
        ("only" = Option<String>, Query, description = "`significant`: only rows with a verdict"),
        ("bench" = Option<String>, Query, description = "Benchmark name filter"),
        ("measure" = Option<String>, Query, description = "Measure filter"),
        ("testbed" = Option<String>, Query, description = "Testbed filter"),
        ("sort" = Option<String>, Query, description = "Row order")
    ),
    responses(
        (status = 200, description = "The comparison, series by series", content(
            (perfwatch_core::comparison::ComparisonView = "application/json"),
            (String = "text/csv"),
            (String = "text/markdown")
        )),
        ApiErrors
    )
)]
pub async fn compare(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let (spec, format) = parse_spec(raw.as_deref().unwrap_or(""))?;
    if !matches!(format.as_str(), "json" | "csv" | "markdown" | "md") {
        return Err(bad_field("format", "must be json, csv or markdown"));
    }
    let view = compare_use_case(&state.store, &slug, &spec).await?;
    let permalink = format!("{}{}", state.public_url, view.spec.page_path(&slug));
    Ok(match format.as_str() {
        "csv" => (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            to_csv(&view),
        )
            .into_response(),
        "markdown" | "md" => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            to_markdown(&view, &permalink),
        )
            .into_response(),
        _ => Json(view).into_response(),
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShortLinkBody {
    /// The compare page's query string, e.g. `base=release:v1&head=release:v2`.
    pub query: String,
}

/// `POST /projects/{slug}/compare/short` → `{"id", "path": "/c/<id>", "url", "target"}`.
#[utoipa::path(
    post,
    path = "/projects/{slug}/compare/short",
    tag = "compare",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = ShortLinkBody, example = json!({"query": "base=branch:main&head=release:v1.4.0"})),
    responses((status = 201, description = "Created", body = super::bodies::ShortLink), ApiErrors)
)]
pub async fn create_short(
    State(state): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    JsonBody(body): JsonBody<ShortLinkBody>,
) -> ApiResult<(StatusCode, Json<ShortLink>)> {
    let project = state.store.project(&slug).await?;
    actor.require_any(&[Right::Ingest, Right::Triage], Some(project.id))?;
    let (spec, _) = parse_spec(&body.query)?;
    if spec.head.is_none() {
        return Err(bad_field("query", "needs head=…"));
    }
    let query = spec.to_query_string();
    let id = state.store.create_short_link(project.id, &query).await?;
    let path = format!("/c/{id}");
    Ok((
        StatusCode::CREATED,
        Json(ShortLink {
            url: format!("{}{path}", state.public_url),
            target: spec.page_path(&slug),
            id,
            path,
        }),
    ))
}

/// `GET /c/{id}`: to the full compare page.
pub async fn follow_short(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Redirect> {
    let (slug, query) = state.store.short_link(&id).await?;
    Ok(Redirect::to(&format!("/projects/{slug}/compare?{query}")))
}

fn num(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row per series, rows as filtered and sorted on the page.
pub fn to_csv(v: &ComparisonView) -> String {
    let mut out = String::from(
        "series_id,benchmark,params,measure,unit,testbed,direction,verdict,base_n,base_median,base_ci_low,base_ci_high,head_n,head_median,head_ci_low,head_ci_high,change_pct,change_ci_low,change_ci_high,p_value,p_adjusted\n",
    );
    for r in &v.rows {
        let side = |s: &Option<perfwatch_core::comparison::SideSummary>| match s {
            Some(s) => format!("{},{},{},{}", s.n, s.median, s.ci_low, s.ci_high),
            None => ",,,".into(),
        };
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.series.id,
            csv_field(&r.series.benchmark),
            csv_field(&r.series.params),
            csv_field(&r.series.measure),
            csv_field(&r.series.unit),
            csv_field(&r.series.testbed),
            r.series.direction.as_str(),
            r.verdict.as_str(),
            side(&r.base),
            side(&r.head),
            num(r.change_pct),
            num(r.change_low),
            num(r.change_high),
            num(r.p_value),
            num(r.p_adjusted),
        ));
    }
    out
}

fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{}{:.1}%", if p >= 0.0 { "+" } else { "" }, p))
        .unwrap_or_else(|| "–".into())
}

fn md_row(r: &CompareRow) -> String {
    let name = if r.series.params.is_empty() {
        r.series.benchmark.clone()
    } else {
        format!("{} [{}]", r.series.benchmark, r.series.params)
    };
    let med = |s: &Option<perfwatch_core::comparison::SideSummary>| {
        s.map(|s| perfwatch_core::units::format_value(s.median, &r.series.unit))
            .unwrap_or_else(|| "–".into())
    };
    format!(
        "| {} · {} · {} | {} | {} | {} [{}, {}] | {} |\n",
        name.replace('|', "\\|"),
        r.series.measure,
        r.series.testbed,
        med(&r.base),
        med(&r.head),
        pct(r.change_pct),
        pct(r.change_low),
        pct(r.change_high),
        r.p_adjusted
            .or(r.p_value)
            .map(|p| format!("{p:.3}"))
            .unwrap_or_else(|| "–".into()),
    )
}

/// A pull-request comment: counts, geomean, the 5 largest regressions and
/// improvements, and the permalink.
pub fn to_markdown(v: &ComparisonView, permalink: &str) -> String {
    let s = &v.summary;
    let mut out = format!(
        "### perfwatch: `{}` vs `{}`\n\n",
        v.head.spec.to_text(),
        v.base.spec.to_text()
    );
    out.push_str(&format!(
        "**{} regressions**, **{} improvements**, {} unchanged, {} inconclusive, {} added, {} removed ({} series).\n\n",
        s.regressions, s.improvements, s.unchanged, s.inconclusive, s.added, s.removed, s.total
    ));
    if let Some(g) = s.geomean.change_pct {
        out.push_str(&format!(
            "Geomean of head/base medians: {} over {} series{}.\n\n",
            pct(Some(g)),
            s.geomean.series,
            s.geomean
                .better_pct
                .map(|b| format!(" ({} better overall, direction-aware)", pct(Some(b))))
                .unwrap_or_default()
        ));
    }
    let header = "| series | base | head | change [95% CI] | p (adj.) |\n|---|---|---|---|---|\n";
    for (title, verdict) in [
        ("Biggest regressions", RowVerdict::Regression),
        ("Biggest improvements", RowVerdict::Improvement),
    ] {
        let mut rows: Vec<&CompareRow> = v.rows.iter().filter(|r| r.verdict == verdict).collect();
        if rows.is_empty() {
            continue;
        }
        rows.sort_by(|a, b| {
            let size = |r: &CompareRow| r.change_pct.map(f64::abs).unwrap_or(0.0);
            size(b).total_cmp(&size(a))
        });
        out.push_str(&format!("#### {title}\n\n{header}"));
        for r in rows.iter().take(5) {
            out.push_str(&md_row(r));
        }
        if rows.len() > 5 {
            out.push_str(&format!("\n…and {} more.\n", rows.len() - 5));
        }
        out.push('\n');
    }
    out.push_str(&format!("[Full comparison]({permalink})\n"));
    out
}
