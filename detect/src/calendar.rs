//! The local calendar of a production series: hour-of-week slots and "the same time k
//! weeks ago" in the series' timezone, so a daylight-saving change does not move the
//! nightly dip by an hour against past weeks. Pure: the timezone database is compiled in
//! (chrono-tz), nothing is read from the machine.

use chrono::{Datelike, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
pub use chrono_tz::Tz;

/// A timezone by its IANA name ("Europe/Amsterdam", "UTC"); the error names the value.
pub fn parse_tz(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("'{name}' is not an IANA timezone name (e.g. Europe/Amsterdam, UTC)"))
}

fn local(t_ms: i64, tz: Tz) -> Option<NaiveDateTime> {
    Some(
        Utc.timestamp_millis_opt(t_ms)
            .single()?
            .with_timezone(&tz)
            .naive_local(),
    )
}

/// Hour of the week in local time: 0 is Monday 00:00–01:00, 167 Sunday 23:00–24:00.
pub fn hour_of_week(t_ms: i64, tz: Tz) -> Option<usize> {
    let l = local(t_ms, tz)?;
    Some(l.weekday().num_days_from_monday() as usize * 24 + l.hour() as usize)
}

/// Hour of the day in local time (0–23).
pub fn hour_of_day(t_ms: i64, tz: Tz) -> Option<usize> {
    Some(local(t_ms, tz)?.hour() as usize)
}

/// Day of the week in local time (0 = Monday).
pub fn day_of_week(t_ms: i64, tz: Tz) -> Option<usize> {
    Some(local(t_ms, tz)?.weekday().num_days_from_monday() as usize)
}

/// The instant `k` local weeks before `t_ms`: the same weekday and wall-clock time. A
/// wall-clock time that did not exist then (the spring-forward gap) moves one hour
/// later; one that happened twice (fall-back) is the earlier. In UTC this is exactly
/// `t − k × 168 h`. None when out of chrono's range.
pub fn weeks_before(t_ms: i64, k: i64, tz: Tz) -> Option<i64> {
    let target = local(t_ms, tz)?.checked_sub_signed(Duration::try_weeks(k)?)?;
    let at = match tz.from_local_datetime(&target) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(a, _) => a,
        LocalResult::None => tz
            .from_local_datetime(&target.checked_add_signed(Duration::hours(1))?)
            .earliest()?,
    };
    Some(at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn ms(y: i32, m: u32, d: u32, h: u32) -> i64 {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn utc_weeks_are_168_hours() {
        let t = ms(2026, 11, 27, 20);
        assert_eq!(weeks_before(t, 3, Tz::UTC), Some(t - 3 * 168 * HOUR));
    }

    #[test]
    fn a_week_across_the_autumn_change_is_169_hours_in_amsterdam() {
        // Europe/Amsterdam left summer time on Sunday 2026-10-25: Monday 2 November
        // 09:00 local (08:00 UTC) a week earlier was Monday 26 October 09:00 local,
        // also 08:00 UTC; two weeks earlier, Monday 19 October 09:00 local = 07:00 UTC.
        let tz = parse_tz("Europe/Amsterdam").unwrap();
        let t = ms(2026, 11, 2, 8);
        assert_eq!(weeks_before(t, 1, tz), Some(ms(2026, 10, 26, 8)));
        assert_eq!(weeks_before(t, 2, tz), Some(ms(2026, 10, 19, 7)));
        assert_eq!(hour_of_week(t, tz), Some(9));
        assert_eq!(hour_of_week(ms(2026, 10, 19, 7), tz), Some(9));
    }

    #[test]
    fn spring_forward_gap_moves_an_hour_later() {
        // 2026-03-29 02:00–03:00 did not exist in Amsterdam; a week after it, 02:30 local
        // Sunday 5 April looked back lands on 03:30 local (01:30 UTC) on 29 March.
        let tz = parse_tz("Europe/Amsterdam").unwrap();
        let t = Utc
            .with_ymd_and_hms(2026, 4, 5, 0, 30, 0)
            .unwrap()
            .timestamp_millis();
        let back = weeks_before(t, 1, tz).unwrap();
        let expect = Utc
            .with_ymd_and_hms(2026, 3, 29, 1, 30, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(back, expect);
    }

    #[test]
    fn bad_names_and_extreme_times_are_errors_not_panics() {
        assert!(parse_tz("Mars/Olympus")
            .unwrap_err()
            .contains("Mars/Olympus"));
        assert_eq!(weeks_before(i64::MAX, 1, Tz::UTC), None);
        assert_eq!(weeks_before(i64::MIN, 1, Tz::UTC), None);
        assert_eq!(hour_of_week(i64::MAX, Tz::UTC), None);
        assert_eq!(weeks_before(0, i64::MAX, Tz::UTC), None);
    }
}
