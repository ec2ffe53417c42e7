//! Comparisons over REST: JSON, CSV and a Markdown pull-request comment; short
//! permalinks (`/c/<id>`). Thin: parse the spec, call the use case, format.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use perfwatch_backend::comparison::compare as compare_use_case;
use perfwatch_core::comparison::{decode_query, CompareSpec, ComparisonView};
use perfwatch_core::digest::{self, view_digest};
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
            to_markdown(&view, Some(permalink)),
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

/// Rows the Markdown export lists, significant ones first.
const MARKDOWN_ROWS: usize = 10;

/// The comparison as Markdown through the one summary renderer (`core::digest`): the
/// same digest as `perfwatch compare --summary` and the job's PR comment, with the
/// compare page's permalink when there is one (none offline).
pub fn to_markdown(v: &ComparisonView, permalink: Option<String>) -> String {
    digest::to_markdown(&view_digest(v, permalink, MARKDOWN_ROWS))
}
