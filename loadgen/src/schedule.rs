//! Arrival schedules of the open model: a piecewise-linear rate profile (a constant
//! rate, or stages that ramp and hold) and the intended start time of every arrival,
//! evenly spaced (uniform) or as a seeded Poisson process. Pure: the same profile and
//! seed give the same schedule.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A stage as written: ramp linearly to a rate over a time, or hold the current rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    Ramp { to: f64, over: f64 },
    Hold { over: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    Uniform,
    Poisson,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,
    len: f64,
    from: f64,
    to: f64,
    /// Arrivals expected before this segment (the integral of the rate).
    before: f64,
}

impl Segment {
    fn area(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.len
    }
}

/// Rate over time (per second), for `total` seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct RateProfile {
    segments: Vec<Segment>,
    total: f64,
}

impl RateProfile {
    pub fn constant(rate: f64, total: f64) -> Self {
        Self::from_stages(rate, &[], total)
    }

    /// Stages starting at `initial` per second; after the last stage its rate holds
    /// until `total` seconds.
    pub fn from_stages(initial: f64, stages: &[Stage], total: f64) -> Self {
        let mut segments = Vec::new();
        let (mut t, mut rate, mut before) = (0.0, initial, 0.0);
        let mut push = |from: f64, to: f64, len: f64, t: &mut f64, before: &mut f64| {
            let len = len.min(total - *t).max(0.0);
            if len > 0.0 {
                let s = Segment {
                    start: *t,
                    len,
                    from,
                    to,
                    before: *before,
                };
                *before += s.area();
                segments.push(s);
                *t += len;
            }
        };
        for s in stages {
            match *s {
                Stage::Ramp { to, over } => {
                    let len = over.min(total - t).max(0.0);
                    // A ramp cut short by the end of the run stops at the rate reached.
                    let reached = if over > 0.0 {
                        rate + (to - rate) * len / over
                    } else {
                        to
                    };
                    push(rate, reached, len, &mut t, &mut before);
                    rate = if over > 0.0 && len < over {
                        reached
                    } else {
                        to
                    };
                }
                Stage::Hold { over } => push(rate, rate, over, &mut t, &mut before),
            }
        }
        if t < total {
            push(rate, rate, total - t, &mut t, &mut before);
        }
        Self { segments, total }
    }

    pub fn total(&self) -> f64 {
        self.total
    }

    /// Expected arrivals in `[0, t)`.
    pub fn cumulative(&self, t: f64) -> f64 {
        let mut acc = 0.0;
        for s in &self.segments {
            if t <= s.start {
                break;
            }
            let x = (t - s.start).min(s.len);
            let slope = (s.to - s.from) / s.len;
            acc = s.before + s.from * x + slope * x * x / 2.0;
        }
        acc
    }

    /// Mean rate over `[from, to)`.
    pub fn mean_rate(&self, from: f64, to: f64) -> f64 {
        if to > from {
            (self.cumulative(to) - self.cumulative(from)) / (to - from)
        } else {
            0.0
        }
    }

    /// The time at which `a` arrivals are expected, from segment `*cursor` on.
    fn inverse(&self, a: f64, cursor: &mut usize) -> Option<f64> {
        while let Some(s) = self.segments.get(*cursor) {
            let rem = a - s.before;
            if rem <= s.area() && s.area() > 0.0 {
                let slope = (s.to - s.from) / s.len;
                let disc = (s.from * s.from + 2.0 * slope * rem).max(0.0);
                let denom = s.from + disc.sqrt();
                let x = if denom > 0.0 { 2.0 * rem / denom } else { 0.0 };
                return Some(s.start + x.clamp(0.0, s.len));
            }
            *cursor += 1;
        }
        None
    }
}

/// Intended start offsets, in order, until the profile ends.
pub struct Schedule {
    profile: RateProfile,
    arrival: Arrival,
    rng: ChaCha8Rng,
    next: f64,
    cursor: usize,
}

