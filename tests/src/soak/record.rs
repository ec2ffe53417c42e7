//! What the soak load records: latency histograms and status counts per kind of
//! request, violations (anything that must not happen), and the server's RSS.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Answers of one kind of request.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    pub ok: u64,
    pub server_errors: u64,
    pub client_errors: u64,
    pub transport_errors: u64,
}

pub struct Recorder {
    started: Instant,
    hist: Mutex<BTreeMap<&'static str, Histogram<u64>>>,
    counts: Mutex<BTreeMap<&'static str, Counts>>,
    violations: Mutex<Vec<String>>,
    rss: Mutex<Vec<(Duration, u64)>>,
}

/// Latencies are kept in microseconds, up to 10 minutes.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            hist: Mutex::default(),
            counts: Mutex::default(),
            violations: Mutex::default(),
            rss: Mutex::default(),
        }
    }
}

impl Recorder {
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// One answered request of `kind` (status 0: no answer).
    pub fn answer(&self, kind: &'static str, took: Duration, status: u16) {
        if status != 0 {
            let us = (took.as_micros() as u64).clamp(1, 600_000_000);
            self.hist
                .lock()
                .unwrap()
                .entry(kind)
                .or_insert_with(histogram)
                .record(us)
                .expect("in bounds");
        }
        let mut counts = self.counts.lock().unwrap();
        let c = counts.entry(kind).or_default();
        match status {
            0 => c.transport_errors += 1,
            200..=399 => c.ok += 1,
            400..=499 => c.client_errors += 1,
            _ => c.server_errors += 1,
        }
    }

    /// Something that must not happen; the first 100 are kept word for word.
    pub fn violation(&self, what: String) {
        let mut v = self.violations.lock().unwrap();
        if v.len() < 100 {
            v.push(what);
        } else if v.len() == 100 {
            v.push("… more violations left out".into());
        }
    }

    pub fn rss_sample(&self, bytes: u64) {
        self.rss.lock().unwrap().push((self.elapsed(), bytes));
    }

    pub fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }

    pub fn rss(&self) -> Vec<(Duration, u64)> {
        self.rss.lock().unwrap().clone()
    }

    /// Per kind: counts and (p50, p99, max) in ms.
    pub fn kinds(&self) -> Vec<KindStats> {
        let hist = self.hist.lock().unwrap();
        let counts = self.counts.lock().unwrap();
        counts
            .iter()
            .map(|(kind, c)| {
                let q = |h: &Histogram<u64>, p: f64| h.value_at_quantile(p) as f64 / 1000.0;
                let (p50, p99, max) = hist
                    .get(kind)
                    .map(|h| (q(h, 0.5), q(h, 0.99), h.max() as f64 / 1000.0))
                    .unwrap_or_default();
                KindStats {
                    kind,
                    counts: c.clone(),
                    p50_ms: p50,
                    p99_ms: p99,
                    max_ms: max,
                }
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub struct KindStats {
    pub kind: &'static str,
    pub counts: Counts,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl KindStats {
    pub fn total(&self) -> u64 {
        let c = &self.counts;
        c.ok + c.server_errors + c.client_errors + c.transport_errors
    }
}
