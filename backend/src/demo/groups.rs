//! Project `groups-service`: nightly load tests (k6) of an HTTP service's operations on
//! 150 commits of `main`, with p50/p99 latency, throughput, CPU, memory and error rate;
//! a release every 15 commits, one of which ships an `add_member` regression that a
//! later release repairs, and an expected 5% memory step from a new cache.

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use perfwatch_core::model::{
    AnnotationInput, AnnotationKind, CommitInput, ResultInput, RunSubmission,
};
use perfwatch_core::units::Direction;
use serde_json::json;

use super::rng::{fake_sha, result, Rng};
use super::{DemoProject, NewProject};

pub const SLUG: &str = "groups-service";
const SEED: u64 = 0x0067_2009_5E27;
pub const COMMITS: usize = 150;
/// Commit index where `add_member` writes an audit log inside its transaction.
pub const REGRESSION: usize = 88;
/// Commit index where group ACLs get cached: 5% more memory, an expected trade-off.
pub const ACL_CACHE: usize = 57;
/// Commit index where the audit log moves to an outbox.
pub const RECOVERY: usize = 121;
const RELEASE_EVERY: usize = 15;
const SAMPLES: usize = 3;
pub const TESTBED: &str = "k8s-staging-4vcpu";

/// operation, params, p50 ms, p99 ms, throughput ops/s, cpu %, rss MiB, error rate %.
type Op = (
    &'static str,
    &'static [(&'static str, &'static str)],
    [f64; 6],
);
pub const OPERATIONS: [Op; 3] = [
    (
        "create_identity",
        &[("concurrency", "16")],
        [4.2, 18.5, 2_950.0, 62.0, 412.0, 0.02],
    ),
    (
        "create_group",
        &[("concurrency", "16")],
        [6.8, 27.0, 1_840.0, 58.0, 430.0, 0.03],
    ),
    (
        "add_member",
        &[("concurrency", "16"), ("group_size", "100")],
        [9.5, 41.0, 1_310.0, 66.0, 455.0, 0.05],
    ),
];
/// measure, unit, direction, coefficient of variation.
pub const MEASURES: [(&str, &str, Direction, f64); 6] = [
    ("latency_p50", "ms", Direction::Lower, 0.02),
    ("latency_p99", "ms", Direction::Lower, 0.05),
    ("throughput", "ops/s", Direction::Higher, 0.02),
    ("cpu", "%", Direction::Lower, 0.03),
    ("memory_rss", "MiB", Direction::Lower, 0.01),
    ("error_rate", "%", Direction::Lower, 0.3),
];

const AUTHORS: [&str; 6] = [
    "Amara Okafor",
    "Jonas Weber",
    "Lucía Fernández",
    "Hiroshi Tanaka",
    "Nadia Petrova",
    "Sam Whitfield",
];
const CHANGES: [&str; 14] = [
    "Add pagination to GET /groups/{id}/members",
    "Validate identity e-mail domains against the allow list",
    "Return Retry-After on 429 responses",
    "Return 409 when a member already exists",
    "Upgrade sqlx to 0.8.6",
    "Add OpenTelemetry spans around repository calls",
    "Index memberships by (group_id, identity_id)",
    "Reject group names longer than 200 characters",
    "Move identity creation to a prepared statement",
    "Log request ids in error responses",
    "Tune connection pool size to 32",
    "Add soft delete for groups",
    "Fix flaky members listing test",
    "Refactor handlers into use cases",
];

fn commits(rng: &mut Rng) -> Vec<(CommitInput, DateTime<Utc>)> {
    let last_night = Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap();
    let mut out: Vec<(CommitInput, DateTime<Utc>)> = Vec::with_capacity(COMMITS);
    for i in 0..COMMITS {
        let night = last_night - Duration::days((COMMITS - 1 - i) as i64);
        let time = night - Duration::minutes(rng.range(7.0 * 60.0, 13.0 * 60.0) as i64);
        let message = match i {
            REGRESSION => {
                "Write membership audit log inside the add_member transaction".to_string()
            }
            RECOVERY => "Move membership audit log writes to an outbox".to_string(),
            ACL_CACHE => "Cache group ACLs for 30 s".to_string(),
            _ => rng.pick(&CHANGES).to_string(),
        };
        let author = rng.pick(&AUTHORS).to_string();
        let commit = CommitInput {
            sha: fake_sha(SEED, i as u64),
            parent: out.last().map(|(c, _)| c.sha.clone()),
            author: Some(author),
            message: Some(message),
            time: Some(time),
        };
        out.push((commit, night));
    }
    out
}

