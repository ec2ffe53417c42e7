//! Alerts, alert groups, on-demand detection and threshold rules.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_core::alerts::{
    AlertDirection, AlertFilter, AlertGroupView, AlertKind, AlertView, DetectSummary,
    ThresholdRuleView,
};
use perfwatch_core::validate::parse_json;
use perfwatch_core::{FieldError, ValidationErrors};
use serde::Deserialize;

use super::bodies::Created;

use perfwatch_backend::accounts::Right;

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;

/// Query of `GET /alerts`. `min_change` is in percent.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    pub project: Option<String>,
    pub direction: Option<String>,
    pub min_change: Option<f64>,
    pub max_age_days: Option<i64>,
    pub kind: Option<String>,
    pub series: Option<i64>,
    pub limit: Option<i64>,
    /// Triage state: untriaged, acknowledged, fixed, wontfix, expected, invalid.
    pub state: Option<String>,
    /// Assignee name, or `none` for unassigned.
    pub assignee: Option<String>,
}

fn bad(field: &str, reason: &str) -> ApiError {
    ApiError::invalid(
        StatusCode::BAD_REQUEST,
        ValidationErrors {
            errors: vec![FieldError::new(field, reason)],
        },
    )
}

impl AlertsQuery {
    fn to_filter(&self) -> ApiResult<AlertFilter> {
        let direction = match &self.direction {
            None => None,
            Some(d) => Some(
                AlertDirection::parse(d)
                    .ok_or_else(|| bad("direction", "must be 'regression' or 'improvement'"))?,
            ),
        };
        let kind = match &self.kind {
            None => None,
            Some(k) => Some(
                AlertKind::parse(k)
                    .ok_or_else(|| bad("kind", "must be 'changepoint', 'threshold' or 'drift'"))?,
            ),
        };
        if self
            .min_change
            .is_some_and(|m| !(m.is_finite() && m >= 0.0))
        {
            return Err(bad("min_change", "must be a percentage >= 0"));
        }
        if self.max_age_days.is_some_and(|d| d <= 0) {
            return Err(bad("max_age_days", "must be > 0"));
        }
        if self.limit.is_some_and(|l| !(1..=500).contains(&l)) {
            return Err(bad("limit", "must be between 1 and 500"));
        }
        Ok(AlertFilter {
            project: self.project.clone(),
            direction,
            min_change: self.min_change,
            max_age_days: self.max_age_days,
            kind,
            series_id: self.series,
            limit: self.limit,
            state: match &self.state {
                None => None,
                Some(s) => Some(perfwatch_core::alerts::TriageState::parse(s).ok_or_else(
                    || {
                        bad(
                            "state",
                            "must be untriaged, acknowledged, fixed, wontfix, expected or invalid",
                        )
                    },
                )?),
            },
            assignee: self.assignee.clone().filter(|a| !a.is_empty()),
        })
    }
}

#[utoipa::path(
    get,
    path = "/alerts",
    tag = "alerts",
    summary = "List alerts",
    params(
        ("project" = Option<String>, Query, description = "Project slug"),
        ("direction" = Option<String>, Query, description = "`regression` or `improvement`"),
        ("min_change" = Option<f64>, Query, description = "Smallest relative change, percent"),
        ("max_age_days" = Option<i64>, Query, description = "Detected within this many days"),
        ("kind" = Option<String>, Query, description = "`changepoint`, `threshold` or `drift`"),
        ("series" = Option<i64>, Query, description = "Series id"),
        ("limit" = Option<i64>, Query, description = "1 to 500"),
        ("state" = Option<String>, Query, description = "untriaged, acknowledged, fixed, wontfix, expected or invalid"),
        ("assignee" = Option<String>, Query, description = "Assignee name, or `none`")
    ),
    responses((status = 200, description = "Alerts, newest first", body = Vec<perfwatch_core::alerts::AlertView>), ApiErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    Query(q): Query<AlertsQuery>,
) -> ApiResult<Json<Vec<AlertView>>> {
    let f = q.to_filter()?;
    if let Some(p) = &f.project {
        state.store.project(p).await?;
    }
    Ok(Json(state.store.list_alerts(&f).await?))
}

