//! `.perfwatch.toml` parsing: a full file, defaults, errors naming key and line, the
//! canonical hash, and properties (no panic, canonical round trip).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use perfwatch_jobs::{parse, LoadStep};
use proptest::prelude::*;

const FULL: &str = r#"
repeats = 3
interleave = true
testbed = "bare-metal-1"
timeout = "45m"

[build]
command = "cargo build --release"
timeout = "20m"
workdir = "server"
env = { RUSTFLAGS = "-C target-cpu=native" }

[service]
command = "./target/release/app --port $PORT"
ready_url = "http://127.0.0.1:${PORT}/health"
ready_timeout = "90s"
stop_timeout = "5s"
env = { RUST_LOG = "warn" }

[load]
scenario = "perf/scenario.toml"
timeout = "5m"

[metrics]
source = "prometheus"
queries = { rss = "process_resident_memory_bytes" }
"#;

#[test]
fn reads_a_full_file() {
    let d = parse(FULL).unwrap();
    assert_eq!(d.repeats, 3);
    assert!(d.interleave);
    assert_eq!(d.testbed.as_deref(), Some("bare-metal-1"));
    assert_eq!(d.timeout, Duration::from_secs(45 * 60));
    let b = d.build.as_ref().unwrap();
    assert_eq!(b.workdir.as_deref(), Some("server"));
    assert_eq!(b.env["RUSTFLAGS"], "-C target-cpu=native");
    let s = d.service.as_ref().unwrap();
    assert_eq!(s.ready_timeout, Duration::from_secs(90));
    assert_eq!(s.stop_timeout, Duration::from_secs(5));
    assert_eq!(s.ready_port, None);
    assert_eq!(
        d.load,
        LoadStep::Scenario {
            path: "perf/scenario.toml".into(),
            timeout: Duration::from_secs(300)
        }
    );
    assert_eq!(
        d.metrics.as_ref().unwrap()["source"].as_str(),
        Some("prometheus")
    );
}

#[test]
fn defaults_apply() {
    let d = parse("[load]\nbench = \"go test -bench .\"\n").unwrap();
    assert_eq!(d.repeats, 1);
    assert!(!d.interleave);
    assert_eq!(d.timeout, Duration::from_secs(30 * 60));
    assert!(d.build.is_none() && d.service.is_none() && d.metrics.is_none());
    let LoadStep::Bench {
        timeout,
        format,
        output,
        ..
    } = &d.load
    else {
        panic!("bench expected")
    };
    assert_eq!(*timeout, Duration::from_secs(600));
    assert!(format.is_none() && output.is_none());
    let d =
        parse("[service]\ncommand = \"x\"\nready_port = 8080\n[load]\nbench = \"b\"\n").unwrap();
    let s = d.service.unwrap();
    assert_eq!(
        (s.ready_timeout, s.stop_timeout),
        (Duration::from_secs(60), Duration::from_secs(10))
    );
}

/// (file, key, line, a word the message must contain)
const BAD: &[(&str, &str, usize, &str)] = &[
    ("repeats = 3\nrepeat = 2\n[load]\nbench = \"b\"\n", "repeat", 2, "unknown field"),
    ("[load]\nbench = \"b\"\n\n[service]\ncommand = \"s\"\nready_url = \"http://x\"\nreadyport = 1\n", "service.readyport", 7, "unknown field"),
    ("repeats = 0\n[load]\nbench = \"b\"\n", "repeats", 1, "1 to 50"),
    ("\nrepeats = 51\n[load]\nbench = \"b\"\n", "repeats", 2, "1 to 50"),
    ("[load]\nbench = \"b\"\n[service]\ncommand = \"s\"\nready_url = \"ftp://x\"\n", "service.ready_url", 5, "http"),
    ("[load]\nbench = \"b\"\n[service]\ncommand = \"s\"\n", "service", 4, "exactly one"),
    ("[load]\nbench = \"b\"\n[service]\ncommand = \"s\"\nready_port = 1\nready_url = \"http://a\"\n", "service", 4, "exactly one"),
    ("[load]\nscenario = \"s.toml\"\nbench = \"b\"\n", "load.bench", 3, "not both"),
    ("\n\n[load]\ntimeout = \"5m\"\n", "load", 3, "scenario"),
    ("[load]\nbench = \"b\"\ntimeout = \"5 minutes\"\n", "load.timeout", 3, "unit"),
    ("[load]\nbench = \"b\"\nformat = \"nope\"\n", "load.format", 3, "unknown format"),
    ("[build]\ncommand = \"make\"\nworkdir = \"../outside\"\n[load]\nbench = \"b\"\n", "build.workdir", 3, "leaves"),
    ("[build]\ncommand = \"make\"\nenv = { PORT = \"1\" }\n[load]\nbench = \"b\"\n", "build.env.PORT", 3, "runner"),
    ("[load]\nscenario = \"/etc/passwd\"\n", "load.scenario", 2, "absolute"),
    ("[load]\nscenario = \"s.toml\"\nformat = \"go\"\n", "load.format", 3, "only to `bench`"),
    ("[load\nbench = \"b\"\n", "", 1, ""),
    ("interleave = \"yes\"\n[load]\nbench = \"b\"\n", "interleave", 1, "bool"),
    ("[build]\ntimeout = \"1m\"\n[load]\nbench = \"b\"\n", "build", 1, "command"),
    ("[load]\nbench = \"  \"\n", "load.bench", 2, "empty"),
    ("[service]\ncommand = \"s\"\nready_port = 70000\n[load]\nbench = \"b\"\n", "service.ready_port", 3, "port"),
];