/// Multipliers on the six measures of `op` at commit `i`.
fn effects(op: &str, i: usize) -> [f64; 6] {
    let mut f = [1.0; 6];
    if i >= ACL_CACHE {
        f[4] *= 1.05;
    }
    if op == "add_member" && (REGRESSION..RECOVERY).contains(&i) {
        f[0] *= 1.12;
        f[1] *= 1.4;
        f[2] *= 0.9;
        f[3] *= 1.08;
        f[5] *= 18.0;
    }
    f
}

fn results(rng: &mut Rng, i: usize) -> Vec<ResultInput> {
    let mut out = Vec::with_capacity(OPERATIONS.len() * MEASURES.len());
    for (op, params, base) in &OPERATIONS {
        let f = effects(op, i);
        for (m, (measure, unit, dir, cv)) in MEASURES.iter().enumerate() {
            let samples = rng.samples(SAMPLES, base[m] * f[m], *cv, false);
            out.push(result(op, params, measure, unit, Some(*dir), samples));
        }
    }
    out
}

fn release_name(time: DateTime<Utc>, per_month: &mut Vec<(u32, u32)>) -> String {
    let key = (time.year() as u32, time.month());
    let n = per_month.iter().filter(|k| **k == key).count() + 1;
    per_month.push(key);
    format!("{}.{}.{n}", key.0, key.1)
}

pub fn build() -> DemoProject {
    let mut rng = Rng::new(SEED);
    let commits = commits(&mut rng);
    let mut runs = Vec::with_capacity(COMMITS);
    for (i, (commit, night)) in commits.iter().enumerate() {
        let started = *night + Duration::seconds(rng.range(0.0, 240.0) as i64);
        let meta =
            json!({"tool": "k6", "k6": "0.54.0", "duration": "9m", "stages": SAMPLES, "vus": 16});
        runs.push(RunSubmission {
            project: SLUG.into(),
            branch: None,
            commit: Some(commit.clone()),
            testbed: Some(TESTBED.into()),
            run_key: Some(format!("demo-groups-{}", commit.sha)),
            started_at: Some(started),
            finished_at: Some(started + Duration::minutes(10)),
            trigger: Some("schedule".into()),
            metadata: meta.as_object().cloned().unwrap_or_default(),
            results: results(&mut rng, i),
        });
    }
    let mut per_month = Vec::new();
    let annotations = (RELEASE_EVERY - 1..COMMITS)
        .step_by(RELEASE_EVERY)
        .map(|i| {
            let (commit, _) = &commits[i];
            let name = release_name(commit.time.unwrap_or_default(), &mut per_month);
            let description = if (i + 1 - RELEASE_EVERY..=i).contains(&REGRESSION) {
                "Ships the add_member audit log (p99 +40%, errors up)".to_string()
            } else if (i + 1 - RELEASE_EVERY..=i).contains(&RECOVERY) {
                "Audit log moved to an outbox: add_member back to normal".to_string()
            } else {
                format!("Groups service {name}")
            };
            AnnotationInput {
                project: SLUG.into(),
                name,
                kind: AnnotationKind::Release,
                commit: Some(commit.sha.clone()),
                time: None,
                description: Some(description),
            }
        })
        .collect::<Vec<_>>();
    DemoProject {
        project: NewProject {
            slug: SLUG.into(),
            name: Some("Groups HTTP service".into()),
            main_branch: Some("main".into()),
            repo_url: Some("https://github.com/example/groups-service".into()),
        },
        story: format!(
            "{SLUG} (nightly load tests of create_identity, create_group and add_member: p50/p99 latency, \
             throughput, CPU, memory and error rate over {COMMITS} commits; {} releases, one shipping an \
             add_member regression of +40% p99 with errors up, repaired three releases later; +5% memory \
             from an ACL cache)",
            annotations.len()
        ),
        runs,
        annotations,
    }
}
