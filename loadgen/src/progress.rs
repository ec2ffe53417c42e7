//! The live line on a terminal (elapsed, rate, in flight, p99, errors by class);
//! hidden with `--quiet` or when stderr is not a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::recorder::Live;

pub struct Progress {
    bar: ProgressBar,
}

/// The text after the bar.
pub fn line(rate: u64, in_flight: u64, live: &Live) -> String {
    let errors = if live.errors.is_empty() {
        "no errors".to_string()
    } else {
        live.errors
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{rate}/s · {in_flight} in flight · slowest p99 {:.1} ms · {errors}",
        live.response_p99_ms
    )
}

impl Progress {
    pub fn new(total: Duration, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::new(total.as_secs().max(1));
            let style =
                ProgressStyle::with_template("{elapsed_precise} [{bar:24}] {pos}/{len}s {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style.progress_chars("=> "));
            b
        };
        Self { bar }
    }

    pub fn update(&self, elapsed: Duration, rate: u64, in_flight: u64, live: &Live) {
        self.bar.set_position(elapsed.as_secs());
        self.bar.set_message(line(rate, in_flight, live));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
