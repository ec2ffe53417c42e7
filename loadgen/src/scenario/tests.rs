use super::*;

const GOOD: &str = r#"
[run]
name = "groups-ops"
base_url = "http://127.0.0.1:8080"
duration = "60s"
warmup = "10s"
seed = 42
version_url = "/version"

[load]
model = "open"
rate = "200/s"
max_in_flight = 400

[[flow]]
name = "member_joins"
weight = 3
steps = [
  { op = "create_identity", method = "POST", path = "/identities", body = '{"name":"u{{vu}}-{{iter}}"}', expect_status = [201], extract = { id = "id", token = "token" } },
  { op = "create_group", method = "POST", path = "/groups", bearer = "{{token}}", extract = { gid = "id" } },
  { op = "add_member", method = "POST", path = "/groups/{{gid}}/members", bearer = "{{token}}", repeat = 5 },
]

[errors]
authentication = { status = [401, 403] }

[thresholds]
"create_group.latency.p99" = "< 250ms"
"*.error_rate{class=connection}" = "< 0.1%"
"#;

fn err(src: &str) -> ScenarioError {
    parse(src).unwrap_err()
}

#[test]
fn the_issue_example_parses() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.name, "groups-ops");
    assert_eq!(s.base_url, "http://127.0.0.1:8080");
    assert_eq!(s.duration, Duration::from_secs(60));
    assert_eq!(s.warmup, Duration::from_secs(10));
    assert_eq!(
        s.op_names(),
        ["create_identity", "create_group", "add_member"]
    );
    assert_eq!(s.flows[0].steps[2].repeat, 5);
    assert_eq!(s.thresholds.len(), 2);
    let Load::Open {
        profile,
        max_in_flight,
        ..
    } = &s.load
    else {
        panic!("open")
    };
    assert_eq!(*max_in_flight, 400);
    assert!((profile.cumulative(70.0) - 14_000.0).abs() < 1e-6);
    assert_eq!(s.hash.len(), 64);
}

#[test]
fn a_non_loopback_host_needs_allow_hosts() {
    let src = GOOD.replace("127.0.0.1:8080", "example.com");
    let e = err(&src);
    assert_eq!((e.line, e.key.as_str()), (4, "run.base_url"));
    assert!(e.message.contains("allow_hosts"), "{e}");
    let ok = src.replace("seed = 42", "seed = 42\nallow_hosts = [\"example.com\"]");
    assert!(parse(&ok).is_ok());
    assert!(parse(&GOOD.replace("127.0.0.1:8080", "[::1]:80")).is_ok());
    assert!(parse(&GOOD.replace("127.0.0.1:8080", "localhost:9")).is_ok());
}

