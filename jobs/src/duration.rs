//! Durations as written in `.perfwatch.toml`: `"90s"`, `"5m"`, `"1h30m"`, `"250ms"`.
//!
//! Whole numbers only, so the canonical rendering ([`format()`]) reads back exactly and
//! two spellings of one duration (`"90s"`, `"1m30s"`) hash alike.

use std::time::Duration;

/// The longest duration accepted anywhere: a job that needs more than a day is a typo.
pub const MAX: Duration = Duration::from_secs(24 * 3600);

/// Parses `1h30m`, `90s`, `250ms`: one or more `<digits><unit>` parts, units `h`, `m`,
/// `s`, `ms`, each unit at most once and largest first. Zero and more than a day are
/// refused.
pub fn parse(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration; write e.g. `90s`, `5m` or `1h30m`".into());
    }
    let mut total_ms: u128 = 0;
    let mut rest = t;
    // Rank of the last unit seen: units must go from largest to smallest, once each.
    let mut last_rank = 0u8;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{t}` is not a duration; write e.g. `90s`, `5m` or `1h30m`"
            ));
        }
        let (num, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let (ms_per, rank) = match unit {
            "h" => (3_600_000u128, 1u8),
            "m" => (60_000, 2),
            "s" => (1_000, 3),
            "ms" => (1, 4),
            "" => return Err(format!("`{t}` has no unit; write e.g. `90s` or `5m`")),
            other => {
                return Err(format!(
                    "`{other}` in `{t}` is not a unit; use h, m, s or ms"
                ))
            }
        };
        if rank <= last_rank {
            return Err(format!(
                "`{t}`: write units once each, largest first (e.g. `1h30m`)"
            ));
        }
        last_rank = rank;
        // More than 12 digits is beyond a day in any unit; refusing it early also keeps
        // the arithmetic below far from overflow.
        if num.len() > 12 {
            return Err(format!("`{t}` is longer than a day"));
        }
        let n: u128 = num
            .parse()
            .map_err(|_| format!("`{t}` is not a duration"))?;
        total_ms += n * ms_per;
        rest = next;
    }
    if total_ms == 0 {
        return Err(format!("`{t}` is zero; give a positive duration"));
    }
    let d = Duration::from_millis(u64::try_from(total_ms).unwrap_or(u64::MAX));
    if d > MAX {
        return Err(format!("`{t}` is longer than a day"));
    }
    Ok(d)
}

/// The canonical spelling: `1h30m`, `90ms`, `2m5s`; whole milliseconds.
pub fn format(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, per) in [("h", 3_600_000u128), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        let n = ms / per;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            ms -= n * per;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        assert_eq!(parse("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(format(Duration::from_secs(90)), "1m30s");
        assert_eq!(format(Duration::from_millis(3_600_250)), "1h250ms");
        for bad in [
            "",
            "10",
            "s",
            "5x",
            "1m1h",
            "1s1s",
            "0s",
            "25h",
            "99999999999999999999s",
            "-1s",
            "1.5s",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
