//! The commit history of the `go-driver` demo project: 500 commits on `main` a few
//! hours apart with plausible authors and messages (the ones that change performance
//! named after what they do), and a short `feature/pooling` branch off commit 470.

use chrono::{DateTime, Duration, TimeZone, Utc};
use perfwatch_core::model::CommitInput;

use super::go_driver::{
    BRANCH_COMMITS, BRANCH_POINT, BSON_IMPROVEMENT, BULK_WRITE_REGRESSION, COMMITS,
    FIND_ONE_REGRESSION, RELEASES, SEED,
};
use super::rng::{fake_sha, Rng};

const AUTHORS: [&str; 9] = [
    "Priya Raman",
    "Matt Dale",
    "Qingyang Hu",
    "Preston Vasquez",
    "Isabel Atkinson",
    "Kevin Albertson",
    "Sofia Lindqvist",
    "Tomasz Nowak",
    "dependabot[bot]",
];
const VERBS: [&str; 10] = [
    "Fix", "Add", "Refactor", "Simplify", "Document", "Test", "Remove", "Improve", "Harden",
    "Clean up",
];
const OBJECTS: [&str; 16] = [
    "retryable reads on handshake errors",
    "server selection timeout message",
    "change stream resume token handling",
    "CSOT deadline propagation in cursors",
    "session pinning for load-balanced clusters",
    "SRV polling in topology monitor",
    "write concern error reporting",
    "client-side encryption key caching",
    "unified spec test runner",
    "URI option validation",
    "heartbeat frequency checks",
    "compressor negotiation (zstd, snappy)",
    "logging of command events",
    "GridFS chunk download",
    "explain verbosity options",
    "index view pagination",
];

pub struct Commit {
    pub sha: String,
    pub parent: Option<String>,
    pub author: String,
    pub message: String,
    pub time: DateTime<Utc>,
}

impl Commit {
    pub fn input(&self) -> CommitInput {
        CommitInput {
            sha: self.sha.clone(),
            parent: self.parent.clone(),
            author: Some(self.author.clone()),
            message: Some(self.message.clone()),
            time: Some(self.time),
        }
    }
}

/// Ticket numbers grow with the history, as they do in a real tracker.
fn ticket(i: usize) -> usize {
    2900 + i * 2
}

fn message(rng: &mut Rng, i: usize) -> (String, String) {
    let special = match i {
        FIND_ONE_REGRESSION => Some(("Qingyang Hu", "Validate server reply documents in FindOne")),
        BULK_WRITE_REGRESSION => Some((
            "Matt Dale",
            "Copy write models before splitting BulkWrite batches",
        )),
        BSON_IMPROVEMENT => Some(("Preston Vasquez", "Reuse pooled buffers in bson.Marshal")),
        _ => None,
    };
    if let Some((author, what)) = special {
        return (author.to_string(), format!("GODRIVER-{} {what}", ticket(i)));
    }
    if let Some((_, v, _)) = RELEASES.iter().find(|(at, _, _)| *at == i) {
        return ("Isabel Atkinson".into(), format!("Prepare release {v}"));
    }
    let author = rng.pick(&AUTHORS).to_string();
    if author.starts_with("dependabot") {
        let minor = 24 + i / 60;
        return (
            author,
            format!(
                "Bump golang.org/x/crypto from 0.{minor}.0 to 0.{}.0",
                minor + 1
            ),
        );
    }
    let msg = format!(
        "GODRIVER-{} {} {}",
        ticket(i) + rng.below(2),
        rng.pick(&VERBS),
        rng.pick(&OBJECTS)
    );
    (author, msg)
}

pub fn main_commits(rng: &mut Rng) -> Vec<Commit> {
    let gaps: Vec<f64> = (0..COMMITS).map(|_| rng.range(1.5, 7.0)).collect();
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 15, 40, 0).unwrap();
    let mut time = end - Duration::minutes((gaps.iter().sum::<f64>() * 60.0) as i64);
    let mut out: Vec<Commit> = Vec::with_capacity(COMMITS);
    for (i, gap) in gaps.iter().enumerate() {
        let (author, message) = message(rng, i);
        out.push(Commit {
            sha: fake_sha(SEED, i as u64),
            parent: out.last().map(|c| c.sha.clone()),
            author,
            message,
            time,
        });
        time += Duration::minutes((gap * 60.0) as i64);
    }
    out
}

pub fn branch_commits(rng: &mut Rng, fork: &Commit) -> Vec<Commit> {
    let messages = [
        "Sketch lock-free idle connection stack",
        "Use atomic counters for pool generation",
        "Avoid allocating a waiter per checkout",
        "Add BenchmarkConnectionPoolCheckout parallel variant",
        "Address review: document the idle stack invariants",
        "Fix race in pool close with waiting checkouts",
        "Tune maxConnecting default",
        "Run pool spec tests with -race",
    ];
    let mut out: Vec<Commit> = Vec::with_capacity(BRANCH_COMMITS);
    let mut time = fork.time;
    for (i, msg) in messages.iter().enumerate().take(BRANCH_COMMITS) {
        time += Duration::minutes((rng.range(3.0, 9.0) * 60.0) as i64);
        out.push(Commit {
            sha: fake_sha(SEED ^ 0xB4A7C4, i as u64),
            parent: Some(out.last().map_or(fork.sha.clone(), |c| c.sha.clone())),
            author: "Sofia Lindqvist".into(),
            message: format!("GODRIVER-{} {msg}", ticket(BRANCH_POINT) + 5),
            time,
        });
    }
    out
}