#[test]
fn unknown_keys_name_the_key_and_line() {
    let e = err(&GOOD.replace("rate = \"200/s\"", "rat = \"200/s\""));
    assert_eq!(e.line, 12);
    assert_eq!(e.key, "load.rat");
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn bad_values_name_the_key_and_line() {
    let cases = [
        ("rate = \"200/s\"", "rate = \"200\"", 12, "load.rate"),
        ("duration = \"60s\"", "duration = \"60\"", 5, "run.duration"),
        (
            "max_in_flight = 400",
            "max_in_flight = 0",
            13,
            "load.max_in_flight",
        ),
        ("model = \"open\"", "model = \"opne\"", 11, "load.model"),
        (
            "\"< 250ms\"",
            "\"< 2%\"",
            28,
            "thresholds.\"create_group.latency.p99\"",
        ),
        ("repeat = 5", "repeat = 0", 21, "flow[0].steps[2].repeat"),
        (
            "path = \"/groups\"",
            "path = \"groups\"",
            20,
            "flow[0].steps[1].path",
        ),
    ];
    for (from, to, line, key) in cases {
        let e = err(&GOOD.replace(from, to));
        assert_eq!((e.line, e.key.as_str()), (line, key), "{from} -> {to}: {e}");
    }
}

#[test]
fn a_variable_no_step_sets_is_an_error() {
    let e = err(&GOOD.replace("/groups/{{gid}}/members", "/groups/{{gdi}}/members"));
    assert_eq!(e.key, "flow[0].steps[2].path");
    assert!(e.message.contains("`gdi`"), "{e}");
    // a variable used before the step that extracts it
    let e = err(&GOOD.replace(
        "path = \"/groups\", bearer",
        "path = \"/g/{{gid}}\", bearer",
    ));
    assert!(e.message.contains("`gid`"), "{e}");
}

#[test]
fn thresholds_must_name_a_known_op() {
    let e = err(&GOOD.replace("\"create_group.latency.p99\"", "\"create_grp.latency.p99\""));
    assert!(e.message.contains("create_grp"), "{e}");
    assert_eq!(e.line, 28);
}

#[test]
fn stages_and_closed_model() {
    let staged = GOOD
        .replace(
            "rate = \"200/s\"",
            "stages = [{to=\"50/s\", over=\"20s\"}, {hold=\"40s\"}]",
        )
        .replace("duration = \"60s\"\n", "");
    let s = parse(&staged).unwrap();
    assert_eq!(s.duration, Duration::from_secs(50));
    let e = err(&staged.replace("{hold=\"40s\"}", "{hold=\"40s\", to=\"1/s\"}"));
    assert_eq!(e.key, "load.stages[1]");
    let closed = GOOD.replace(
        "model = \"open\"\nrate = \"200/s\"\nmax_in_flight = 400",
        "model = \"closed\"\nvus = 10\npacing = \"100ms\"",
    );
    let s = parse(&closed).unwrap();
    assert!(matches!(
        s.load,
        Load::Closed {
            vus: 10,
            pacing: Some(_),
            ..
        }
    ));
    let e = err(&closed.replace("vus = 10", "vus = 10\nrate = \"5/s\""));
    assert_eq!(e.key, "load.rate");
}

#[test]
fn sut_takes_exactly_one_target() {
    let s = parse(&format!("{GOOD}\n[sut]\npid_file = \"/run/app.pid\"\n")).unwrap();
    assert_eq!(
        s.sut,
        Some(SutTarget::PidFile {
            path: "/run/app.pid".into(),
            children: true
        })
    );
    let e = err(&format!("{GOOD}\n[sut]\npid = 3\nprocess = \"x\"\n"));
    assert_eq!(e.key, "sut");
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn mutated_example_never_panics(cut in 0usize..1500, junk in "[\\[\\]{}=\"a-z0-9 ]{0,8}") {
        let at = cut.min(GOOD.len());
        let at = (0..=at).rev().find(|i| GOOD.is_char_boundary(*i)).unwrap_or(0);
        let src = format!("{}{}{}", &GOOD[..at], junk, &GOOD[at..]);
        let _ = parse(&src);
    }
}

#[test]
fn the_examples_parse() {
    for (name, text) in [
        ("groups.toml", include_str!("../../../examples/groups.toml")),
        (
            "groups-driver.toml",
            include_str!("../../../examples/groups-driver.toml"),
        ),
    ] {
        let s = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!s.flows.is_empty(), "{name}");
    }
}

#[test]
fn validity_limits_default_or_come_from_the_file() {
    assert_eq!(parse(GOOD).unwrap().validity, Gate::default());
    let s = parse(&format!(
        "{GOOD}\n[validity]\nmax_generator_cpu = \"90%\"\nmin_rate = \"99%\"\nmax_lag_p99 = \"20ms\"\n"
    ))
    .unwrap();
    assert_eq!(
        s.validity,
        Gate {
            max_generator_cpu: 90.0,
            min_rate_share: 0.99,
            max_lag_p99_ms: 20.0
        }
    );
    let e = err(&format!("{GOOD}\n[validity]\nmin_rate = \"0.95\"\n"));
    assert_eq!(e.key, "validity.min_rate");
    assert!(e.message.contains("percentage"), "{e}");
    let e = err(&format!("{GOOD}\n[validity]\nmax_lag = \"5ms\"\n"));
    assert!(e.message.contains("unknown field"), "{e}");
}
