//! A seeded, labelled corpus of synthetic performance series for measuring detection
//! quality (see docs/detection.md for how it is used and what the labels mean).
//!
//! Every series has a base level (1–1000, arbitrary unit) and multiplicative noise: the
//! noise standard deviation in a regime is `cv × level` with cv log-uniform in
//! 0.5 %–20 %. Steps change the level by a relative amount log-uniform in 1 %–50 %, up or
//! down. Change points are ≥ 15 points apart and ≥ 15 points from either end.

/// The synthetic production series of the seasonal tests.
pub mod production;

use serde::Serialize;

use crate::rng::Rng;

/// Noise model, each scaled to unit standard deviation before multiplying by σ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Noise {
    Gaussian,
    /// Student-t with 3 degrees of freedom (finite variance, heavy tails).
    HeavyTailed,
    /// Gaussian plus isolated spikes of 6–15 σ at 1 % of points (never two in a row). The
    /// spikes are not change points; σ refers to the Gaussian part.
    Outliers,
    /// Two modes (70 % / 30 %) 2.5 mode-widths apart, as with GC pauses or cache effects.
    Bimodal,
    /// Counts drawn from a Poisson distribution around the level (trend corpus only).
    Poisson,
}

/// The noise models of measurement series (counts use [`Noise::Poisson`]).
pub const NOISES: [Noise; 4] = [
    Noise::Gaussian,
    Noise::HeavyTailed,
    Noise::Outliers,
    Noise::Bimodal,
];

/// What happens to the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// 1–3 abrupt steps. Label: first index of each new level.
    Steps,
    /// One linear ramp of 10–30 points between two plateaus. Label: the ramp's middle,
    /// since a user wants one alert saying "the level moved here", not one per point.
    Drift,
    /// One step close to the end, with only 4–14 points after it: a regression that
    /// just landed. Measures how soon a change is reported (and what `min_segment` costs).
    RecentStep,
    /// No change at all: every detection is a false alert.
    ChangeFree,
    /// Trend corpus ([`crate::corpus_trend`]): a linear trend over the whole series.
    /// No label.
    Trend,
    /// Trend corpus: flat, a ramp of 40–150 points, flat again (or the ramp runs to the
    /// end). Labels: the ramp's start and end.
    Ramp,
    /// Trend corpus: a price with inflation and one repricing step. Label: the step.
    TrendStep,
    /// Trend corpus: counts growing at a constant rate. No label.
    Growth,
    /// Trend corpus: daily counts with a weekly cycle and sometimes one shift. Label: the
    /// shift.
    Seasonal,
}

#[derive(Debug, Clone, Serialize)]
pub struct LabelledSeries {
    pub values: Vec<f64>,
    pub change_points: Vec<usize>,
    pub noise: Noise,
    pub shape: Shape,
    /// Smallest |level change| / σ over the labelled changes (σ the larger of the two
    /// regimes'); infinite for change-free series.
    pub min_snr: f64,
}

/// Corpus sizes per (shape, noise) cell.
#[derive(Debug, Clone, Copy)]
pub struct CorpusSize {
    pub steps_per_noise: usize,
    pub change_free_per_noise: usize,
    pub drift_per_noise: usize,
    pub recent_per_noise: usize,
    /// Change-free series of 10,000 points per noise (false alerts on long histories).
    pub long_change_free_per_noise: usize,
}

impl Default for CorpusSize {
    fn default() -> Self {
        Self {
            steps_per_noise: 400,
            change_free_per_noise: 400,
            drift_per_noise: 100,
            recent_per_noise: 100,
            long_change_free_per_noise: 10,
        }
    }
}

/// The whole corpus, deterministic for a given seed and size.
pub fn generate(seed: u64, size: CorpusSize) -> Vec<LabelledSeries> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for noise in NOISES {
        for _ in 0..size.steps_per_noise {
            out.push(series(&mut rng, noise, Shape::Steps));
        }
        for _ in 0..size.drift_per_noise {
            out.push(series(&mut rng, noise, Shape::Drift));
        }
        for _ in 0..size.recent_per_noise {
            out.push(series(&mut rng, noise, Shape::RecentStep));
        }
        for _ in 0..size.change_free_per_noise {
            out.push(series(&mut rng, noise, Shape::ChangeFree));
        }
        for _ in 0..size.long_change_free_per_noise {
            out.push(series_of_len(&mut rng, noise, Shape::ChangeFree, 10_000));
        }
    }
    out
}