#[test]
fn errors_name_key_and_line() {
    for (text, key, line, word) in BAD {
        let e = parse(text).expect_err(text);
        assert_eq!(e.line, Some(*line), "line for {text:?}: {e}");
        if !key.is_empty() {
            assert_eq!(e.key, *key, "key for {text:?}: {e}");
        }
        assert!(e.message.contains(word), "message for {text:?}: {e}");
        let shown = e.to_string();
        assert!(shown.starts_with(&format!("line {line}")), "{shown}");
    }
}

#[test]
fn missing_load_has_no_line_but_a_key() {
    let e = parse("repeats = 2\n").unwrap_err();
    assert_eq!((e.key.as_str(), e.line), ("load", None));
    assert!(e.to_string().starts_with("key load: missing [load]"), "{e}");
}

#[test]
fn equal_definitions_hash_alike() {
    let a = parse("[load]\nbench = \"b\"\ntimeout = \"90s\"\nformat = \"gotest\"\n[metrics]\nb = 1\na = { y = 2, x = [1.5, \"s\"] }\n").unwrap();
    let b = parse("# a comment\nrepeats = 1\ninterleave = false\ntimeout = \"30m\"\n[metrics]\na = { x = [1.5, \"s\"], y = 2 }\nb = 1\n[load]\nformat = \"go\"\ntimeout = \"1m30s\"\nbench = \"b\"\n").unwrap();
    assert_eq!(a, b);
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 64);
    let c =
        parse("repeats = 2\n[load]\nbench = \"b\"\ntimeout = \"90s\"\nformat = \"go\"\n").unwrap();
    assert_ne!(a.hash(), c.hash());
    assert_eq!(parse(&a.canonical()).unwrap(), a);
    let full = parse(FULL).unwrap();
    assert_eq!(parse(&full.canonical()).unwrap(), full);
}

fn metric_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(toml::Value::Integer),
        any::<bool>().prop_map(toml::Value::Boolean),
        "[ -~\\n\\t\"\\\\é]{0,12}".prop_map(toml::Value::String),
        (-1e12f64..1e12).prop_map(toml::Value::Float),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(toml::Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..3)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

fn definition_text() -> impl Strategy<Value = String> {
    (
        1u32..=50,
        any::<bool>(),
        prop::option::of("[a-z0-9 -]{1,10}"),
        prop::option::of(("[ -~]{1,20}", prop::option::of("[a-z]{1,5}(/[a-z]{1,5})?"))),
        prop::option::of((any::<bool>(), 1u16..=65535, 1u32..100_000)),
        prop::option::of(prop::collection::btree_map(
            "[a-z]{1,5}",
            metric_value(),
            0..4,
        )),
        (1u32..86_400, "[A-Z][A-Z_]{0,5}", "[ -~]{0,10}"),
    )
        .prop_map(|(rep, il, tb, build, svc, metrics, (secs, ek, ev))| {
            let q = |s: &str| toml::Value::String(s.to_string()).to_string();
            let mut t = format!("repeats = {rep}\ninterleave = {il}\ntimeout = \"{secs}s\"\n");
            if let Some(tb) = tb.filter(|t| !t.trim().is_empty()) {
                t += &format!("testbed = {}\n", q(tb.trim()));
            }
            if let Some((cmd, wd)) = build.filter(|(c, _)| !c.trim().is_empty()) {
                t += &format!(
                    "[build]\ncommand = {}\nenv = {{ {ek} = {} }}\n",
                    q(&cmd),
                    q(&ev)
                );
                if let Some(w) = wd {
                    t += &format!("workdir = {}\n", q(&w));
                }
            }
            if let Some((by_url, port, ms)) = svc {
                t += "[service]\ncommand = \"run\"\n";
                t += &if by_url {
                    format!("ready_url = \"http://127.0.0.1:{port}/\"\n")
                } else {
                    format!("ready_port = {port}\n")
                };
                t += &format!("ready_timeout = \"{ms}ms\"\n");
            }
            t += "[load]\nbench = \"make bench\"\nformat = \"go\"\n";
            if let Some(m) = metrics {
                let mut root = toml::Table::new();
                root.insert(
                    "metrics".into(),
                    toml::Value::Table(m.into_iter().collect()),
                );
                // An empty [metrics] table renders as nothing; write its header anyway.
                let rendered = root.to_string();
                t += if rendered.trim().is_empty() {
                    "[metrics]\n"
                } else {
                    &rendered
                };
            }
            t
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: perfwatch_core::proptest_cases(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(text in "\\PC{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_near_misses(text in "(repeats|interleave|timeout|\\[load\\]|\\[service\\]|bench|scenario|ready_port|ready_url|env|=| |\"|\\{|\\}|\\n|[0-9]|s|m|-){0,40}") {
        let _ = parse(&text);
    }

    #[test]
    fn canonical_round_trips(text in definition_text()) {
        let d = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let c = d.canonical();
        let back = parse(&c).map_err(|e| TestCaseError::fail(format!("{e}\n{c}")))?;
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(back.hash(), d.hash());
        prop_assert_eq!(back.canonical(), c);
    }
}
