//! Records every attempt into HDR histograms (µs, 3 significant digits for the run
//! totals; 2 digits for the per-second intervals, which only feed interval samples).
//! Times are offsets from the run's start; attempts whose intended start falls in the
//! warm-up are left out.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::report::{OpReport, OpSecond, Percentiles, RunSecond};

/// Longest value kept exactly: one hour in µs (longer ones are clamped to it).
const MAX_US: u64 = 3_600_000_000;
/// Messages kept per class.
const EXAMPLES: usize = 3;

fn hist(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, sigfig).expect("static bounds are valid")
}

fn us(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, MAX_US)
}

pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
    let ms = |v: u64| v as f64 / 1e3;
    if h.is_empty() {
        return Percentiles::default();
    }
    Percentiles {
        count: h.len(),
        mean: h.mean() / 1e3,
        p50: ms(h.value_at_quantile(0.50)),
        p90: ms(h.value_at_quantile(0.90)),
        p99: ms(h.value_at_quantile(0.99)),
        p999: ms(h.value_at_quantile(0.999)),
        max: ms(h.max()),
    }
}

/// One attempt of one operation.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub op: usize,
    /// The intended start of the attempt's flow iteration: decides warm-up or not.
    pub iteration: Duration,
    pub intended: Duration,
    pub started: Duration,
    pub ended: Duration,
    /// The error class and message when it failed.
    pub error: Option<(String, String)>,
}

struct Second {
    attempts: u64,
    errors: u64,
    response: Histogram<u64>,
    service: Histogram<u64>,
}

impl Second {
    fn new() -> Self {
        Self {
            attempts: 0,
            errors: 0,
            response: hist(2),
            service: hist(2),
        }
    }
}

struct OpRec {
    name: String,
    attempts: u64,
    errors: BTreeMap<String, u64>,
    examples: BTreeMap<String, Vec<String>>,
    response: Histogram<u64>,
    service: Histogram<u64>,
    seconds: Vec<Second>,
}

#[derive(Default, Clone)]
struct RunSec {
    started: u64,
    dropped: u64,
    lag_p99_us: u64,
}

/// Live figures for the progress line.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub attempts: u64,
    pub response_p99_ms: f64,
    pub errors: BTreeMap<String, u64>,
}

pub struct Recorder {
    warmup: Duration,
    /// Number of measured seconds; later completions go into the last one.
    seconds: usize,
    ops: Vec<OpRec>,
    lag: Histogram<u64>,
    lag_current: Histogram<u64>,
    lag_second: usize,
    run_seconds: Vec<RunSec>,
    started: u64,
    dropped: u64,
}

impl Recorder {
    pub fn new(ops: &[String], warmup: Duration, measured: Duration) -> Self {
        let seconds = (measured.as_secs_f64().ceil() as usize).max(1);
        Self {
            warmup,
            seconds,
            ops: ops
                .iter()
                .map(|n| OpRec {
                    name: n.clone(),
                    attempts: 0,
                    errors: BTreeMap::new(),
                    examples: BTreeMap::new(),
                    response: hist(3),
                    service: hist(3),
                    seconds: (0..seconds).map(|_| Second::new()).collect(),
                })
                .collect(),
            lag: hist(3),
            lag_current: hist(2),
            lag_second: 0,
            run_seconds: vec![RunSec::default(); seconds],
            started: 0,
            dropped: 0,
        }
    }

    /// Second index (in the measured window) of an offset, or None during warm-up.
    fn second_of(&self, at: Duration) -> Option<usize> {
        let since = at.checked_sub(self.warmup)?;
        Some((since.as_secs() as usize).min(self.seconds - 1))
    }

    pub fn record(&mut self, a: &Attempt) {
        if a.iteration < self.warmup {
            return;
        }
        let sec = self.second_of(a.ended).unwrap_or(0);
        let response = us(a.ended.saturating_sub(a.intended));
        let service = us(a.ended.saturating_sub(a.started));
        let op = &mut self.ops[a.op];
        op.attempts += 1;
        op.response.saturating_record(response);
        op.service.saturating_record(service);
        let s = &mut op.seconds[sec];
        s.attempts += 1;
        s.response.saturating_record(response);
        s.service.saturating_record(service);
        if let Some((class, message)) = &a.error {
            s.errors += 1;
            *op.errors.entry(class.clone()).or_default() += 1;
            let ex = op.examples.entry(class.clone()).or_default();
            if ex.len() < EXAMPLES && !ex.contains(message) {
                ex.push(message.clone());
            }
        }
    }

