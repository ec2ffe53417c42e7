//! Project `go-driver`: a database driver's Go benchmark suite (`go test -bench
//! -benchmem -count=5`) over 500 commits of `main` on three testbeds, with two
//! injected regressions, one improvement, five releases and a short feature branch.

use chrono::Duration;
use perfwatch_core::model::{AnnotationInput, AnnotationKind, ResultInput, RunSubmission};
use serde_json::json;

use super::go_commits::{branch_commits, main_commits, Commit};
use super::rng::{result, Rng};
use super::{DemoProject, NewProject};

pub const SLUG: &str = "go-driver";
pub(super) const SEED: u64 = 0x60_D21F_E500;
pub const COMMITS: usize = 500;
/// Commit index (0-based on `main`) where `BenchmarkFindOne*` gets 12% slower.
pub const FIND_ONE_REGRESSION: usize = 180;
/// Commit index where `BenchmarkBulkWrite` allocates 25% more.
pub const BULK_WRITE_REGRESSION: usize = 340;
/// Commit index where `BenchmarkBSONMarshal` gets 15% faster.
pub const BSON_IMPROVEMENT: usize = 420;
pub const BRANCH: &str = "feature/pooling";
pub(super) const BRANCH_POINT: usize = 470;
pub const BRANCH_COMMITS: usize = 8;
const SAMPLES: usize = 5;
/// The laptop testbed measures every this many commits.
pub const NIGHTLY_EVERY: usize = 4;
/// Main commit index, tag and release notes of each release.
#[rustfmt::skip]
pub(super) const RELEASES: [(usize, &str, &str); 5] = [
    (60, "v1.10.0", "Queryable encryption range queries; OIDC machine workflows"),
    (150, "v1.11.0", "Client.BulkWrite preview; Go 1.22 is now the minimum"),
    (250, "v1.12.0", "Server reply validation in FindOne; CSOT for change streams"),
    (360, "v1.13.0", "BulkWrite batch splitting by message size; zstd level option"),
    (460, "v1.14.0", "Pooled buffers in bson.Marshal; SRV polling fixes"),
];

/// name, params, ns/op, B/op, allocs/op on the reference testbed.
type Bench = (
    &'static str,
    &'static [(&'static str, &'static str)],
    f64,
    f64,
    f64,
);
#[rustfmt::skip]
pub const BENCHMARKS: [Bench; 13] = [
    ("BenchmarkInsertOne", &[], 61_500.0, 5_120.0, 78.0),
    ("BenchmarkInsertMany", &[("docs", "100")], 1_240_000.0, 212_000.0, 2_410.0),
    ("BenchmarkFindOne", &[], 54_800.0, 6_480.0, 96.0),
    ("BenchmarkFindOneAndUpdate", &[], 71_200.0, 8_200.0, 121.0),
    ("BenchmarkFind", &[("docs", "1000")], 2_850_000.0, 1_480_000.0, 19_800.0),
    ("BenchmarkUpdateOne", &[], 58_300.0, 5_460.0, 84.0),
    ("BenchmarkBulkWrite", &[("docs", "100")], 1_560_000.0, 248_000.0, 3_050.0),
    ("BenchmarkBulkWrite", &[("docs", "1000")], 12_900_000.0, 2_420_000.0, 29_600.0),
    ("BenchmarkAggregate", &[("stages", "5")], 187_000.0, 21_400.0, 298.0),
    ("BenchmarkBSONMarshal", &[("size", "small")], 1_180.0, 448.0, 7.0),
    ("BenchmarkBSONMarshal", &[("size", "large")], 164_000.0, 65_800.0, 412.0),
    ("BenchmarkBSONUnmarshal", &[("size", "small")], 1_640.0, 696.0, 19.0),
    ("BenchmarkConnectionPoolCheckout", &[], 890.0, 96.0, 2.0),
];

/// name, goos, goarch, speed factor on ns/op, noise (coefficient of variation).
pub const TESTBEDS: [(&str, &str, &str, f64, f64); 3] = [
    ("linux-amd64-c5.xlarge", "linux", "amd64", 1.0, 0.015),
    ("linux-arm64-c7g.xlarge", "linux", "arm64", 0.91, 0.010),
    ("darwin-arm64-m2", "darwin", "arm64", 0.68, 0.028),
];

/// Multipliers on (ns/op, B/op, allocs/op) of benchmark `b` at main commit `i`, and on
/// the feature branch's commit `branch` when given.
fn effects(b: &Bench, i: usize, branch: Option<usize>) -> (f64, f64, f64) {
    let (mut t, mut bytes, mut allocs) = (1.0, 1.0, 1.0);
    let name = b.0;
    if name.starts_with("BenchmarkFindOne") && i >= FIND_ONE_REGRESSION {
        t *= 1.12;
    }
    if name == "BenchmarkBulkWrite" && i >= BULK_WRITE_REGRESSION {
        t *= 1.05;
        bytes *= 1.25;
        allocs *= 1.25;
    }
    if name == "BenchmarkBSONMarshal" && i >= BSON_IMPROVEMENT {
        t *= 0.85;
        bytes *= 0.85;
    }
    if let Some(k) = branch {
        if name == "BenchmarkConnectionPoolCheckout" && k >= 1 {
            t *= 0.7;
        }
        if name == "BenchmarkConnectionPoolCheckout" && k >= 2 {
            allocs *= 0.5;
            bytes *= 0.5;
        }
        if matches!(
            name,
            "BenchmarkInsertOne" | "BenchmarkFindOne" | "BenchmarkUpdateOne"
        ) && k >= 2
        {
            t *= 0.95;
        }
    }
    (t, bytes, allocs)
}