#[utoipa::path(
    get,
    path = "/alerts/{id}",
    tag = "alerts",
    summary = "One alert",
    params(("id" = i64, Path, description = "Alert id")),
    responses((status = 200, description = "The alert", body = perfwatch_core::alerts::AlertView), ApiErrors)
)]
pub async fn get_one(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertView>> {
    Ok(Json(state.store.alert(id).await?))
}

#[utoipa::path(
    get,
    path = "/alert-groups/{id}",
    tag = "alerts",
    summary = "One alert group",
    params(("id" = i64, Path, description = "Alert group id")),
    responses((status = 200, description = "The group with its alerts, triage, history and notes", body = perfwatch_core::alerts::AlertGroupView), ApiErrors)
)]
pub async fn group(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AlertGroupView>> {
    Ok(Json(state.store.alert_group(id).await?))
}

/// Query of `POST /projects/{slug}/detect`.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct DetectQuery {
    /// Judge threshold rules on every point, not only the newest (default true).
    pub history: Option<bool>,
}

#[utoipa::path(
    post,
    path = "/projects/{slug}/detect",
    tag = "alerts",
    summary = "Run detection on a project",
    params(("slug" = String, Path, description = "Project slug"), ("history" = Option<bool>, Query, description = "Judge threshold rules on every point, not only the newest (default true)")),
    responses((status = 200, description = "What the detection pass did", body = perfwatch_core::alerts::DetectSummary), ApiErrors)
)]
pub async fn detect(
    State(state): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    Query(q): Query<DetectQuery>,
) -> ApiResult<Json<DetectSummary>> {
    let project = state.store.project(&slug).await?;
    actor.require(Right::Ingest, Some(project.id))?;
    let settings = DetectSettings {
        threshold_history: q.history.unwrap_or(true),
        ..Default::default()
    };
    Ok(Json(
        detect_project(&state.store, &slug, Scope::All, &settings).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/projects/{slug}/thresholds",
    tag = "alerts",
    summary = "A project's threshold rules",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The project's threshold rules", body = Vec<perfwatch_core::alerts::ThresholdRuleView>), ApiErrors)
)]
pub async fn list_thresholds(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<ThresholdRuleView>>> {
    let project = state.store.project(&slug).await?;
    Ok(Json(state.store.threshold_rule_views(project.id).await?))
}

/// Body of `POST /projects/{slug}/thresholds`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewThreshold {
    #[serde(default)]
    pub series_id: Option<i64>,
    #[serde(default)]
    pub measure: Option<String>,
    pub rule: perfwatch_backend::detection::engine::threshold::ThresholdRule,
}

#[utoipa::path(
    post,
    path = "/projects/{slug}/thresholds",
    tag = "alerts",
    summary = "Add a threshold rule",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = NewThreshold, example = json!({"measure": "latency", "rule": {"kind": "percent_change", "baseline": {"kind": "median_of_last", "n": 10}, "max_increase": 0.1}})),
    responses((status = 201, description = "Created", body = super::bodies::Created), ApiErrors)
)]
pub async fn create_threshold(
    State(state): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let t: NewThreshold =
        parse_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    let project = state.store.project(&slug).await?;
    actor.require(Right::Triage, Some(project.id))?;
    if let Err(e) = t.rule.validate() {
        return Err(ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            ValidationErrors {
                errors: vec![FieldError::new("rule", e.to_string())],
            },
        ));
    }
    if t.measure
        .as_deref()
        .is_some_and(|m| m.is_empty() || m.len() > 200)
    {
        return Err(ApiError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            ValidationErrors {
                errors: vec![FieldError::new("measure", "must be 1 to 200 characters")],
            },
        ));
    }
    let rule = serde_json::to_string(&t.rule)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let id = state
        .store
        .create_threshold_rule(project.id, t.series_id, t.measure.as_deref(), &rule)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(
    delete,
    path = "/thresholds/{id}",
    tag = "alerts",
    summary = "Delete a threshold rule",
    params(("id" = i64, Path, description = "Threshold rule id")),
    responses((status = 204, description = "Deleted"), ApiErrors)
)]
pub async fn delete_threshold(
    State(state): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    // The route names no project, so the right is checked on the rule's own project.
    let owner = state.store.threshold_rule_project(id).await?;
    actor.require(Right::Triage, Some(owner))?;
    state.store.delete_threshold_rule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
