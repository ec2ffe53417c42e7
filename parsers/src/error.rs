//! The one error type: which format, where in the input, and what was expected there.

use std::fmt;

use crate::Format;

/// Where in the input a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line of a text input (for `go-json`, the line of the JSON event).
    Line(usize),
    /// JSON path such as `benchmarks[3].real_time` (empty for the document itself).
    Path(String),
    /// The input as a whole (e.g. it holds no benchmark at all).
    Input,
    /// Inside one of several files.
    File(String, Box<Location>),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Path(p) if p.is_empty() => write!(f, "document"),
            Location::Path(p) => write!(f, "{p}"),
            Location::Input => write!(f, "input"),
            Location::File(name, inner) => write!(f, "{name}: {inner}"),
        }
    }
}

/// A harness output that could not be read, e.g.
/// `go: line 12: expected "<value> <unit>" pairs after the iteration count`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{format}: {location}: expected {expected}")]
pub struct ParseError {
    pub format: Format,
    pub location: Location,
    /// What the parser expected to find there.
    pub expected: String,
}

impl ParseError {
    pub fn new(format: Format, location: Location, expected: impl Into<String>) -> Self {
        Self {
            format,
            location,
            expected: expected.into(),
        }
    }

    pub(crate) fn line(format: Format, line: usize, expected: impl Into<String>) -> Self {
        Self::new(format, Location::Line(line), expected)
    }

    pub(crate) fn path(format: Format, path: &str, expected: impl Into<String>) -> Self {
        Self::new(format, Location::Path(path.to_string()), expected)
    }

    /// The same error, located inside the file `name`.
    pub fn in_file(self, name: &str) -> Self {
        Self {
            location: Location::File(name.to_string(), Box::new(self.location)),
            ..self
        }
    }
}
