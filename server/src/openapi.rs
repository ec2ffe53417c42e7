//! The OpenAPI 3.1 document of the REST API (`GET /api/v1/openapi.json`, rendered at
//! `/api/docs` by [`crate::openapi_page`]). Routes and their documentation come from
//! one place: `api::routes` registers every handler with its `#[utoipa::path]`
//! annotation (utoipa-axum's `routes!`), so the paths, parameters, bodies and answers
//! here are generated from the handlers' own types. This module adds what no single
//! handler knows: the auth schemes, which routes need which right (read from
//! [`MUTATING_ROUTES`], the table the rights middleware enforces), the routes outside
//! `/api/v1` and the shared error answers.

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::Extension;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
use utoipa::openapi::security::{SecurityRequirement, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa::OpenApi as _;

use crate::api::auth::{MUTATING_ROUTES, SESSION_COOKIE};

/// Where the API's own routes are mounted.
pub const API_PREFIX: &str = "/api/v1";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "perfwatch REST API",
        description = "Submit benchmark runs, read series, alerts and comparisons, triage, and administer \
perfwatch. Concepts (the native run format, series, alerts, comparisons) are explained in docs/api.md; this \
document is generated from the server's handlers. Every error answer has the `ErrorBody` shape.",
        license(name = "MIT")
    ),
    paths(openapi_json, crate::api::github::webhook, crate::security::report),
    components(schemas(crate::api::error::ErrorBody)),
    tags(
        (name = "runs", description = "Submitting and reading runs"),
        (name = "projects", description = "Projects"),
        (name = "series", description = "Series, their points and chart images"),
        (name = "annotations", description = "Releases, deploys and notes on the timeline"),
        (name = "compare", description = "Comparisons of two sides (commits, branches, runs, releases, time ranges)"),
        (name = "alerts", description = "Alerts, alert groups, detection and threshold rules"),
        (name = "triage", description = "Triage of alerts and alert groups"),
        (name = "admin", description = "Tokens, users, webhooks, ticket templates, the work queue"),
        (name = "jobs", description = "GitHub integration and performance jobs"),
        (name = "metrics", description = "Metric sources (Prometheus) and deploy verdicts"),
        (name = "webhooks", description = "Endpoints other systems call: GitHub deliveries, browsers' CSP reports"),
        (name = "meta", description = "This document")
    )
)]
struct Base;

/// The whole document: the base above, the `/api/v1` routes' own document nested
/// under [`API_PREFIX`], auth schemes and per-route security.
pub fn document(api: OpenApi) -> OpenApi {
    let mut doc = Base::openapi().nest(API_PREFIX, api);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "An API token: `Authorization: Bearer <token>`. Create one with `perfwatch token create` \
or `POST /api/v1/tokens`; a token is global or bound to one project, with scopes ingest, triage, admin.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            SESSION_COOKIE,
            "The session cookie set by logging in (`POST /auth/login`, a form post of name and password). \
Writes with a cookie must come from this site (`Sec-Fetch-Site`/`Origin` checked).",
        ))),
    );
    components.add_security_scheme(
        "github_signature",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Hub-Signature-256",
            "HMAC-SHA256 of the body with the webhook secret of the repository the payload names.",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(route) = path.strip_prefix(API_PREFIX) else {
            continue;
        };
        for (method, op) in operations(item) {
            describe_rights(method, route, op);
        }
    }
    doc
}

/// Every operation of a path item with its method.
pub fn operations(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", item.get.as_mut()),
        ("POST", item.post.as_mut()),
        ("PUT", item.put.as_mut()),
        ("DELETE", item.delete.as_mut()),
        ("PATCH", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// The method names utoipa uses, for callers that walk [`OpenApi::paths`].
pub fn method_name(m: &HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Head => "HEAD",
        HttpMethod::Options => "OPTIONS",
        HttpMethod::Trace => "TRACE",
    }
}

/// Security of one `/api/v1` operation: a mutating route needs a token or a session
/// with the rights of [`MUTATING_ROUTES`]; reads take either but need none (unless the
/// server keeps reads private); an operation that declares its own keeps it.
fn describe_rights(method: &str, route: &str, op: &mut Operation) {
    if op.security.is_some() {
        return;
    }
    let auth = || {
        vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]
    };
    match MUTATING_ROUTES
        .iter()
        .find(|n| n.method == method && n.path == route)
    {
        Some(n) => {
            let rights = n
                .rights
                .iter()
                .map(|r| format!("`{}`", r.as_str()))
                .collect::<Vec<_>>()
                .join(" or ");
            let reach = if n.global {
                "on every project"
            } else {
                "on the project"
            };
            let needs = format!("Needs the {rights} right {reach}.");
            op.description = Some(match op.description.take() {
                Some(d) if !d.is_empty() => format!("{d}\n\n{needs}"),
                _ => needs,
            });
            op.security = Some(auth());
        }
        None => {
            let mut optional = auth();
            optional.push(SecurityRequirement::default());
            op.security = Some(optional);
        }
    }
}

/// The document as JSON, built once at start-up.
#[derive(Clone)]
pub struct DocJson(pub Arc<str>);

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    summary = "This document",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json", body = Object)),
    security((), ("bearer" = []), ("session" = []))
)]
pub async fn openapi_json(Extension(doc): Extension<DocJson>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        doc.0.to_string(),
    )
}
