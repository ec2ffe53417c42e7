//! Project `prod-baseline`: time-indexed production metrics without commits, hourly
//! over 45 days, with daily and weekly seasonality and deploy markers; one deploy drops
//! background jobs per minute by 30%, another triples cache writes.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc, Weekday};
use perfwatch_core::model::{AnnotationInput, AnnotationKind, ResultInput, RunSubmission};
use perfwatch_core::units::Direction;
use serde_json::json;

use super::rng::{fake_sha, result, Rng};
use super::{DemoProject, NewProject};

pub const SLUG: &str = "prod-baseline";
const SEED: u64 = 0x0050_0D00_BA5E;
pub const DAYS: i64 = 45;
pub const HOURS: usize = (DAYS * 24) as usize;
pub const TESTBED: &str = "production-eu-west-1";
/// Day (from the start) around which the deploy that slows background jobs lands.
const JOBS_DROP_DAY: f64 = 18.0;
/// Day around which the deploy that triples cache writes lands.
const CACHE_WRITES_DAY: f64 = 33.0;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap() - Duration::days(DAYS)
}

/// Deploys every two to four days on working hours of weekdays.
fn deploys(rng: &mut Rng) -> Vec<DateTime<Utc>> {
    let mut out = Vec::new();
    let mut day = rng.range(0.5, 2.0);
    while day < DAYS as f64 - 0.5 {
        let date = start() + Duration::days(day as i64);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(date + Duration::minutes(rng.range(9.0 * 60.0, 17.0 * 60.0) as i64));
        }
        day += rng.range(2.0, 4.0);
    }
    out
}

/// The deploy closest to `day`.
fn deploy_near(deploys: &[DateTime<Utc>], day: f64) -> DateTime<Utc> {
    let target = start() + Duration::minutes((day * 24.0 * 60.0) as i64);
    *deploys
        .iter()
        .min_by_key(|d| (**d - target).num_minutes().abs())
        .expect("there are deploys")
}

/// Daily (peak mid-afternoon UTC) and weekly (quiet weekends) load shape.
fn season(t: DateTime<Utc>, daily: f64, weekend: f64) -> f64 {
    let h = t.hour() as f64 + 0.5;
    let day = 1.0 + daily * (std::f64::consts::TAU * (h - 14.0) / 24.0).cos();
    let week = if matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
        weekend
    } else {
        1.0
    };
    day * week
}

fn results(rng: &mut Rng, t: DateTime<Utc>, jobs_drop: bool, writes_up: bool) -> Vec<ResultInput> {
    let jobs = 1_200.0 * season(t, 0.35, 0.9) * if jobs_drop { 0.7 } else { 1.0 };
    let reads = 2.4e6 * season(t, 0.45, 0.88);
    let writes = 1.8e5 * season(t, 0.3, 0.92) * if writes_up { 3.0 } else { 1.0 };
    let round = |v: Vec<f64>| v.into_iter().map(f64::round).collect::<Vec<_>>();
    vec![
        result(
            "background_jobs",
            &[],
            "jobs_per_minute",
            "jobs/min",
            Some(Direction::Higher),
            round(rng.samples(12, jobs, 0.04, false)),
        ),
        result(
            "cache",
            &[],
            "reads_per_hour",
            "reads/h",
            Some(Direction::Higher),
            round(rng.samples(4, reads, 0.03, false)),
        ),
        result(
            "cache",
            &[],
            "writes_per_hour",
            "writes/h",
            Some(Direction::Lower),
            round(rng.samples(4, writes, 0.05, false)),
        ),
    ]
}

pub fn build() -> DemoProject {
    let mut rng = Rng::new(SEED);
    let deploys = deploys(&mut rng);
    let jobs_drop = deploy_near(&deploys, JOBS_DROP_DAY);
    let writes_up = deploy_near(&deploys, CACHE_WRITES_DAY);
    let runs = (0..HOURS)
        .map(|h| {
            let t = start() + Duration::hours(h as i64);
            let meta = json!({"source": "prometheus", "window": "1h", "region": "eu-west-1"});
            RunSubmission {
                project: SLUG.into(),
                branch: None,
                commit: None,
                testbed: Some(TESTBED.into()),
                run_key: Some(format!("demo-prod-{}", t.format("%Y%m%d%H"))),
                started_at: Some(t),
                finished_at: Some(t + Duration::hours(1)),
                trigger: Some("schedule".into()),
                metadata: meta.as_object().cloned().unwrap_or_default(),
                results: results(&mut rng, t, t >= jobs_drop, t >= writes_up),
            }
        })
        .collect();
    let annotations = deploys
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let sha = &fake_sha(SEED, i as u64)[..7];
            let description = if *d == jobs_drop {
                "Job scheduler moved to leader election (background jobs -30%)".to_string()
            } else if *d == writes_up {
                "Cache keys now include the locale (cache writes x3)".to_string()
            } else {
                format!("Routine deploy of api@{sha}")
            };
            AnnotationInput {
                project: SLUG.into(),
                name: format!("deploy api@{sha}"),
                kind: AnnotationKind::Deploy,
                commit: None,
                time: Some(*d),
                description: Some(description),
            }
        })
        .collect::<Vec<_>>();
    DemoProject {
        project: NewProject {
            slug: SLUG.into(),
            name: Some("Production baseline".into()),
            main_branch: Some("main".into()),
            repo_url: None,
        },
        story: format!(
            "{SLUG} (hourly production metrics over {DAYS} days without commits: background jobs per minute, \
             cache reads and writes per hour, with daily and weekly seasonality; {} deploys, one dropping jobs \
             per minute by 30% on {}, one tripling cache writes on {})",
            annotations.len(),
            jobs_drop.format("%b %d"),
            writes_up.format("%b %d"),
        ),
        runs,
        annotations,
    }
}
