//! Secrets in `Debug` output: types that carry a password, token or signing secret
//! implement `Debug` by hand and show these values through [`Redacted`], so a stray
//! `{:?}` in a log line or an error message never prints one.

use std::fmt;

/// Shows whether a secret is there, never what it is.
pub struct Redacted<'a, T: ?Sized>(pub &'a T);

/// What a redacted value prints as.
pub const REDACTED: &str = "<redacted>";

impl fmt::Debug for Redacted<'_, String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str(REDACTED)
        }
    }
}

impl fmt::Debug for Redacted<'_, Option<String>> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("None"),
            Some(_) => write!(f, "Some({REDACTED})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_shows_value_does_not() {
        let s = "hunter2".to_string();
        assert_eq!(format!("{:?}", Redacted(&s)), "<redacted>");
        assert_eq!(format!("{:?}", Redacted(&String::new())), "\"\"");
        assert_eq!(format!("{:?}", Redacted(&Some(s))), "Some(<redacted>)");
        assert_eq!(format!("{:?}", Redacted(&None::<String>)), "None");
    }
}
