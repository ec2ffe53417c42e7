//! perfwatch's load engine. Pure parts: [`scenario`] (the TOML file), [`schedule`]
//! (arrival times), [`template`] and [`vars`] (an iteration's variables), [`taxonomy`] (error classes), [`threshold`], [`threshold_rules`],
//! [`validity`], [`recorder`] (HDR histograms) and [`results`] (native runs). IO parts:
//! [`http`], [`driver`] (external JSON-lines process), [`probe`] (procfs), [`engine`]
//! (the tokio run loop), [`progress`] (terminal), [`calibrate`].

pub mod recorder;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod taxonomy;
pub mod template;
pub mod threshold;
pub mod threshold_rules;
pub mod units;
pub mod validity;
pub mod vars;

pub mod calibrate;
#[cfg(feature = "demo-service")]
pub mod demo;
pub mod driver;
pub mod engine;
pub mod extract;
pub mod http;
pub mod probe;
pub mod progress;
pub mod results;
pub mod summary;
#[cfg(test)]
mod testing;
