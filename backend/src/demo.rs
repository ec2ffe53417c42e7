//! The seeded demo data set behind `perfwatch demo` (and `perfwatch serve` on an empty
//! database): three projects that show what perfwatch is for.
//!
//! - `go-driver`: a database driver's Go benchmark suite over 500 commits on three
//!   testbeds, with two injected regressions, one improvement, five releases and a
//!   feature branch;
//! - `groups-service`: nightly load tests of an HTTP service, with a release that
//!   ships a latency and error-rate regression and a later one that repairs it;
//! - `prod-baseline`: hourly production metrics without commits, with deploy markers.
//!
//! Every number comes from a seeded PRNG, so each load gives the same data. Runs go
//! through the same validation and storage as submitted runs, each with a run key, so a
//! load interrupted half-way is completed by the next one without duplicates. Each
//! project's load ends with one detection pass over its whole history (ingestion would
//! have run it point by point), so the demo opens with the injected changes as alerts.

mod go_commits;
mod go_driver;
mod groups;
mod prod;
mod rng;

use std::collections::HashSet;

use perfwatch_core::model::{AnnotationInput, RunSubmission};
use perfwatch_core::validate::validate_run;

use crate::detection::{detect_project, DetectSettings, Scope};
use crate::error::{Result, StoreError};
use crate::store::{IngestOptions, NewProject};
use crate::Store;

/// Slugs of the demo projects, in load order.
pub const PROJECTS: [&str; 3] = [go_driver::SLUG, groups::SLUG, prod::SLUG];

/// One demo project: its definition, runs and markers, and a sentence about it.
pub(crate) struct DemoProject {
    pub project: NewProject,
    pub runs: Vec<RunSubmission>,
    pub annotations: Vec<AnnotationInput>,
    pub story: String,
}

impl DemoProject {
    fn series(&self) -> usize {
        let mut keys = HashSet::new();
        for run in &self.runs {
            for r in &run.results {
                keys.insert((
                    run.testbed.as_deref(),
                    r.benchmark.as_str(),
                    r.measure.as_str(),
                    perfwatch_core::model::params_key(&r.params),
                ));
            }
        }
        keys.len()
    }
}

/// What one project's load wrote.
#[derive(Default)]
struct Loaded {
    runs: usize,
    points: usize,
    markers: usize,
    alerts: usize,
}

/// Builds the demo project with slug `slug`.
fn build(slug: &str) -> DemoProject {
    match slug {
        go_driver::SLUG => go_driver::build(),
        groups::SLUG => groups::build(),
        _ => prod::build(),
    }
}

/// Loads the demo data set and says what it loaded. Projects that already hold all
/// their demo runs are left alone; one that holds fewer (an interrupted load) is
/// completed, the run keys and marker names keeping everything single.
pub async fn load(store: &Store) -> Result<String> {
    let existing = store.list_projects().await?;
    let (mut present, mut completed, mut stories) = (Vec::new(), Vec::new(), Vec::new());
    let (mut total, mut series, mut projects) = (Loaded::default(), 0, 0);
    for slug in PROJECTS {
        let demo = build(slug);
        match existing.iter().find(|p| p.slug == slug) {
            Some(p) if p.run_count >= demo.runs.len() as i64 => {
                present.push(format!("{slug} ({} runs)", p.run_count));
                continue;
            }
            Some(_) => completed.push(slug),
            None => {
                store.create_project(&demo.project).await?;
            }
        }
        series += demo.series();
        stories.push(demo.story.clone());
        let loaded = load_project(store, demo).await?;
        total.runs += loaded.runs;
        total.points += loaded.points;
        total.markers += loaded.markers;
        total.alerts += loaded.alerts;
        projects += 1;
    }
    let mut sentences = Vec::new();
    if projects == 0 {
        sentences.push("The demo data set is already loaded; nothing was added.".to_string());
    } else {
        sentences.push(format!(
            "Loaded the seeded demo data set: {projects} project(s), {} runs, {series} series, {} points \
             and {} release/deploy markers, with {} alert(s) from a detection pass: {}.",
            total.runs,
            total.points,
            total.markers,
            total.alerts,
            stories.join("; ")
        ));
    }
    if !completed.is_empty() {
        sentences.push(format!(
            "{} had been partly loaded before and {} now complete, without duplicates.",
            completed.join(", "),
            if completed.len() == 1 { "is" } else { "are" }
        ));
    }
    if !present.is_empty() {
        sentences.push(format!(
            "Already present and left unchanged: {}; delete them or use a fresh database to load \
             them again.",
            present.join(", ")
        ));
    }
    Ok(sentences.join(" "))
}

async fn load_project(store: &Store, demo: DemoProject) -> Result<Loaded> {
    let opts = IngestOptions {
        auto_create_project: false,
    };
    let mut loaded = Loaded::default();
    for run in demo.runs {
        let valid = validate_run(run).map_err(StoreError::Invalid)?;
        let stored = store.store_run(&valid, &opts).await?;
        if !stored.duplicate {
            loaded.runs += 1;
            loaded.points += valid.results.len();
        }
    }
    for a in &demo.annotations {
        match store.add_annotation(a).await {
            Ok(_) => loaded.markers += 1,
            Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    // One detection pass over the whole history, as ingestion would have run point by
    // point, so the demo opens with alerts. A failure leaves the data loaded.
    let slug = &demo.project.slug;
    match detect_project(store, slug, Scope::All, &DetectSettings::default()).await {
        Ok(s) => loaded.alerts = s.alerts_created + s.threshold_alerts_created,
        Err(e) => tracing::warn!(project = %slug, error = %e, "demo: detection pass failed"),
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_set_is_the_same_on_every_build() {
        for slug in PROJECTS {
            let (a, b) = (build(slug), build(slug));
            assert_eq!(a.runs, b.runs, "{slug}");
            assert_eq!(a.annotations, b.annotations, "{slug}");
        }
    }

    #[test]
    fn every_demo_run_and_marker_is_valid() {
        for slug in PROJECTS {
            let demo = build(slug);
            let mut keys = HashSet::new();
            for run in &demo.runs {
                assert!(
                    keys.insert(run.run_key.clone()),
                    "duplicate run key {:?}",
                    run.run_key
                );
                validate_run(run.clone()).unwrap_or_else(|e| panic!("{slug}: {e}"));
            }
            for a in &demo.annotations {
                perfwatch_core::validate::validate_annotation(a)
                    .unwrap_or_else(|e| panic!("{slug}: {e}"));
            }
        }
    }
}
