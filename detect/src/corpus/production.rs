//! The synthetic production series the seasonal tests share: hourly load with a daily
//! cycle whose night trough (04:00) is 30 % of the afternoon peak, weekends at 60 %,
//! growth of 1 %/week and multiplicative noise, optionally a deploy that scales the
//! points after it and holidays at a reduced level. One generator, so the unit tests,
//! the known-answer tests and the measured corpora all judge the same data.

use crate::rng::Rng;
use crate::seasonal::WEEK_MS;

pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 24 * HOUR;
/// Monday 2026-11-02 00:00 UTC (1970-01-01 was a Thursday): where series start.
pub const MONDAY: i64 = 20_395 * DAY;
/// Friday 20:00 into a week: a deploy just before the night dip and the weekend.
pub const FRIDAY_8PM: i64 = 4 * DAY + 20 * HOUR;

/// One point of the load: `level` at the afternoon peak of a weekday at the start,
/// shaped by the local `hour` (0–23), the weekday `dow` (0 = Monday) and `weeks` since
/// the start, times `noise` (1 ± the noise draw). The product is taken in this order
/// so every caller gets the same bits for the same draw.
pub fn load(level: f64, hour: f64, dow: u32, weeks: f64, noise: f64) -> f64 {
    let daily = 0.3 + 0.7 * (1.0 - (2.0 * std::f64::consts::PI * (hour - 4.0) / 24.0).cos()) / 2.0;
    let weekend = if dow >= 5 { 0.6 } else { 1.0 };
    let growth = 1.01f64.powf(weeks);
    level * daily * weekend * growth * noise
}

/// A series around a deploy, built by [`DeploySeries::points`].
#[derive(Debug, Clone)]
pub struct DeploySeries<'a> {
    /// Full weeks before the week of the deploy.
    pub weeks_before: i64,
    /// The deploy's time into its week (ms after that week's Monday 00:00 UTC).
    pub deploy_offset: i64,
    pub seed: u64,
    /// Noise is uniform in ±`noise`, multiplicative.
    pub noise: f64,
    /// Multiplies the points from the deploy on (1: no change).
    pub after: f64,
    /// UTC midnights of days whose points are at `holiday_level`.
    pub holidays: &'a [i64],
    pub holiday_level: f64,
}

impl Default for DeploySeries<'_> {
    fn default() -> Self {
        Self {
            weeks_before: 5,
            deploy_offset: FRIDAY_8PM,
            seed: 0,
            noise: 0.03,
            after: 1.0,
            holidays: &[],
            holiday_level: 1.0,
        }
    }
}

impl DeploySeries<'_> {
    /// Hourly points from [`MONDAY`] to 2 days after the deploy (UTC, at a level of
    /// 400), and the deploy's time.
    pub fn points(&self) -> (Vec<(i64, f64)>, i64) {
        let deploy = MONDAY + self.weeks_before * WEEK_MS + self.deploy_offset;
        let mut rng = Rng::new(self.seed);
        let mut pts = Vec::new();
        let mut t = MONDAY;
        while t < deploy + 2 * DAY {
            let hour = ((t % DAY) / HOUR) as f64;
            let dow = (((t / DAY) + 3) % 7) as u32;
            let weeks = (t - MONDAY) as f64 / WEEK_MS as f64;
            let noise = 1.0 + rng.range(-self.noise, self.noise);
            let mut v = load(400.0, hour, dow, weeks, noise);
            if self.holidays.iter().any(|&h| t >= h && t < h + DAY) {
                v *= self.holiday_level;
            }
            if t >= deploy {
                v *= self.after;
            }
            pts.push((t, v));
            t += HOUR;
        }
        (pts, deploy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monday_is_a_monday_and_the_shape_is_as_documented() {
        assert_eq!(((MONDAY / DAY) + 3) % 7, 0);
        assert!((load(1.0, 4.0, 0, 0.0, 1.0) - 0.3).abs() < 1e-12);
        assert!((load(1.0, 16.0, 0, 0.0, 1.0) - 1.0).abs() < 1e-12);
        assert!((load(1.0, 16.0, 5, 0.0, 1.0) - 0.6).abs() < 1e-12);
        assert!((load(1.0, 16.0, 0, 1.0, 1.0) - 1.01).abs() < 1e-12);
    }

    #[test]
    fn points_are_hourly_to_two_days_past_the_deploy_and_scaled_after_it() {
        let base = DeploySeries::default();
        let (pts, deploy) = base.points();
        assert_eq!(deploy, MONDAY + 5 * WEEK_MS + FRIDAY_8PM);
        assert_eq!(pts.first().map(|p| p.0), Some(MONDAY));
        assert_eq!(pts.last().map(|p| p.0), Some(deploy + 2 * DAY - HOUR));
        assert!(pts.windows(2).all(|w| w[1].0 - w[0].0 == HOUR));
        let (halved, _) = DeploySeries {
            after: 0.5,
            ..base.clone()
        }
        .points();
        for (a, b) in pts.iter().zip(&halved) {
            let want = if a.0 >= deploy { a.1 * 0.5 } else { a.1 };
            assert_eq!(b.1, want);
        }
        let day = MONDAY + 7 * DAY;
        let days = [day];
        let (quiet, _) = DeploySeries {
            holidays: &days,
            holiday_level: 0.4,
            ..base
        }
        .points();
        for (a, b) in pts.iter().zip(&quiet) {
            let want = if (day..day + DAY).contains(&a.0) {
                a.1 * 0.4
            } else {
                a.1
            };
            assert_eq!(b.1, want);
        }
    }
}