impl Schedule {
    pub fn new(profile: RateProfile, arrival: Arrival, seed: u64) -> Self {
        let mut s = Self {
            profile,
            arrival,
            rng: ChaCha8Rng::seed_from_u64(seed),
            next: 0.0,
            cursor: 0,
        };
        s.next = s.gap();
        s
    }

    fn gap(&mut self) -> f64 {
        match self.arrival {
            Arrival::Uniform => 1.0,
            // Exp(1) in units of expected arrivals; 1 - u avoids ln(0).
            Arrival::Poisson => -(1.0 - self.rng.random::<f64>()).ln(),
        }
    }
}

impl Iterator for Schedule {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        // Uniform arrivals sit at 0.5, 1.5, … expected arrivals: evenly spaced, and a
        // ramp from zero does not start with a burst at t = 0.
        let target = match self.arrival {
            Arrival::Uniform => self.next - 0.5,
            Arrival::Poisson => self.next,
        };
        let t = self.profile.inverse(target, &mut self.cursor)?;
        if t >= self.profile.total {
            return None;
        }
        let g = self.gap();
        self.next += g;
        Some(Duration::from_secs_f64(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uniform_constant_rate_is_evenly_spaced() {
        let s: Vec<_> =
            Schedule::new(RateProfile::constant(200.0, 10.0), Arrival::Uniform, 1).collect();
        assert_eq!(s.len(), 2000);
        assert_eq!(s[0], Duration::from_micros(2500));
        let gap = s[1] - s[0];
        assert!((gap.as_secs_f64() - 0.005).abs() < 1e-9);
    }

    #[test]
    fn ramp_then_hold() {
        let p = RateProfile::from_stages(
            0.0,
            &[
                Stage::Ramp {
                    to: 50.0,
                    over: 20.0,
                },
                Stage::Hold { over: 40.0 },
            ],
            60.0,
        );
        assert!((p.cumulative(20.0) - 500.0).abs() < 1e-9);
        assert!((p.cumulative(60.0) - 2500.0).abs() < 1e-9);
        let n = Schedule::new(p.clone(), Arrival::Uniform, 0).count();
        assert_eq!(n, 2500);
        // fewer arrivals early in the ramp than late
        let s: Vec<_> = Schedule::new(p, Arrival::Uniform, 0).collect();
        let first_10 = s.iter().filter(|d| d.as_secs_f64() < 10.0).count();
        assert_eq!(first_10, 125);
    }

    #[test]
    fn poisson_count_is_near_the_expectation() {
        let n = Schedule::new(RateProfile::constant(1000.0, 10.0), Arrival::Poisson, 42).count();
        // 10,000 expected, sd 100
        assert!((9_600..=10_400).contains(&n), "{n}");
    }

    proptest! {
        #[test]
        fn same_seed_same_schedule(seed in any::<u64>(), rate in 1.0f64..500.0) {
            let a: Vec<_> = Schedule::new(RateProfile::constant(rate, 2.0), Arrival::Poisson, seed).collect();
            let b: Vec<_> = Schedule::new(RateProfile::constant(rate, 2.0), Arrival::Poisson, seed).collect();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn schedules_are_sorted_and_inside_the_run(
            seed in any::<u64>(),
            r0 in 0.0f64..300.0,
            to in 0.0f64..300.0,
            over in 0.0f64..5.0,
            hold in 0.0f64..5.0,
            total in 0.1f64..6.0,
            poisson in any::<bool>(),
        ) {
            let p = RateProfile::from_stages(r0, &[Stage::Ramp { to, over }, Stage::Hold { over: hold }], total);
            let arrival = if poisson { Arrival::Poisson } else { Arrival::Uniform };
            let s: Vec<_> = Schedule::new(p.clone(), arrival, seed).collect();
            prop_assert!(s.windows(2).all(|w| w[0] <= w[1]));
            prop_assert!(s.iter().all(|d| d.as_secs_f64() < total));
            if !poisson {
                let expected = p.cumulative(total);
                prop_assert!((s.len() as f64 - expected).abs() <= 1.0, "{} vs {}", s.len(), expected);
            }
        }
    }
}
