//! A small seeded PRNG (splitmix64) with normal deviates (Box–Muller), and fake but
//! well-formed commit shas: the demo data is the same on every machine and every load.

use std::collections::BTreeMap;

use perfwatch_core::model::ResultInput;
use perfwatch_core::units::Direction;

/// splitmix64: tiny, fast, and good enough for plausible noise.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Standard normal deviate (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]: ln is finite
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `n` samples around `level` with coefficient of variation `cv`; now and then one
    /// slow outlier (a GC pause, a noisy neighbour) when `outliers` is set.
    pub fn samples(&mut self, n: usize, level: f64, cv: f64, outliers: bool) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let mut v = level * (1.0 + cv * self.normal());
                if outliers && self.chance(0.015) {
                    v *= self.range(1.25, 1.6);
                }
                v.max(0.0)
            })
            .collect()
    }
}

/// The splitmix64 finaliser: a good 64-bit hash of one word.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A 40-hex-digit sha derived from a seed and an index.
pub fn fake_sha(seed: u64, index: u64) -> String {
    let base = mix(seed ^ mix(index.wrapping_add(1)));
    let words = [mix(base), mix(base ^ 0x5151), mix(base ^ 0xA7A7)];
    let hex: String = words.iter().map(|w| format!("{w:016x}")).collect();
    hex[..40].to_string()
}

/// One result of a run.
pub fn result(
    benchmark: &str,
    params: &[(&str, &str)],
    measure: &str,
    unit: &str,
    direction: Option<Direction>,
    samples: Vec<f64>,
) -> ResultInput {
    ResultInput {
        benchmark: benchmark.to_string(),
        measure: measure.to_string(),
        unit: unit.to_string(),
        direction,
        params: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        samples,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_numbers() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn normal_deviates_have_unit_spread() {
        let mut r = Rng::new(42);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    #[test]
    fn fake_shas_are_40_hex_digits_and_distinct() {
        let a = fake_sha(1, 0);
        assert_eq!(a.len(), 40);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, fake_sha(1, 1));
        assert_ne!(a, fake_sha(2, 0));
        assert_eq!(a, fake_sha(1, 0));
    }
}
