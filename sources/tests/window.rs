//! Window collection against a real Prometheus over backfilled data with known rates.
//! One Prometheus serves every case (started once, killed by its guard).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use perfwatch_sources::testing::*;
use perfwatch_sources::{
    collect_window, to_results, Mode, OnEmpty, PromClient, PromSource, QuerySpec, SourceError,
    WindowVars,
};

fn at(offset: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(T0 + offset, 0)
        .single()
        .expect("valid time")
}

fn window() -> WindowVars {
    WindowVars {
        start: at(100),
        end: at(400),
        run_id: Some("run-1".into()),
        commit: Some("abc123".into()),
    }
}

fn source(url: &str) -> PromSource {
    PromSource {
        settle: Duration::from_secs(5),
        scrape_interval: Duration::from_secs(1),
        ..PromSource::new(url)
    }
}

fn spec(name: &str, template: &str) -> QuerySpec {
    QuerySpec {
        name: name.into(),
        unit: "1/s".into(),
        direction: None,
        template: template.into(),
        mode: Mode::Single,
        on_empty: OnEmpty::NoData,
        required: true,
    }
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= expected.abs() * 0.01
}

#[tokio::test]
async fn against_real_prometheus() {
    if !available() {
        return;
    }
    let prom = start().await;
    let src = source(&prom.url);
    window_values(&src).await;
    empty_results(&src).await;
    errors(&src).await;
    drop(prom);
}

async fn window_values(src: &PromSource) {
    let p99 = QuerySpec {
        unit: "s".into(),
        ..spec(
            "p99_latency",
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{window}}])))",
        )
    };
    let rate_a = spec(
        "rate_a",
        r#"sum(rate(http_requests_total{endpoint="a"}[{{window}}]))"#,
    );
    let by_endpoint = QuerySpec {
        mode: Mode::ByLabel("endpoint".into()),
        ..spec(
            "requests",
            "sum by (endpoint) (rate(http_requests_total[{{window}}]))",
        )
    };
    let nan = spec(
        "nan",
        r#"sum(rate(http_requests_total{endpoint="a"}[{{window}}])) / 0 * 0"#,
    );
    let specs = [p99, rate_a, by_endpoint, nan];
    let c = collect_window(src, &specs, &window())
        .await
        .expect("collected");
    assert_eq!(c.values.len(), 5, "{c:#?}");

    let v = &c.values[0];
    assert!(close(v.value.unwrap_or(f64::NAN), EXPECTED_P99), "{v:?}");
    assert_eq!(v.invalid, None);
    assert!(v.coverage >= 0.95 && v.series_count == 1, "{v:?}");
    assert!(v.query_text.contains("[300s]"), "{}", v.query_text);
    assert_eq!(v.window_s, 300.0);
    assert_eq!(v.evaluated_at, at(400));

    assert!(
        close(c.values[1].value.unwrap_or(f64::NAN), RATE_A),
        "{:?}",
        c.values[1]
    );

    let a = &c.values[2];
    assert_eq!(a.label, Some(("endpoint".into(), "a".into())));
    assert!(
        close(a.value.unwrap_or(f64::NAN), RATE_A) && a.invalid.is_none(),
        "{a:?}"
    );
    let b = &c.values[3];
    assert_eq!(b.label, Some(("endpoint".into(), "b".into())));
    assert!(close(b.value.unwrap_or(f64::NAN), RATE_B), "{b:?}");
    // The gap covers 100 of the 300 s: coverage far below 0.95, so the value is invalid.
    assert!(b.coverage < 0.8 && b.coverage > 0.5, "{b:?}");
    assert!(
        b.invalid.as_deref().unwrap_or("").contains("coverage"),
        "{b:?}"
    );

    let n = &c.values[4];
    assert_eq!(n.value, None);
    assert!(n.invalid.as_deref().unwrap_or("").contains("NaN"), "{n:?}");

    let (results, meta) = to_results(&c, &specs);
    let names: Vec<_> = results
        .iter()
        .map(|r| {
            (
                r.benchmark.as_str(),
                r.params.get("endpoint").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("p99_latency", None),
            ("rate_a", None),
            ("requests", Some("a"))
        ]
    );
    assert_eq!(results[0].unit, "s");
    let invalid = meta["invalid_metrics"].as_array().expect("array");
    assert_eq!(invalid.len(), 2, "{invalid:?}");
    assert_eq!(meta["metrics"].as_array().map(Vec::len), Some(5));
    assert_eq!(meta["metrics_window"]["seconds"], 300.0);
}

async fn empty_results(src: &PromSource) {
    let nothing = "sum(rate(nothing_here_total[{{window}}]))";
    let with = |on_empty, required| QuerySpec {
        on_empty,
        required,
        ..spec("nothing", nothing)
    };
    let vars = window();
    let zero = collect_window(src, &[with(OnEmpty::Zero, true)], &vars)
        .await
        .expect("zero");
    assert_eq!(zero.values[0].value, Some(0.0));
    assert_eq!(zero.values[0].invalid, None);
    assert!(zero.values[0].note.is_some());

    let required = collect_window(src, &[with(OnEmpty::NoData, true)], &vars)
        .await
        .expect("no data");
    assert_eq!(required.values[0].value, None);
    assert!(required.values[0]
        .invalid
        .as_deref()
        .unwrap_or("")
        .contains("no data"));

    let optional = collect_window(src, &[with(OnEmpty::NoData, false)], &vars)
        .await
        .expect("optional");
    assert_eq!(
        (optional.values[0].value, &optional.values[0].invalid),
        (None, &None)
    );

    let err = collect_window(src, &[with(OnEmpty::Error, true)], &vars)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Empty { .. }) && !err.is_retryable(),
        "{err:?}"
    );
}

async fn errors(src: &PromSource) {
    // A template that was never checked reaches Prometheus, which rejects it: 4xx.
    let bad = spec("bad", "sum(rate(http_requests_total[{{window}}])");
    let err = collect_window(src, &[bad], &window()).await.unwrap_err();
    assert!(
        matches!(err, SourceError::Query(_)) && !err.is_retryable(),
        "{err:?}"
    );
    assert!(err.to_string().contains("bad_data"), "{err}");

    // Nothing listens on a port we just released: retryable.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let down = source(&format!("http://127.0.0.1:{port}"));
    let err = collect_window(&down, &[spec("x", "up")], &window())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Unreachable(_)) && err.is_retryable(),
        "{err:?}"
    );

    // A window that ended just now is not settled yet.
    let now = Utc::now();
    let fresh = WindowVars {
        start: now - chrono::Duration::seconds(60),
        end: now,
        run_id: None,
        commit: None,
    };
    let err = collect_window(src, &[spec("x", "up")], &fresh)
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::NotSettled { .. }) && err.is_retryable());

    // A reversed window is refused before any request.
    let reversed = WindowVars {
        start: at(400),
        end: at(100),
        ..window()
    };
    let err = collect_window(src, &[spec("x", "up")], &reversed)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Window(_)) && !err.is_retryable(),
        "{err:?}"
    );

    // The client speaks to the same API directly too.
    let client = PromClient::new(src).expect("client");
    let data = client.instant("1 + 1", at(0)).await.expect("scalar");
    assert_eq!(data, perfwatch_sources::prometheus::QueryData::Scalar(2.0));
}
