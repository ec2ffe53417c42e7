//! A project's holiday calendar over REST: read by anyone who may read the project,
//! replaced as a whole by its admins (`MUTATING_ROUTES`).

use axum::extract::{Path, State};
use axum::Json;
use perfwatch_backend::holidays::{HolidayCalendar, HolidayInput};
use serde::{Deserialize, Serialize};

use super::auth::Who;
use super::error::{ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;

/// Body of `PUT /projects/{slug}/holidays` (the CLI sends this type too).
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidaysBody {
    /// The whole calendar (an empty list removes every holiday).
    pub holidays: Vec<HolidayInput>,
}

/// `GET /api/v1/projects/{slug}/holidays`.
#[utoipa::path(
    get,
    path = "/projects/{slug}/holidays",
    tag = "metrics",
    summary = "The project's holidays",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The holidays, by date", body = HolidayCalendar), ApiErrors)
)]
pub async fn get(
    State(st): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<HolidayCalendar>> {
    Ok(Json(
        perfwatch_backend::holidays::holidays(&st.store, &slug).await?,
    ))
}

/// `PUT /api/v1/projects/{slug}/holidays`: replaces the calendar.
#[utoipa::path(
    put,
    path = "/projects/{slug}/holidays",
    tag = "metrics",
    summary = "Replace the project's holidays",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = HolidaysBody, example = json!({"holidays": [{"date": "2026-12-25", "name": "Christmas"}]})),
    responses((status = 200, description = "The saved holidays, by date", body = HolidayCalendar), ApiErrors)
)]
pub async fn put(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    JsonBody(b): JsonBody<HolidaysBody>,
) -> ApiResult<Json<HolidayCalendar>> {
    Ok(Json(
        perfwatch_backend::holidays::set_holidays(&st.store, &actor, &slug, &b.holidays).await?,
    ))
}
