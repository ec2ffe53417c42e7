use super::*;

fn table(text: &str) -> Table {
    let doc: Table = text.parse().expect("valid TOML");
    match doc.get("metrics") {
        Some(Value::Table(t)) => t.clone(),
        _ => panic!("no [metrics] table"),
    }
}

const EXAMPLE: &str = r#"
[metrics]
url = "http://127.0.0.1:9090"
settle = "5s"
scrape_interval = "1s"
[metrics.headers]
X-Scope-OrgID = "team-a"
[[metrics.query]]
name = "p99_latency"
unit = "s"
direction = "lower"
query = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{window}}])))'
[[metrics.query]]
name = "cpu"
unit = "cores"
query = 'sum by (endpoint) (rate(process_cpu_seconds_total[{{window}}]))'
by = "endpoint"
empty = "no_data"
required = false
"#;

fn error_of(text: &str) -> ConfigError {
    parse_metrics_table(&table(text)).expect_err("should be rejected")
}

#[test]
fn reads_the_documented_example() {
    let (src, q) = parse_metrics_table(&table(EXAMPLE)).expect("valid");
    assert_eq!(src.base_url, "http://127.0.0.1:9090");
    assert_eq!(src.settle, Duration::from_secs(5));
    assert_eq!(src.scrape_interval, Duration::from_secs(1));
    assert_eq!(src.timeout, Duration::from_secs(10));
    assert_eq!(src.headers, vec![("X-Scope-OrgID".into(), "team-a".into())]);
    assert_eq!(src.auth, Auth::None);
    assert_eq!(q.len(), 2);
    assert_eq!(q[0].direction, Some(Direction::Lower));
    assert_eq!(
        (q[0].mode.clone(), q[0].on_empty, q[0].required),
        (Mode::Single, OnEmpty::NoData, true)
    );
    assert_eq!(q[1].mode, Mode::ByLabel("endpoint".into()));
    assert!(!q[1].required);
}

#[test]
fn defaults_settle_to_two_scrape_intervals() {
    let (src, _) = parse_metrics_table(&table(
        "[metrics]\nurl = \"https://prom.example\"\n[[metrics.query]]\nname = \"up\"\nunit = \"1\"\nquery = \"up\"\n",
    ))
    .expect("valid");
    assert_eq!(src.scrape_interval, Duration::from_secs(15));
    assert_eq!(src.settle, Duration::from_secs(30));
}

#[test]
fn errors_name_the_key() {
    let bad_query = EXAMPLE.replace(
        "rate(process_cpu_seconds_total[{{window}}])",
        "process_cpu_seconds_total",
    );
    let e = error_of(&bad_query);
    assert_eq!(e.key, "metrics.query[1].query");
    assert!(e.reason.contains("process_cpu_seconds_total"), "{e}");

    let e = error_of(&EXAMPLE.replace("settle = \"5s\"", "settle = \"5 parsecs\""));
    assert_eq!(e.key, "metrics.settle");
    let e = error_of(&EXAMPLE.replace("unit = \"cores\"", "unit = \"\""));
    assert_eq!(e.key, "metrics.query[1].unit");
    let long = "n".repeat(101);
    let e = error_of(&EXAMPLE.replace("name = \"cpu\"", &format!("name = \"{long}\"")));
    assert_eq!(e.key, "metrics.query[1].name");
    let e = error_of(&EXAMPLE.replace("scrape_interval = \"1s\"", "scrape_interval = \"0s\""));
    assert_eq!(e.key, "metrics.scrape_interval");
    let e = error_of(&EXAMPLE.replace("settle = \"5s\"", "settle = \"30d\""));
    assert_eq!(e.key, "metrics.settle");
    assert!(e.reason.contains("at most"), "{e}");
    let e = error_of(&EXAMPLE.replace("direction = \"lower\"", "direction = \"down\""));
    assert_eq!(e.key, "metrics.query[0].direction");
    let e = error_of(&EXAMPLE.replace("empty = \"no_data\"", "empty = \"nothing\""));
    assert_eq!(e.key, "metrics.query[1].empty");
    let e = error_of(&EXAMPLE.replace("by = \"endpoint\"", "by = \"end point\""));
    assert_eq!(e.key, "metrics.query[1].by");
    let e = error_of(&EXAMPLE.replace("by = \"endpoint\"", "by = \"job\""));
    assert_eq!(e.key, "metrics.query[1].by");
    assert!(e.reason.contains("does not keep job"), "{e}");
    let e = error_of(&EXAMPLE.replace("name = \"cpu\"", "name = \"p99_latency\""));
    assert_eq!(e.key, "metrics.query[1].name");
    assert!(e.reason.contains("twice"));
    let e = error_of(&EXAMPLE.replace("required = false", "required = \"no\""));
    assert_eq!(e.key, "metrics.query[1].required");
}

#[test]
fn unknown_keys_are_errors() {
    let e = error_of(&EXAMPLE.replace("settle = ", "setle = "));
    assert_eq!(e.key, "metrics.setle");
    let e = error_of(&EXAMPLE.replace("by = ", "group_by = "));
    assert_eq!(e.key, "metrics.query[1].group_by");
}

#[test]
fn url_must_be_http_without_credentials() {
    for (url, why) in [
        ("ftp://127.0.0.1", "scheme"),
        ("javascript:alert(1)", "scheme `javascript`"),
        ("not a url", "not a URL"),
        ("http://me:secret@127.0.0.1:9090", "credentials"),
        ("http://127.0.0.1:9090/?x=1", "query"),
    ] {
        let e = error_of(&EXAMPLE.replace("http://127.0.0.1:9090", url));
        assert_eq!(e.key, "metrics.url");
        assert!(e.reason.contains(why), "{url}: {e}");
        assert!(!e.to_string().contains("secret"));
    }
}

#[test]
fn queries_are_required() {
    let e = error_of("[metrics]\nurl = \"http://127.0.0.1:9090\"\n");
    assert_eq!(e.key, "metrics.query");
    let e = error_of("[metrics]\nurl = \"http://127.0.0.1:9090\"\nquery = []\n");
    assert_eq!(e.key, "metrics.query");
}

#[test]
fn secrets_come_from_the_environment_only() {
    let with = |auth: &str| EXAMPLE.replace("settle = \"5s\"", &format!("settle = \"5s\"\n{auth}"));
    let e = error_of(&with("bearer_token_env = \"PERFWATCH_TEST_UNSET_TOKEN\""));
    assert_eq!(e.key, "metrics.bearer_token_env");
    assert!(e.reason.contains("PERFWATCH_TEST_UNSET_TOKEN"));
    // PATH is set in every test environment; its value must not leak into Debug output.
    let (src, _) =
        parse_metrics_table(&table(&with("bearer_token_env = \"PATH\""))).expect("valid");
    assert!(matches!(src.auth, Auth::Bearer(_)));
    assert_eq!(format!("{:?}", src.auth), "Bearer(***)");
    let (src, _) = parse_metrics_table(&table(&with(
        "basic_user = \"perf\"\nbasic_password_env = \"PATH\"",
    )))
    .expect("valid");
    assert!(!format!("{:?}", src.auth).contains(&std::env::var("PATH").unwrap_or_default()));
    let e = error_of(&with("basic_user = \"perf\""));
    assert_eq!(e.key, "metrics.basic_password_env");
    let e = error_of(&EXAMPLE.replace("X-Scope-OrgID", "Authorization"));
    assert!(e.key.ends_with("Authorization"), "{e}");
}
