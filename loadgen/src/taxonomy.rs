//! Error classes. Every failed attempt gets exactly one class: the user's rules from
//! `[errors]` are tried first (in name order), then the built-in classes.

/// Built-in classes, in the order the docs list them.
pub const BUILTIN_CLASSES: [&str; 8] = [
    "connection",
    "timeout",
    "tls",
    "authentication",
    "client",
    "server",
    "validation",
    "other",
];

/// What went wrong with one attempt, before it is classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// An HTTP answer with a status the step does not expect.
    Status { status: u16, message: String },
    /// No HTTP answer: the transport failed.
    Transport {
        kind: TransportKind,
        message: String,
    },
    /// The answer came but an expectation or extraction failed, or a template had no value.
    Validation(String),
    /// The external driver reported a failure, with its own class when it gave one.
    Driver {
        class: Option<String>,
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Connection,
    Timeout,
    Tls,
    Other,
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Self::Status { message, .. }
            | Self::Transport { message, .. }
            | Self::Validation(message)
            | Self::Driver { message, .. } => message,
        }
    }
}

/// A user class from `[errors]`: matches a status in `status`, or a message containing
/// `message`.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRule {
    pub class: String,
    pub status: Vec<u16>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Taxonomy {
    pub rules: Vec<UserRule>,
}

impl Taxonomy {
    pub fn classify(&self, f: &Failure) -> String {
        for r in &self.rules {
            let by_status =
                matches!(f, Failure::Status { status, .. } if r.status.contains(status));
            let by_message = r.message.as_ref().is_some_and(|m| f.message().contains(m));
            if by_status || by_message {
                return r.class.clone();
            }
        }
        builtin(f).to_string()
    }
}

fn builtin(f: &Failure) -> &str {
    match f {
        Failure::Status { status, .. } => match status {
            401 | 403 | 407 => "authentication",
            400..=499 => "client",
            500..=599 => "server",
            _ => "other",
        },
        Failure::Transport { kind, .. } => match kind {
            TransportKind::Connection => "connection",
            TransportKind::Timeout => "timeout",
            TransportKind::Tls => "tls",
            TransportKind::Other => "other",
        },
        Failure::Validation(_) => "validation",
        Failure::Driver { class, .. } => match class.as_deref() {
            Some(c) if !c.is_empty() => c,
            _ => "other",
        },
    }
}

/// The transport kind from what an HTTP client says about an error: its flags and the
/// messages of its source chain (TLS failures surface only as text).
pub fn transport_kind(is_timeout: bool, is_connect: bool, chain: &str) -> TransportKind {
    let lower = chain.to_ascii_lowercase();
    if is_timeout || lower.contains("timed out") {
        TransportKind::Timeout
    } else if ["certificate", "tls", "ssl", "handshake"]
        .iter()
        .any(|w| lower.contains(w))
    {
        TransportKind::Tls
    } else if is_connect
        || [
            "connection refused",
            "connection reset",
            "connection closed",
            "broken pipe",
            "dns error",
            "failed to lookup",
        ]
        .iter()
        .any(|w| lower.contains(w))
    {
        TransportKind::Connection
    } else {
        TransportKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(s: u16) -> Failure {
        Failure::Status {
            status: s,
            message: format!("status {s}"),
        }
    }

    #[test]
    fn builtin_classes() {
        let t = Taxonomy::default();
        assert_eq!(t.classify(&status(401)), "authentication");
        assert_eq!(t.classify(&status(404)), "client");
        assert_eq!(t.classify(&status(503)), "server");
        assert_eq!(t.classify(&Failure::Validation("x".into())), "validation");
        assert_eq!(
            transport_kind(false, true, "tcp connect error: Connection refused"),
            TransportKind::Connection
        );
        assert_eq!(transport_kind(true, false, ""), TransportKind::Timeout);
        assert_eq!(
            transport_kind(false, true, "invalid peer certificate"),
            TransportKind::Tls
        );
    }

    #[test]
    fn user_rules_win() {
        let t = Taxonomy {
            rules: vec![
                UserRule {
                    class: "rate_limited".into(),
                    status: vec![429],
                    message: None,
                },
                UserRule {
                    class: "quota".into(),
                    status: vec![],
                    message: Some("quota".into()),
                },
            ],
        };
        assert_eq!(t.classify(&status(429)), "rate_limited");
        assert_eq!(t.classify(&status(428)), "client");
        let d = Failure::Driver {
            class: Some("authentication".into()),
            message: "quota exceeded".into(),
        };
        assert_eq!(t.classify(&d), "quota");
    }
}