fn results(
    rng: &mut Rng,
    i: usize,
    branch: Option<usize>,
    speed: f64,
    cv: f64,
) -> Vec<ResultInput> {
    // Machine state shifts a whole run a little (thermal, neighbours) on top of sample noise.
    let run_factor = 1.0 + 0.006 * rng.normal();
    let mut out = Vec::with_capacity(BENCHMARKS.len() * 3);
    for b in &BENCHMARKS {
        let (t, bytes, allocs) = effects(b, i, branch);
        let ns = b.2 * speed * t * run_factor;
        let mut time = result(
            b.0,
            b.1,
            "time",
            "ns/op",
            None,
            rng.samples(SAMPLES, ns, cv, true),
        );
        time.iterations = Some(((1e9 / ns).max(1.0) as u64).max(1));
        out.push(time);
        let b_op: Vec<f64> = rng.samples(SAMPLES, b.3 * bytes, 0.002, false);
        out.push(result(
            b.0,
            b.1,
            "alloc_bytes",
            "B/op",
            None,
            b_op.iter().map(|v| v.round()).collect(),
        ));
        let a = (b.4 * allocs).round();
        out.push(result(
            b.0,
            b.1,
            "allocs",
            "allocs/op",
            None,
            vec![a; SAMPLES],
        ));
    }
    out
}

fn run(rng: &mut Rng, c: &Commit, i: usize, branch: Option<usize>, tb: usize) -> RunSubmission {
    let (testbed, goos, goarch, speed, cv) = TESTBEDS[tb];
    let started = c.time + Duration::seconds(rng.range(600.0, 1500.0) as i64);
    let finished = started + Duration::seconds(rng.range(480.0, 780.0) as i64);
    let meta =
        json!({"goos": goos, "goarch": goarch, "go": "1.23.3", "benchmem": true, "count": SAMPLES});
    RunSubmission {
        project: SLUG.into(),
        branch: branch.map(|_| BRANCH.to_string()),
        commit: Some(c.input()),
        testbed: Some(testbed.into()),
        run_key: Some(format!("demo-go-{}-{testbed}", c.sha)),
        started_at: Some(started),
        finished_at: Some(finished),
        trigger: Some(
            if branch.is_some() {
                "pull_request"
            } else {
                "ci"
            }
            .into(),
        ),
        metadata: meta.as_object().cloned().unwrap_or_default(),
        results: results(rng, i, branch, speed, cv),
    }
}

/// Whether testbed `tb` measures main commit `i`: the CI machines measure every commit,
/// the Mac in the office only every fourth (it runs nightly).
pub fn runs_on(tb: usize, i: usize) -> bool {
    tb < 2 || i.is_multiple_of(NIGHTLY_EVERY)
}

pub fn build() -> DemoProject {
    let mut rng = Rng::new(SEED);
    let main = main_commits(&mut rng);
    let branch = branch_commits(&mut rng, &main[BRANCH_POINT]);
    let mut runs = Vec::with_capacity(COMMITS * TESTBEDS.len() + BRANCH_COMMITS);
    for (i, c) in main.iter().enumerate() {
        for tb in 0..TESTBEDS.len() {
            if runs_on(tb, i) {
                runs.push(run(&mut rng, c, i, None, tb));
            }
        }
    }
    for (k, c) in branch.iter().enumerate() {
        runs.push(run(&mut rng, c, BRANCH_POINT, Some(k), 0));
    }
    let annotations = RELEASES
        .iter()
        .map(|(i, v, notes)| AnnotationInput {
            project: SLUG.into(),
            name: v.to_string(),
            kind: AnnotationKind::Release,
            commit: Some(main[*i].sha.clone()),
            time: None,
            description: Some(format!("Go database driver {v}: {notes}")),
        })
        .collect();
    DemoProject {
        project: NewProject {
            slug: SLUG.into(),
            name: Some("Go database driver".into()),
            main_branch: Some("main".into()),
            repo_url: Some("https://github.com/example/go-driver".into()),
        },
        runs,
        annotations,
        story: format!(
            "{SLUG} (Go benchmarks: {} benchmarks x ns/op, B/op, allocs/op over {COMMITS} commits of main on \
             {} testbeds, plus {BRANCH_COMMITS} commits on {BRANCH}; FindOne +12% ns/op at {}, BulkWrite +25% \
             B/op and allocs/op at {}, BSONMarshal -15% ns/op at {}; releases v1.10.0 to v1.14.0)",
            BENCHMARKS.len(),
            TESTBEDS.len(),
            &main[FIND_ONE_REGRESSION].sha[..7],
            &main[BULK_WRITE_REGRESSION].sha[..7],
            &main[BSON_IMPROVEMENT].sha[..7],
        ),
    }
}
