//! Text forms used in scenario files: durations (`250ms`, `1.5s`, `2m`), rates
//! (`200/s`, `30/m`) and threshold quantities (`250ms`, `0.1%`, `150/s`, `3`).

use std::time::Duration;

/// Parses `500us`, `250ms`, `1.5s`, `2m`, `1h`; a bare number is an error so that a
/// forgotten unit never means seconds by surprise.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{t}` has no unit; write e.g. `250ms`, `10s` or `2m`"))?;
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{t}` is not a duration (e.g. `250ms`, `10s`)"))?;
    let seconds = match unit.trim() {
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        u => {
            return Err(format!(
                "unknown duration unit `{u}` in `{t}` (us, ms, s, m, h)"
            ))
        }
    };
    if !seconds.is_finite() || seconds > 86_400.0 * 7.0 {
        return Err(format!("`{t}` is out of range (at most a week)"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses `200/s`, `30/m`, `0.5/s` into operations per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, per) = t
        .split_once('/')
        .ok_or_else(|| format!("`{t}` is not a rate; write e.g. `200/s` or `30/m`"))?;
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{t}` is not a rate; write e.g. `200/s`"))?;
    let per_second = match per.trim() {
        "s" => value,
        "m" | "min" => value / 60.0,
        "h" => value / 3600.0,
        u => return Err(format!("unknown rate unit `/{u}` in `{t}` (/s, /m, /h)")),
    };
    if !per_second.is_finite() || !(0.0..=10_000_000.0).contains(&per_second) {
        return Err(format!("`{t}` is out of range (0 to 10,000,000/s)"));
    }
    Ok(per_second)
}

/// A threshold's right-hand side, in the unit the metric is reported in (times in
/// ms, rates in /s, error rates in %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    Millis(f64),
    Percent(f64),
    PerSecond(f64),
    Plain(f64),
}

impl Quantity {
    pub fn value(self) -> f64 {
        match self {
            Self::Millis(v) | Self::Percent(v) | Self::PerSecond(v) | Self::Plain(v) => v,
        }
    }
}

pub fn parse_quantity(text: &str) -> Result<Quantity, String> {
    let t = text.trim();
    if let Some(p) = t.strip_suffix('%') {
        let v: f64 = p
            .trim()
            .parse()
            .map_err(|_| format!("`{t}` is not a percentage"))?;
        return finite(v, t).map(Quantity::Percent);
    }
    if t.contains('/') {
        return parse_rate(t).map(Quantity::PerSecond);
    }
    if t.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return parse_duration(t).map(|d| Quantity::Millis(d.as_secs_f64() * 1e3));
    }
    let v: f64 = t
        .parse()
        .map_err(|_| format!("`{t}` is not a number, duration, rate or percentage"))?;
    finite(v, t).map(Quantity::Plain)
}

fn finite(v: f64, t: &str) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("`{t}` is not a finite number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("3 parsecs").is_err());
        assert_eq!(parse_rate("200/s").unwrap(), 200.0);
        assert_eq!(parse_rate("30/m").unwrap(), 0.5);
        assert!(parse_rate("200").is_err());
        assert!(parse_rate("-1/s").is_err());
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("250ms").unwrap(), Quantity::Millis(250.0));
        assert_eq!(parse_quantity("0.1%").unwrap(), Quantity::Percent(0.1));
        assert_eq!(parse_quantity("150/s").unwrap(), Quantity::PerSecond(150.0));
        assert_eq!(parse_quantity("3").unwrap(), Quantity::Plain(3.0));
        assert!(parse_quantity("lots").is_err());
    }

    proptest::proptest! {
        #[test]
        fn duration_parsing_never_panics(s in "\\PC{0,12}") {
            let _ = parse_duration(&s);
            let _ = parse_rate(&s);
            let _ = parse_quantity(&s);
        }

        #[test]
        fn millis_round_trip(ms in 0u64..10_000_000) {
            proptest::prop_assert_eq!(parse_duration(&format!("{ms}ms")).unwrap(), Duration::from_millis(ms));
        }
    }
}
