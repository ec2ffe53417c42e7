//! A project's holiday calendar: local dates (in the timezone of its production series)
//! on which traffic is not a normal day of the week. The seasonal deploy verdict leaves
//! weeks that touch a holiday out of its expectation and judges a deploy on a holiday
//! against past holidays; production detection does not see a holiday as two changes.
//!
//! Pure: dates in, answers out; the timezone database is compiled in (chrono-tz).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Tz;

/// One holiday: a local calendar date and its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Holiday {
    /// Local date, `YYYY-MM-DD`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-12-25"))]
    pub date: NaiveDate,
    pub name: String,
}

/// Longest holiday name kept (characters).
pub const MAX_NAME_CHARS: usize = 100;

/// Most holidays one calendar holds (a century of a dozen a year).
pub const MAX_HOLIDAYS: usize = 2_000;

/// Checks one holiday's name; the error says what is wrong.
pub fn check_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("is empty; give the holiday a name".into());
    }
    if n.chars().count() > MAX_NAME_CHARS {
        return Err(format!("is longer than {MAX_NAME_CHARS} characters"));
    }
    if n.chars().any(char::is_control) {
        return Err("holds a control character".into());
    }
    Ok(n.to_string())
}

/// Parses a date `YYYY-MM-DD`; the error names the value.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{}' is not a date YYYY-MM-DD", s.trim()))
}

/// Parses `2026-12-25:Christmas` (the CLI's and the file's form).
pub fn parse_spec(spec: &str) -> Result<Holiday, String> {
    let (date, name) = spec.split_once(':').ok_or_else(|| {
        format!(
            "'{}' is not DATE:NAME (e.g. 2026-12-25:Christmas)",
            spec.trim()
        )
    })?;
    let date = parse_date(date)?;
    let name = check_name(name).map_err(|e| format!("the name of {date} {e}"))?;
    Ok(Holiday { date, name })
}

/// Parses a holiday file: one `DATE:NAME` per line; blank lines and lines starting with
/// `#` are skipped. The error names the line (1-based).
pub fn parse_file(text: &str) -> Result<Vec<Holiday>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        out.push(parse_spec(l).map_err(|e| format!("line {}: {e}", i + 1))?);
    }
    Ok(out)
}

/// A set of holidays looked up by local date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    days: BTreeMap<NaiveDate, String>,
}

