//! The trend corpus: seeded series whose level moves gradually, as memory that creeps up
//! over commits, prices with inflation, growing user counts and daily traffic with a
//! weekly cycle. It complements the step corpus in [`crate::corpus`] (which it does not
//! change: a separate seed stream), and is scored the same way (docs/detection.md).
//!
//! Labels follow TCPDBench's convention for trends: a change is where the behaviour
//! changes (a step, or the start or end of a ramp), not every point along a slope. A
//! steady trend or a smooth growth curve over the whole series has no change point.

use crate::corpus::{unit_noise, LabelledSeries, Noise, Shape, NOISES};
use crate::rng::Rng;

/// Series per (shape, noise) cell of the trend corpus.
#[derive(Debug, Clone, Copy)]
pub struct TrendCorpusSize {
    /// Linear trend, ramp and trend-plus-step series per noise model.
    pub per_noise: usize,
    /// Growth-curve and seasonal count series (Poisson noise).
    pub counts: usize,
}

impl Default for TrendCorpusSize {
    fn default() -> Self {
        Self {
            per_noise: 60,
            counts: 120,
        }
    }
}

/// The whole trend corpus, deterministic for a given seed and size.
pub fn generate_trends(seed: u64, size: TrendCorpusSize) -> Vec<LabelledSeries> {
    let mut rng = Rng::new(seed ^ 0x7472_656e_6473);
    let mut out = Vec::new();
    for noise in NOISES {
        for shape in [Shape::Trend, Shape::Ramp, Shape::TrendStep] {
            for _ in 0..size.per_noise {
                out.push(trend_series(&mut rng, noise, shape));
            }
        }
    }
    for shape in [Shape::Growth, Shape::Seasonal] {
        for _ in 0..size.counts {
            out.push(count_series(&mut rng, shape));
        }
    }
    out
}

/// Relative total change of a trend: log-uniform 5 %–100 %, up or (a third) down.
fn total_change(rng: &mut Rng) -> f64 {
    let rel = rng.log_uniform(0.05, 1.0);
    if rng.chance(1.0 / 3.0) {
        -rel / (1.0 + rel)
    } else {
        rel
    }
}

/// A measurement series (multiplicative noise, as in the step corpus) whose level trends.
fn trend_series(rng: &mut Rng, noise: Noise, shape: Shape) -> LabelledSeries {
    let n = rng.int(100, 500);
    let cv = rng.log_uniform(0.005, 0.1);
    let base = rng.log_uniform(1.0, 1000.0);
    let mut level = vec![base; n];
    let mut cps = Vec::new();
    let mut min_snr = f64::INFINITY;
    match shape {
        // Memory creeping up (or a cache warming down) steadily over every commit.
        Shape::Trend => {
            let end = base * (1.0 + total_change(rng));
            for (i, l) in level.iter_mut().enumerate() {
                *l = base + (end - base) * i as f64 / (n - 1) as f64;
            }
        }
        // Flat, then a creep over 40–150 commits, then flat again (or still creeping at
        // the end). Labels: where the creep starts and where it stops.
        Shape::Ramp => {
            let len = rng.int(40, 150.min(n - 40));
            let ongoing = rng.chance(0.3);
            let start = if ongoing {
                n - len
            } else {
                rng.int(20, n - 20 - len)
            };
            let end_level = base * (1.0 + total_change(rng));
            cps.push(start);
            if !ongoing {
                cps.push(start + len);
            }
            min_snr = (end_level - base).abs() / (cv * base.max(end_level));
            for (i, l) in level.iter_mut().enumerate() {
                let f = (i.saturating_sub(start) as f64 / len as f64).min(1.0);
                *l = base + (end_level - base) * f;
            }
        }
        // A price: inflation of 5–50 % over the series plus one repricing step (1–50 %,
        // up or down). Label: the step.
        Shape::TrendStep => {
            let growth = rng.log_uniform(0.05, 0.5);
            let at = rng.int(20, n - 20);
            let rel = rng.log_uniform(0.01, 0.5);
            let factor = if rng.chance(0.5) {
                1.0 + rel
            } else {
                1.0 - rel
            };
            cps.push(at);
            min_snr = rel / cv;
            for (i, l) in level.iter_mut().enumerate() {
                let trend = base * (1.0 + growth * i as f64 / (n - 1) as f64);
                *l = if i >= at { trend * factor } else { trend };
            }
        }
        _ => unreachable!("not a trend shape"),
    }
    let mut prev_spike = false;
    let values = level
        .iter()
        .map(|&l| l + cv * l * unit_noise(rng, noise, &mut prev_spike))
        .collect();
    LabelledSeries {
        values,
        change_points: cps,
        noise,
        shape,
        min_snr,
    }
}

/// Daily counts (Poisson): a compound growth curve, or traffic with a weekly cycle and
/// (half of the time) one shift.
fn count_series(rng: &mut Rng, shape: Shape) -> LabelledSeries {
    let n = rng.int(100, 500);
    let base = rng.log_uniform(20.0, 5000.0);
    let mut cps = Vec::new();
    let mut min_snr = f64::INFINITY;
    let level: Vec<f64> = match shape {
        // Sign-ups growing by a constant rate: ×1.2 to ×4 over the series.
        Shape::Growth => {
            let factor = rng.log_uniform(1.2, 4.0);
            (0..n)
                .map(|i| base * factor.powf(i as f64 / (n - 1) as f64))
                .collect()
        }
        // Weekdays busier than weekends by 10–40 %, and sometimes a traffic shift.
        Shape::Seasonal => {
            let amp = rng.range(0.1, 0.4);
            let phase = rng.int(0, 6);
            let shift = rng.chance(0.5).then(|| {
                let at = rng.int(20, n - 20);
                let rel = rng.log_uniform(0.05, 0.5);
                let f = if rng.chance(0.5) {
                    1.0 + rel
                } else {
                    1.0 - rel
                };
                (at, f)
            });
            if let Some((at, f)) = shift {
                cps.push(at);
                // σ of the weekly cycle plus Poisson noise, relative to the step.
                let sd = (amp * amp / 2.0 * base * base + base).sqrt();
                min_snr = (f - 1.0).abs() * base / sd;
            }
            (0..n)
                .map(|i| {
                    let day = (i + phase) % 7;
                    let weekly = if day >= 5 { 1.0 - amp } else { 1.0 + amp * 0.4 };
                    let f = shift.map_or(1.0, |(at, f)| if i >= at { f } else { 1.0 });
                    base * weekly * f
                })
                .collect()
        }
        _ => unreachable!("not a count shape"),
    };
    let values = level.iter().map(|&l| rng.poisson(l)).collect();
    LabelledSeries {
        values,
        change_points: cps,
        noise: Noise::Poisson,
        shape,
        min_snr,
    }
}
