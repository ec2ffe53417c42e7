use super::*;
use chrono::TimeZone;

fn base() -> CollectedValue {
    CollectedValue {
        query: "q".into(),
        label: None,
        value: None,
        query_text: "q".into(),
        evaluated_at: Utc.timestamp_opt(100, 0).single().unwrap_or_default(),
        window_s: 10.0,
        series_count: 0,
        coverage: 0.0,
        invalid: None,
        note: None,
    }
}

fn spec(mode: Mode, on_empty: OnEmpty, required: bool) -> QuerySpec {
    QuerySpec {
        name: "q".into(),
        unit: "s".into(),
        direction: None,
        template: "up".into(),
        mode,
        on_empty,
        required,
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Labels of a test series and the seconds it has no point at.
type TestSeries<'a> = (&'a [(&'a str, &'a str)], &'a [i64]);

/// A matrix with points at every second of `0..=10` except `missing`.
fn matrix(series: &[TestSeries<'_>]) -> QueryData {
    QueryData::Matrix(
        series
            .iter()
            .map(|(l, missing)| {
                let pts = (0..=10)
                    .filter(|t| !missing.contains(t))
                    .map(|t| (t as f64, 1.0))
                    .collect();
                (labels(l), pts)
            })
            .collect(),
    )
}

fn run(
    spec: &QuerySpec,
    at_end: QueryData,
    over: QueryData,
) -> Result<Vec<CollectedValue>, SourceError> {
    let points = points_by_key(&over, &spec.mode);
    judge(spec, base(), &at_end, &points, 11, Duration::from_secs(1))
}

#[test]
fn step_and_expected_points() {
    assert_eq!(
        coverage_step(Duration::from_secs(15), 93_000),
        (Duration::from_secs(15), 7)
    );
    assert_eq!(
        coverage_step(Duration::from_secs(1), 300_000),
        (Duration::from_secs(1), 301)
    );
    // A week at 1 s would pass Prometheus's 11,000-point limit: the step grows.
    let (step, n) = coverage_step(Duration::from_secs(1), 7 * 86_400_000);
    assert!(
        n <= MAX_POINTS && step > Duration::from_secs(1),
        "{step:?} {n}"
    );
}

#[test]
fn single_value_with_full_coverage_is_valid() {
    let s = spec(Mode::Single, OnEmpty::NoData, true);
    let v = run(
        &s,
        QueryData::Vector(vec![(labels(&[]), 2.5)]),
        matrix(&[(&[], &[])]),
    )
    .expect("ok");
    assert_eq!(
        (v[0].value, v[0].coverage, v[0].series_count, &v[0].invalid),
        (Some(2.5), 1.0, 1, &None)
    );
}

#[test]
fn low_coverage_is_invalid_but_keeps_the_value() {
    let s = spec(Mode::Single, OnEmpty::NoData, true);
    let v = run(&s, QueryData::Scalar(2.0), matrix(&[(&[], &[3, 4])])).expect("ok");
    assert_eq!(v[0].value, Some(2.0));
    assert!((v[0].coverage - 9.0 / 11.0).abs() < 1e-12);
    assert!(
        v[0].invalid.as_deref().unwrap_or("").contains("9 of 11"),
        "{:?}",
        v[0]
    );
}

#[test]
fn several_series_for_a_single_value_are_invalid() {
    let s = spec(Mode::Single, OnEmpty::NoData, true);
    let at_end = QueryData::Vector(vec![
        (labels(&[("a", "1")]), 1.0),
        (labels(&[("a", "2")]), 2.0),
    ]);
    let v = run(&s, at_end, matrix(&[(&[("a", "1")], &[])])).expect("ok");
    assert_eq!(v[0].series_count, 2);
    assert!(v[0].invalid.as_deref().unwrap_or("").contains("2 series"));
}

#[test]
fn by_label_gives_one_value_per_label_value() {
    let s = spec(Mode::ByLabel("endpoint".into()), OnEmpty::NoData, true);
    let at_end = QueryData::Vector(vec![
        (labels(&[("endpoint", "a")]), 1.0),
        (labels(&[("endpoint", "b")]), f64::NAN),
        (labels(&[("other", "x")]), 3.0),
    ]);
    let over = matrix(&[
        (&[("endpoint", "a")], &[]),
        (&[("endpoint", "b")], &[]),
        (&[("endpoint", "c")], &[5, 6, 7, 8, 9, 10]),
        (&[("other", "x")], &[]),
    ]);
    let v = run(&s, at_end, over).expect("ok");
    let got: Vec<_> = v
        .iter()
        .map(|v| {
            (
                v.label.as_ref().map(|l| l.1.as_str()),
                v.value,
                v.invalid.is_some(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(""), Some(3.0), true),
            (Some("a"), Some(1.0), false),
            (Some("b"), None, true),
            (Some("c"), None, true)
        ]
    );
    assert!(v[2].invalid.as_deref().unwrap_or("").contains("NaN"));
    assert!(v[3].invalid.as_deref().unwrap_or("").contains("stopped"));
    assert!(v[0]
        .invalid
        .as_deref()
        .unwrap_or("")
        .contains("without the label"));
}

#[test]
fn empty_results_follow_on_empty() {
    let empty = || QueryData::Vector(vec![]);
    let none = || QueryData::Matrix(vec![]);
    let v = run(&spec(Mode::Single, OnEmpty::Zero, true), empty(), none()).expect("ok");
    assert_eq!((v[0].value, &v[0].invalid), (Some(0.0), &None));
    assert!(v[0].note.is_some());
    let v = run(
        &spec(Mode::ByLabel("e".into()), OnEmpty::Zero, true),
        empty(),
        none(),
    )
    .expect("ok");
    assert_eq!((v[0].value, &v[0].invalid), (None, &None));
    let v = run(&spec(Mode::Single, OnEmpty::NoData, true), empty(), none()).expect("ok");
    assert!(v[0].invalid.is_some());
    let v = run(&spec(Mode::Single, OnEmpty::NoData, false), empty(), none()).expect("ok");
    assert_eq!((v[0].value, &v[0].invalid), (None, &None));
    let e = run(&spec(Mode::Single, OnEmpty::Error, true), empty(), none()).unwrap_err();
    assert_eq!(e, SourceError::Empty { query: "q".into() });
}

#[test]
fn results_of_the_wrong_shape_are_invalid() {
    let s = spec(Mode::ByLabel("e".into()), OnEmpty::NoData, true);
    let v = run(&s, QueryData::Scalar(1.0), none_matrix()).expect("ok");
    assert!(v[0].invalid.as_deref().unwrap_or("").contains("scalar"));
    let s = spec(Mode::Single, OnEmpty::NoData, true);
    let v = run(&s, QueryData::String("x".into()), none_matrix()).expect("ok");
    assert!(v[0].invalid.as_deref().unwrap_or("").contains("string"));
}

fn none_matrix() -> QueryData {
    QueryData::Matrix(vec![])
}

#[test]
fn not_before_adds_the_settle_delay() {
    let src = PromSource::new("http://127.0.0.1:1");
    let end = Utc.timestamp_opt(1_000, 0).single().unwrap_or_default();
    assert_eq!(not_before(&src, end), end + chrono::Duration::seconds(30));
    let huge = PromSource {
        settle: Duration::MAX,
        ..src
    };
    assert_eq!(not_before(&huge, end), DateTime::<Utc>::MAX_UTC);
}