    /// A flow iteration started `started` although it was meant to start at `intended`.
    pub fn record_start(&mut self, intended: Duration, started: Duration) {
        let Some(sec) = self.second_of(intended) else {
            return;
        };
        self.started += 1;
        let lag = us(started.saturating_sub(intended));
        self.lag.saturating_record(lag);
        if sec != self.lag_second {
            self.flush_lag();
            self.lag_second = sec;
        }
        self.lag_current.saturating_record(lag);
        self.run_seconds[sec].started += 1;
    }

    fn flush_lag(&mut self) {
        if !self.lag_current.is_empty() {
            let s = &mut self.run_seconds[self.lag_second];
            s.lag_p99_us = s.lag_p99_us.max(self.lag_current.value_at_quantile(0.99));
            self.lag_current.reset();
        }
    }

    /// An arrival was dropped because `max_in_flight` was reached.
    pub fn record_drop(&mut self, intended: Duration) {
        if let Some(sec) = self.second_of(intended) {
            self.dropped += 1;
            self.run_seconds[sec].dropped += 1;
        }
    }

    /// Cheap enough to call under the engine's lock once a second: the slowest
    /// operation's p99 instead of a merged histogram (merging different precisions
    /// records value by value and held the lock for milliseconds).
    pub fn live(&self) -> Live {
        let mut l = Live::default();
        for op in &self.ops {
            l.attempts += op.attempts;
            if !op.response.is_empty() {
                let p99 = op.response.value_at_quantile(0.99) as f64 / 1e3;
                l.response_p99_ms = l.response_p99_ms.max(p99);
            }
            for (c, n) in &op.errors {
                *l.errors.entry(c.clone()).or_default() += n;
            }
        }
        l
    }

    /// Flow starts, drops, lag, and the per-operation reports.
    pub fn finish(mut self) -> Finished {
        self.flush_lag();
        let ops = self
            .ops
            .into_iter()
            .map(|op| OpReport {
                attempts: op.attempts,
                ok: op.attempts - op.errors.values().sum::<u64>(),
                response: percentiles(&op.response),
                service: percentiles(&op.service),
                seconds: op
                    .seconds
                    .iter()
                    .map(|s| OpSecond {
                        attempts: s.attempts,
                        errors: s.errors,
                        response_p50: percentiles(&s.response).p50,
                        response_p99: percentiles(&s.response).p99,
                        service_p50: percentiles(&s.service).p50,
                        service_p99: percentiles(&s.service).p99,
                    })
                    .collect(),
                name: op.name,
                errors: op.errors,
                examples: op.examples,
            })
            .collect();
        Finished {
            ops,
            started: self.started,
            dropped: self.dropped,
            lag: percentiles(&self.lag),
            seconds: self
                .run_seconds
                .iter()
                .map(|s| RunSecond {
                    started: s.started,
                    dropped: s.dropped,
                    lag_p99: s.lag_p99_us as f64 / 1e3,
                })
                .collect(),
        }
    }
}

pub struct Finished {
    pub ops: Vec<OpReport>,
    pub started: u64,
    pub dropped: u64,
    pub lag: Percentiles,
    pub seconds: Vec<RunSecond>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn response_counts_from_the_intended_start_and_warmup_is_left_out() {
        let mut r = Recorder::new(&["op".into()], ms(1000), ms(2000));
        // warm-up attempt: ignored
        r.record(&Attempt {
            op: 0,
            iteration: ms(10),
            intended: ms(10),
            started: ms(10),
            ended: ms(20),
            error: None,
        });
        for i in 0..100u64 {
            let intended = ms(1000 + i * 10);
            // the 100th attempt waited 500 ms before it could start
            let started = if i == 99 {
                intended + ms(500)
            } else {
                intended
            };
            r.record_start(intended, started);
            r.record(&Attempt {
                op: 0,
                iteration: intended,
                intended,
                started,
                ended: started + ms(2),
                error: (i % 10 == 0).then(|| ("server".to_string(), "503".to_string())),
            });
        }
        let f = r.finish();
        let op = &f.ops[0];
        assert_eq!(op.attempts, 100);
        assert_eq!(op.errors["server"], 10);
        assert_eq!(op.examples["server"], vec!["503".to_string()]);
        assert!((op.response.max - 502.0).abs() < 1.0, "{:?}", op.response);
        assert!(op.service.max < 2.1);
        assert_eq!(f.started, 100);
        assert!((f.lag.max - 500.0).abs() < 1.0);
        assert_eq!(op.seconds.len(), 2);
        assert_eq!(op.seconds.iter().map(|s| s.attempts).sum::<u64>(), 100);
    }
}
