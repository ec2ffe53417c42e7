//! The one error type of every server function. It travels to the browser as JSON
//! (`{"kind": "forbidden", "reason": "…"}`), so pages and forms read what went wrong from
//! its variant — the HTTP status of a page, the message next to a form field — instead
//! of searching message text. It never carries database text or a stack trace:
//! anything unexpected is logged on the server and answered as `Internal` with the
//! request id only.

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a server function answers when it fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppError {
    /// The thing asked for does not exist (`what`: "series 7").
    NotFound { what: String },
    /// Nobody is logged in (and no token was sent) but the action needs a right.
    Unauthorized { reason: String },
    /// The visitor is known but lacks the right.
    Forbidden { reason: String },
    /// The input clashes with stored data (a name already taken), naming the field.
    Conflict { field: String, reason: String },
    /// Bad input: field name → what is wrong with it (`""`: the input as a whole).
    Invalid { fields: BTreeMap<String, String> },
    /// Something broke on the server; the log has the details under this request id.
    Internal { request_id: String },
    /// The call itself failed before or after the function ran (network, an answer
    /// that does not decode). Built by the framework, never by a server function.
    Call { message: String },
}

impl AppError {
    /// `Invalid` with one field.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            fields: BTreeMap::from([(field.into(), reason.into())]),
        }
    }

    /// The HTTP status that answers this error (a page showing it, or the server
    /// function's own answer).
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } => 404,
            Self::Unauthorized { .. } => 401,
            Self::Forbidden { .. } => 403,
            Self::Conflict { .. } => 409,
            Self::Invalid { .. } => 422,
            Self::Internal { .. } | Self::Call { .. } => 500,
        }
    }

    /// What is wrong with `field`, if that field is named (forms show it beside it).
    pub fn field(&self, field: &str) -> Option<&str> {
        match self {
            Self::Invalid { fields } => fields.get(field).map(String::as_str),
            Self::Conflict { field: f, reason } if f == field => Some(reason),
            _ => None,
        }
    }

    /// Whether the visitor was refused (401 or 403): pages show the refusal itself.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Unauthorized { .. } | Self::Forbidden { .. })
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotFound { what } => write!(f, "{what} not found"),
            Self::Unauthorized { reason } | Self::Forbidden { reason } => {
                write!(f, "forbidden: {reason}")
            }
            Self::Conflict { field, reason } => write!(f, "conflict on {field}: {reason}"),
            Self::Invalid { fields } => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        if k.is_empty() {
                            v.clone()
                        } else {
                            format!("{k}: {v}")
                        }
                    })
                    .collect();
                f.write_str(&parts.join("; "))
            }
            Self::Internal { request_id } => write!(f, "internal error (request {request_id})"),
            Self::Call { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request's arguments did not decode: the client sent bad input.
            ServerFnErrorErr::Args(m) => Self::invalid("", m),
            ServerFnErrorErr::MissingArg(name) => Self::invalid(name, "missing"),
            other => Self::Call {
                message: other.to_string(),
            },
        }
    }

    /// Encodes the error for the HTTP answer of a failed call — the one place a
    /// server-function error becomes a response, so its status is set here too (a
    /// plain HTML form post keeps the framework's redirect back to the form).
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        crate::api_ctx::answer_status(self);
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travels_as_tagged_json_and_back() {
        let e = AppError::invalid("unit", "must not be empty");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"invalid","fields":{"unit":"must not be empty"}}"#
        );
        assert_eq!(AppError::de(json.into()), e);
        assert_eq!(e.field("unit"), Some("must not be empty"));
        assert_eq!(e.field("name"), None);
        assert_eq!(e.status(), 422);
        assert_eq!(e.to_string(), "unit: must not be empty");
    }

    #[test]
    fn statuses_follow_the_variant() {
        let cases = [
            (
                AppError::NotFound {
                    what: "series 7".into(),
                },
                404,
                "series 7 not found",
            ),
            (
                AppError::Unauthorized {
                    reason: "log in".into(),
                },
                401,
                "forbidden: log in",
            ),
            (
                AppError::Forbidden {
                    reason: "no".into(),
                },
                403,
                "forbidden: no",
            ),
            (
                AppError::Conflict {
                    field: "name".into(),
                    reason: "taken".into(),
                },
                409,
                "conflict on name: taken",
            ),
            (
                AppError::Internal {
                    request_id: "abc".into(),
                },
                500,
                "internal error (request abc)",
            ),
        ];
        for (e, status, text) in cases {
            assert_eq!(e.status(), status, "{e:?}");
            assert_eq!(e.to_string(), text);
        }
    }

    #[test]
    fn an_undecodable_answer_is_a_call_error() {
        let e = AppError::de("<html>proxy error</html>".into());
        assert!(matches!(e, AppError::Call { .. }), "{e:?}");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn bad_arguments_are_invalid_input() {
        let e = AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("id".into()));
        assert_eq!(e.field("id"), Some("missing"));
    }
}