impl Holidays {
    /// The calendar of `list` (a date listed twice keeps the last name).
    pub fn new(list: &[Holiday]) -> Self {
        Self {
            days: list.iter().map(|h| (h.date, h.name.clone())).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// The holiday on local date `d`.
    pub fn on(&self, d: NaiveDate) -> Option<&str> {
        self.days.get(&d).map(String::as_str)
    }

    /// The local date of instant `t_ms` in `tz`.
    pub fn local_date(t_ms: i64, tz: Tz) -> Option<NaiveDate> {
        Some(
            Utc.timestamp_millis_opt(t_ms)
                .single()?
                .with_timezone(&tz)
                .date_naive(),
        )
    }

    /// The holiday at instant `t_ms`, local time in `tz`.
    pub fn at(&self, t_ms: i64, tz: Tz) -> Option<&str> {
        if self.days.is_empty() {
            return None;
        }
        self.on(Self::local_date(t_ms, tz)?)
    }

    /// The first holiday (date, name) that the instants `[start, end)` touch in `tz`.
    /// An empty or out-of-range span touches nothing.
    pub fn touching(&self, start: i64, end: i64, tz: Tz) -> Option<(NaiveDate, &str)> {
        if self.days.is_empty() || end <= start {
            return None;
        }
        let first = Self::local_date(start, tz)?;
        // The last instant inside the span.
        let last = Self::local_date(end - 1, tz)?;
        self.days
            .range(first..=last)
            .next()
            .map(|(d, n)| (*d, n.as_str()))
    }

    /// The instant of local midnight starting the run of consecutive holidays that
    /// holds `date` (Christmas Eve, Christmas and Boxing Day are one run).
    pub fn run_start(&self, date: NaiveDate, tz: Tz) -> Option<i64> {
        let mut first = date;
        while let Some(p) = first.pred_opt() {
            if self.on(p).is_none() {
                break;
            }
            first = p;
        }
        let midnight = first.and_hms_opt(0, 0, 0)?;
        let at = match tz.from_local_datetime(&midnight) {
            chrono::LocalResult::Single(t) => t,
            chrono::LocalResult::Ambiguous(a, _) => a,
            chrono::LocalResult::None => tz
                .from_local_datetime(&midnight.checked_add_signed(Duration::hours(1))?)
                .earliest()?,
        };
        Some(at.timestamp_millis())
    }

    /// Holidays before `date` (newest first).
    pub fn before(&self, date: NaiveDate) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.days.range(..date).rev().map(|(d, n)| (*d, n.as_str()))
    }

    /// The instant at the same local wall-clock time as `t_ms`, moved from local date
    /// `from` to local date `to` (a time that did not exist that day moves an hour
    /// later; one that happened twice is the earlier). None when out of range.
    pub fn same_local_time(t_ms: i64, from: NaiveDate, to: NaiveDate, tz: Tz) -> Option<i64> {
        let local = Utc
            .timestamp_millis_opt(t_ms)
            .single()?
            .with_timezone(&tz)
            .naive_local();
        let days = to.signed_duration_since(from).num_days();
        let target = local.checked_add_signed(Duration::try_days(days)?)?;
        let at = match tz.from_local_datetime(&target) {
            chrono::LocalResult::Single(t) => t,
            chrono::LocalResult::Ambiguous(a, _) => a,
            chrono::LocalResult::None => tz
                .from_local_datetime(&target.checked_add_signed(Duration::hours(1))?)
                .earliest()?,
        };
        Some(at.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn specs_and_files_parse_and_errors_name_the_line() {
        let h = parse_spec("2026-12-25:Christmas").unwrap();
        assert_eq!(h.date, d("2026-12-25"));
        assert_eq!(h.name, "Christmas");
        assert!(parse_spec("2026-13-01:X")
            .unwrap_err()
            .contains("2026-13-01"));
        assert!(parse_spec("2026-12-25").unwrap_err().contains("DATE:NAME"));
        assert!(parse_spec("2026-12-25: ").unwrap_err().contains("empty"));
        let f = parse_file("# holidays\n2026-12-25:Christmas\n\n2026-12-26:Boxing Day\n").unwrap();
        assert_eq!(f.len(), 2);
        let e = parse_file("2026-12-25:Christmas\n2026-02-30:Nope\n").unwrap_err();
        assert!(e.starts_with("line 2:") && e.contains("2026-02-30"), "{e}");
    }

    #[test]
    fn touching_uses_local_dates() {
        let cal = Holidays::new(&[Holiday {
            date: d("2026-12-25"),
            name: "Christmas".into(),
        }]);
        let tz: Tz = "Europe/Amsterdam".parse().unwrap();
        // 2026-12-24 23:30 UTC is 00:30 on the 25th in Amsterdam.
        let t = Utc
            .with_ymd_and_hms(2026, 12, 24, 23, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(cal.at(t, tz), Some("Christmas"));
        assert_eq!(cal.at(t, Tz::UTC), None);
        assert_eq!(
            cal.touching(t - 3_600_000, t, Tz::UTC),
            None,
            "a span ending before the 25th in UTC"
        );
        assert_eq!(
            cal.touching(t - 3_600_000, t + 3_600_000, Tz::UTC)
                .map(|x| x.1),
            Some("Christmas")
        );
        assert_eq!(cal.touching(t, t, Tz::UTC), None);
        assert_eq!(cal.touching(i64::MIN, i64::MAX, Tz::UTC), None);
    }

    #[test]
    fn same_local_time_moves_by_dates() {
        let t = Utc
            .with_ymd_and_hms(2026, 12, 25, 10, 0, 0)
            .unwrap()
            .timestamp_millis();
        let back = Holidays::same_local_time(t, d("2026-12-25"), d("2025-12-25"), Tz::UTC).unwrap();
        assert_eq!(
            back,
            Utc.with_ymd_and_hms(2025, 12, 25, 10, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
        assert_eq!(
            Holidays::same_local_time(i64::MAX, d("2026-12-25"), d("2025-12-25"), Tz::UTC),
            None
        );
    }
}
