//! Run validity as people read it. `runs.invalid_reason` (migration 0015) holds the
//! metadata's `invalid_reasons` JSON array for an invalid run; pages, the REST answers
//! and comparison labels show it as one line of text.

/// The stored JSON array of reasons joined by `; ` (`"marked invalid"` for an empty
/// list; text that is not a JSON list of strings is shown as it is).
pub fn reason_text(stored: &str) -> String {
    match serde_json::from_str::<Vec<String>>(stored) {
        Ok(v) if !v.is_empty() => v.join("; "),
        Ok(_) => "marked invalid".to_string(),
        Err(_) => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::reason_text;

    #[test]
    fn reasons_are_joined_and_odd_values_kept() {
        assert_eq!(
            reason_text(r#"["rate 150/s under 95 %","3 arrivals dropped"]"#),
            "rate 150/s under 95 %; 3 arrivals dropped"
        );
        assert_eq!(reason_text("[]"), "marked invalid");
        assert_eq!(reason_text("\"gen saturated\""), "\"gen saturated\"");
    }
}
