//! Ticks of a time axis at calendar steps (UTC): minutes and hours within a day, days
//! across days, months across months, with the date written at day boundaries so a
//! reader of "06:00 12:00 Dec 7 06:00" knows which day each hour belongs to.
//! Pure, so the server render and the hydrated browser draw the same axis.

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

/// Steps of fixed length, smallest first; months follow.
const FIXED: [i64; 14] = [
    MIN,
    5 * MIN,
    15 * MIN,
    30 * MIN,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
];
const MONTHS: [u32; 5] = [1, 2, 3, 6, 12];

fn at(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn month_start(year: i32, month0: u32) -> i64 {
    let (y, m) = (year + (month0 / 12) as i32, month0 % 12 + 1);
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MAX)
}

/// Multiples of a fixed step inside `from..=to` (aligned on UTC midnight for days).
fn fixed_ticks(from: i64, to: i64, step: i64) -> Vec<i64> {
    let first = from.div_euclid(step) * step;
    let first = if first < from { first + step } else { first };
    (0..)
        .map(|k| first + k * step)
        .take_while(|t| *t <= to)
        .collect()
}

/// Month starts every `every` months inside `from..=to`.
fn month_ticks(from: i64, to: i64, every: u32) -> Vec<i64> {
    let f = at(from);
    let mut m0 = (f.month0() / every) * every;
    let year = f.year();
    let mut out = Vec::new();
    loop {
        let t = month_start(year, m0);
        if t > to || out.len() > 1000 {
            break;
        }
        if t >= from {
            out.push(t);
        }
        m0 += every;
    }
    out
}

/// Label of a tick: its time of day, or its date where a day (month, year) starts,
/// and the full date on the first tick.
fn label(t: i64, prev: Option<i64>, step: i64, monthly: bool) -> String {
    let d = at(t);
    let new_year = prev.is_none_or(|p| at(p).year() != d.year());
    if monthly {
        return if new_year {
            d.format("%b %Y").to_string()
        } else {
            d.format("%b").to_string()
        };
    }
    let midnight = d.hour() == 0 && d.minute() == 0;
    let new_day = prev.is_none_or(|p| at(p).date_naive() != d.date_naive());
    if step < DAY {
        match (prev.is_none(), midnight) {
            (true, false) => d.format("%b %-d %H:%M").to_string(),
            (_, true) if new_year => d.format("%b %-d %Y").to_string(),
            (_, true) => d.format("%b %-d").to_string(),
            (false, false) if new_day => d.format("%b %-d %H:%M").to_string(),
            (false, false) => d.format("%H:%M").to_string(),
        }
    } else if new_year {
        d.format("%b %-d %Y").to_string()
    } else {
        d.format("%b %-d").to_string()
    }
}

/// At most `max` ticks over `from..=to` ms,
/// at the smallest calendar step that keeps within `max`, each with its label.
pub fn time_ticks(from: i64, to: i64, max: usize) -> Vec<(i64, String)> {
    if to <= from || max == 0 {
        return vec![(from, label(from, None, DAY, false))];
    }
    let max = max.max(2);
    let mut chosen: Option<(Vec<i64>, i64, bool)> = None;
    for step in FIXED {
        let ticks = fixed_ticks(from, to, step);
        if ticks.len() <= max {
            chosen = Some((ticks, step, false));
            break;
        }
    }
    if chosen.is_none() {
        for every in MONTHS {
            let ticks = month_ticks(from, to, every);
            if ticks.len() <= max {
                chosen = Some((ticks, 30 * DAY * every as i64, true));
                break;
            }
        }
    }
    let (ticks, step, monthly) = chosen.unwrap_or_else(|| {
        // Decades: every `n` years.
        let years = ((to - from) / (365 * DAY)).max(1) as u32;
        let mut every = years.div_ceil(max as u32).max(1);
        loop {
            let ticks = month_ticks(from, to, every * 12);
            if ticks.len() <= max {
                return (ticks, 365 * DAY, true);
            }
            every += 1;
        }
    });
    let mut prev = None;
    ticks
        .into_iter()
        .map(|t| {
            let l = label(t, prev, step, monthly);
            prev = Some(t);
            (t, l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn labels(v: &[(i64, String)]) -> Vec<&str> {
        v.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn hours_within_a_day() {
        let t = time_ticks(ms("2026-12-06T05:10:00Z"), ms("2026-12-06T17:50:00Z"), 8);
        assert_eq!(
            labels(&t),
            vec!["Dec 6 06:00", "08:00", "10:00", "12:00", "14:00", "16:00"]
        );
        assert_eq!(t[0].0, ms("2026-12-06T06:00:00Z"));
    }

    #[test]
    fn the_date_is_written_where_a_day_starts() {
        let t = time_ticks(ms("2026-12-06T13:00:00Z"), ms("2026-12-07T13:00:00Z"), 8);
        assert_eq!(
            labels(&t),
            vec![
                "Dec 6 15:00",
                "18:00",
                "21:00",
                "Dec 7",
                "03:00",
                "06:00",
                "09:00",
                "12:00"
            ]
        );
    }

    #[test]
    fn days_across_days_at_midnight() {
        let t = time_ticks(ms("2026-11-20T10:00:00Z"), ms("2026-12-06T10:00:00Z"), 8);
        assert!(t.iter().all(|(v, _)| v % DAY == 0), "{t:?}");
        assert_eq!(
            labels(&t),
            vec![
                "Nov 21 2026",
                "Nov 23",
                "Nov 25",
                "Nov 27",
                "Nov 29",
                "Dec 1",
                "Dec 3",
                "Dec 5"
            ]
        );
    }

    #[test]
    fn months_and_years() {
        let t = time_ticks(ms("2025-10-15T00:00:00Z"), ms("2026-09-01T00:00:00Z"), 6);
        assert_eq!(
            labels(&t),
            vec!["Nov 2025", "Jan 2026", "Mar", "May", "Jul", "Sep"]
        );
        let decades = time_ticks(ms("1990-01-01T00:00:00Z"), ms("2026-01-01T00:00:00Z"), 6);
        assert!(decades.len() <= 6 && decades.len() >= 2, "{decades:?}");
    }

    #[test]
    fn never_more_than_max_and_always_inside_the_range() {
        let from = ms("2026-01-01T00:00:00Z");
        for span in [
            MIN * 3,
            HOUR,
            5 * HOUR,
            DAY + 7,
            9 * DAY,
            200 * DAY,
            3000 * DAY,
        ] {
            for max in [2, 4, 6, 8] {
                let t = time_ticks(from + 12_345, from + 12_345 + span, max);
                assert!(t.len() <= max, "{span} {max}: {t:?}");
                assert!(t
                    .iter()
                    .all(|(v, _)| *v >= from + 12_345 && *v <= from + 12_345 + span));
            }
        }
    }
}
