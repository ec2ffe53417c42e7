//! Test helpers: fixture loading and result lookup.
#![allow(dead_code)]

use perfwatch_core::validate::validate_run;
use perfwatch_core::ResultInput;
use perfwatch_parsers::Parsed;

/// The shared fixtures, checked out beside the repository (`../shared`).
pub const SHARED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/formats/"
);
/// Fixtures written for this crate (formats or cases the shared set lacks).
pub const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

pub fn shared(rel: &str) -> String {
    std::fs::read_to_string(format!("{SHARED}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub fn own(rel: &str) -> String {
    std::fs::read_to_string(format!("{OWN}{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The one result with this benchmark, measure and exactly these params.
pub fn find<'a>(
    p: &'a Parsed,
    bench: &str,
    measure: &str,
    params: &[(&str, &str)],
) -> &'a ResultInput {
    let hits: Vec<&ResultInput> = p
        .results
        .iter()
        .filter(|r| {
            r.benchmark == bench
                && r.measure == measure
                && r.params.len() == params.len()
                && params
                    .iter()
                    .all(|(k, v)| r.params.get(*k).map(String::as_str) == Some(*v))
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{bench} {measure} {params:?} in {:#?}",
        p.results
    );
    hits[0]
}

/// The parsed results pass the core's validation (units it knows, no duplicate series,
/// finite non-negative times) once wrapped into a run.
pub fn assert_valid(p: &Parsed) {
    let run = p.clone().into_submission("fixture");
    if let Err(e) = validate_run(run) {
        panic!("validation failed: {e:?}");
    }
}

/// Every result's samples count.
pub fn sample_counts(p: &Parsed) -> Vec<usize> {
    p.results.iter().map(|r| r.samples.len()).collect()
}
