//! Security headers on every answer, and the CSP violation report endpoint.
//!
//! Pages set their own nonce-based Content-Security-Policy (`perfwatch_app::security`);
//! every other answer (API JSON, images, the wasm bundle, errors) gets a policy that
//! allows nothing to run or frame it. HSTS is sent only when the public URL is https,
//! since a browser that saw it over plain http on a LAN address would refuse the
//! server afterwards.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Policy of answers that are not pages.
const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";
const HSTS: &str = "max-age=31536000; includeSubDomains";
/// A CSP report is a small JSON object; anything larger is not one.
pub const MAX_REPORT_BYTES: usize = 16 * 1024;

pub async fn headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, NON_PAGE_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    if state.public_url.starts_with("https://") {
        set(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    resp
}

/// `POST /csp-report`: a browser reports a blocked script or style. Logged and counted
/// by directive; nothing is stored. Reports come from the browser itself, without
/// the page's cookies or origin headers, so this route is exempt from the login and
/// cross-site checks; its route accepts at most [`MAX_REPORT_BYTES`].
#[utoipa::path(
    post,
    path = "/csp-report",
    tag = "webhooks",
    summary = "Browsers' CSP violation reports",
    request_body(
        content = serde_json::Value,
        content_type = "application/csp-report",
        description = "A CSP violation report as browsers send it (at most 16 KiB)",
        example = json!({"csp-report": {"document-uri": "http://127.0.0.1/", "violated-directive": "script-src-elem", "effective-directive": "script-src-elem", "blocked-uri": "inline"}})
    ),
    responses(
        (status = 204, description = "Logged and counted by directive"),
        (status = 400, description = "Not JSON (empty body)"),
        (status = 413, description = "Larger than 16 KiB (plain-text body)")
    ),
    security(())
)]
pub async fn report(State(state): State<AppState>, body: Bytes) -> StatusCode {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let r = &v["csp-report"];
    let directive = r["effective-directive"]
        .as_str()
        .or_else(|| r["violated-directive"].as_str())
        .unwrap_or("");
    let directive = directive_label(directive);
    tracing::warn!(
        directive,
        blocked = r["blocked-uri"].as_str().unwrap_or(""),
        page = r["document-uri"].as_str().unwrap_or(""),
        "content security policy violation"
    );
    state.metrics.observe_csp_violation(directive);
    StatusCode::NO_CONTENT
}

/// The directive name as a metric label: a known directive, else `other`, so a forged
/// report cannot grow the label space.
fn directive_label(reported: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "connect-src",
        "default-src",
        "object-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
    ];
    let name = reported.split_whitespace().next().unwrap_or("");
    KNOWN
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::directive_label;

    #[test]
    fn reported_directives_map_to_a_fixed_label_set() {
        assert_eq!(directive_label("script-src-elem"), "script-src-elem");
        assert_eq!(directive_label("script-src 'self' 'nonce-x'"), "script-src");
        assert_eq!(directive_label("made-up-{id}"), "other");
        assert_eq!(directive_label(""), "other");
    }
}
