//! The Content-Security-Policy of a page. Leptos gives every server-rendered page a
//! fresh nonce and puts it on the inline scripts it writes (the hydration loader and
//! the resolved-resource data); the policy allows scripts from this origin and those
//! nonced scripts only, so an injected inline script or a script from elsewhere does
//! not run. Violations are reported to `/csp-report` (counted in `/metrics`).
//!
//! Styles: the stylesheet comes from this origin, but the SVG chart sets positions
//! and colours through `style` attributes, hence `'unsafe-inline'` for styles only
//! (styles cannot run code).

use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// The policy for a page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; \
         report-uri /csp-report"
    )
}

/// Sets the page policy on the current response (server rendering only).
pub fn set_page_policy() {
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    if let Ok(v) = http::HeaderValue::from_str(&page_policy(&nonce)) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, v);
    }
}