const GAP: usize = 15;

/// One labelled series of length 60–500.
pub fn series(rng: &mut Rng, noise: Noise, shape: Shape) -> LabelledSeries {
    let n = rng.int(60, 500);
    series_of_len(rng, noise, shape, n)
}

/// One labelled series of `n` ≥ 60 points.
pub fn series_of_len(rng: &mut Rng, noise: Noise, shape: Shape, n: usize) -> LabelledSeries {
    let cv = rng.log_uniform(0.005, 0.2);
    let base = rng.log_uniform(1.0, 1000.0);
    // Level of every point before noise, and the labelled change points.
    let mut level = vec![base; n];
    let mut cps = Vec::new();
    let mut min_snr = f64::INFINITY;
    let step = |rng: &mut Rng, from: f64| {
        let rel = rng.log_uniform(0.01, 0.5);
        let to = if rng.chance(0.5) {
            from * (1.0 + rel)
        } else {
            from * (1.0 - rel)
        };
        let snr = (to - from).abs() / (cv * from.max(to));
        (to, snr)
    };
    match shape {
        Shape::ChangeFree => {}
        Shape::Steps => {
            let max_k = ((n - GAP) / GAP - 1).min(3);
            let k = rng.int(1, max_k);
            cps = spaced_positions(rng, n, k);
            let mut cur = base;
            let mut seg = 0;
            for (i, l) in level.iter_mut().enumerate() {
                if seg < cps.len() && i == cps[seg] {
                    let (to, snr) = step(rng, cur);
                    cur = to;
                    min_snr = min_snr.min(snr);
                    seg += 1;
                }
                *l = cur;
            }
        }
        Shape::RecentStep => {
            let at = n - rng.int(4, 14);
            let (to, snr) = step(rng, base);
            min_snr = snr;
            cps.push(at);
            level[at..].fill(to);
        }
        Shape::Trend | Shape::Ramp | Shape::TrendStep | Shape::Growth | Shape::Seasonal => {
            unreachable!("trend shapes come from corpus_trend")
        }
        Shape::Drift => {
            let ramp = rng.int(10, 30);
            let start = rng.int(GAP, n - GAP - ramp);
            let (to, snr) = step(rng, base);
            min_snr = snr;
            cps.push(start + ramp / 2);
            for (i, l) in level.iter_mut().enumerate() {
                *l = if i < start {
                    base
                } else if i >= start + ramp {
                    to
                } else {
                    base + (to - base) * (i - start) as f64 / ramp as f64
                };
            }
        }
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

/// `k` sorted positions in [GAP, n − GAP] at least GAP apart (rejection sampling).
fn spaced_positions(rng: &mut Rng, n: usize, k: usize) -> Vec<usize> {
    loop {
        let mut p: Vec<usize> = (0..k).map(|_| rng.int(GAP, n - GAP)).collect();
        p.sort_unstable();
        if p.windows(2).all(|w| w[1] - w[0] >= GAP) {
            return p;
        }
    }
}

/// [`unit_noise`] for tests that build their own series with the corpus' noise models.
#[doc(hidden)]
pub fn unit_noise_for_tests(rng: &mut Rng, noise: Noise, prev_spike: &mut bool) -> f64 {
    unit_noise(rng, noise, prev_spike)
}

/// One draw of unit-standard-deviation noise.
pub(crate) fn unit_noise(rng: &mut Rng, noise: Noise, prev_spike: &mut bool) -> f64 {
    match noise {
        Noise::Gaussian => rng.normal(),
        // Var(t3) = 3.
        Noise::HeavyTailed => rng.student_t(3) / 3f64.sqrt(),
        Noise::Outliers => {
            let spike = !*prev_spike && rng.chance(0.01);
            *prev_spike = spike;
            if spike {
                let s = rng.range(6.0, 15.0);
                if rng.chance(0.5) {
                    s
                } else {
                    -s
                }
            } else {
                rng.normal()
            }
        }
        Noise::Bimodal => {
            // Mixture 0.7·N(0, s²) + 0.3·N(d, s²), d = 2.5 s: variance s²(1 + 0.21·6.25).
            let s = 1.0 / (1.0 + 0.21 * 6.25f64).sqrt();
            let d = 2.5 * s;
            let mode = if rng.chance(0.3) { d } else { 0.0 };
            mode - 0.3 * d + s * rng.normal()
        }
        // Counts get their noise from the Poisson draw itself.
        Noise::Poisson => 0.0,
    }
}
