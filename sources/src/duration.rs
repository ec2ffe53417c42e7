//! Durations as people write them in job files (`90s`, `5m`, `1m30s`, `500ms`) and as
//! Prometheus reads them in range selectors.

use std::time::Duration;

/// Parses `500ms`, `90s`, `5m`, `2h`, `1d` and sums like `1m30s`. Returns why not.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("empty duration (write e.g. 30s or 5m)".into());
    }
    let mut total_ms: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!(
                "`{text}` is not a duration: expected a number at `{rest}`"
            ));
        }
        let (num, tail) = rest.split_at(digits);
        let n: u128 = num
            .parse()
            .map_err(|_| format!("`{text}`: number `{num}` is too large"))?;
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let ms_per: u128 = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("`{text}`: `{num}` needs a unit (ms, s, m, h, d)")),
            other => return Err(format!("`{text}`: unknown unit `{other}` (ms, s, m, h, d)")),
        };
        total_ms = n
            .checked_mul(ms_per)
            .and_then(|v| total_ms.checked_add(v))
            .filter(|v| *v <= u128::from(u64::MAX))
            .ok_or_else(|| format!("`{text}` is too long"))?;
        rest = tail;
    }
    // Bounded by u64::MAX just above, so the conversion cannot fail.
    Ok(Duration::from_millis(
        u64::try_from(total_ms).unwrap_or(u64::MAX),
    ))
}

/// A Prometheus range duration for `ms` milliseconds: whole seconds as `93s`, otherwise
/// `93500ms`, so the range Prometheus sees is exactly the window (no rounding).
pub fn prom_duration_ms(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn rejects_with_reason() {
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(parse_duration("5").unwrap_err().contains("needs a unit"));
        assert!(parse_duration("5w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("s")
            .unwrap_err()
            .contains("expected a number"));
        assert!(parse_duration("99999999999999999999999999999999999999999d").is_err());
    }

    #[test]
    fn prometheus_form_is_exact() {
        assert_eq!(prom_duration_ms(93_000), "93s");
        assert_eq!(prom_duration_ms(93_500), "93500ms");
    }
}
