//! A step's request with its templates filled: method, path, headers (with reqwest's
//! defaults kept), bearer token and body.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, Method};

use crate::scenario::{Step, StepKind};
use crate::taxonomy::Failure;
use crate::vars::Vars;

/// A rendered request, before it goes to one transport or the other.
pub(super) struct Outgoing {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The step's request with every template filled.
pub(super) fn render(step: &Step, vars: &Vars<'_>) -> Result<Outgoing, Failure> {
    let StepKind::Http {
        method,
        path,
        headers,
        body,
        bearer,
    } = &step.kind
    else {
        return Err(Failure::Validation(format!(
            "{}: not an HTTP step",
            step.op
        )));
    };
    let mut out = Outgoing {
        method: method.clone(),
        path: path.render(vars).map_err(Failure::Validation)?,
        headers: HeaderMap::new(),
        body: Bytes::new(),
    };
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Failure::Validation(format!("header `{name}`: not a header name")))?;
        let text = value.render(vars).map_err(Failure::Validation)?;
        let value = HeaderValue::from_maybe_shared(Bytes::from(text)).map_err(|_| {
            Failure::Validation(format!("header `{name}`: not a valid header value"))
        })?;
        out.headers.append(name, value);
    }
    // reqwest's default, kept so a service sees the same request as before.
    if !out.headers.contains_key(ACCEPT) {
        out.headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
    }
    if let Some(b) = bearer {
        let token = b.render(vars).map_err(Failure::Validation)?;
        let mut value = HeaderValue::from_maybe_shared(Bytes::from(format!("Bearer {token}")))
            .map_err(|_| Failure::Validation("bearer: not a valid header value".into()))?;
        value.set_sensitive(true);
        out.headers.append(AUTHORIZATION, value);
    }
    if let Some(b) = body {
        let text = b.render(vars).map_err(Failure::Validation)?;
        if text.trim_start().starts_with(['{', '[']) && !out.headers.contains_key(CONTENT_TYPE) {
            out.headers
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        out.body = Bytes::from(text);
    }
    Ok(out)
}
