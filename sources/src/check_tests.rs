use super::*;

fn rejected(t: &str) -> TemplateError {
    check_template(t).expect_err(t)
}

#[test]
fn accepts_usual_queries() {
    for t in [
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[{{window}}])))",
        "histogram_quantile(0.5, sum by (le, endpoint) (rate(x_bucket{job=\"api\"}[{{window}}])))",
        "histogram_quantile(0.9, sum without (instance) (increase(x_bucket[5m])))",
        "sum by (endpoint) (rate(process_cpu_seconds_total[{{window}}]))",
        "sum(increase(http_requests_total{code=~\"5..\"}[{{window}}])) / sum(increase(http_requests_total[{{window}}]))",
        "max_over_time(process_resident_memory_bytes[{{window}}])",
        "avg(rate(x_total[1m:15s]))",
        "up{run=\"{{run_id}}\", sha=\"{{commit}}\"}",
        "sum(rate(x_sum[{{window}}])) / sum(rate(x_count[{{window}}])) # mean latency",
    ] {
        assert_eq!(check_template(t), Ok(()), "{t}");
    }
}

#[test]
fn syntax_errors_carry_a_position_when_brackets_are_off() {
    match rejected("sum(rate(x_total[{{window}}])") {
        TemplateError::Syntax {
            pos: Some(3),
            message,
        } => assert!(message.contains("not closed")),
        e => panic!("{e:?}"),
    }
    match rejected("sum(rate(x_total[{{window}})))") {
        TemplateError::Syntax { pos: Some(p), .. } => assert_eq!(p, 27),
        e => panic!("{e:?}"),
    }
    match rejected("up{job=\"api}") {
        TemplateError::Syntax {
            pos: Some(7),
            message,
        } => assert!(message.contains("string")),
        e => panic!("{e:?}"),
    }
    // Other mistakes get the parser's own message.
    assert!(matches!(
        rejected("sum(up) +"),
        TemplateError::Syntax { pos: None, .. }
    ));
    assert!(matches!(
        rejected("rate(x_total)"),
        TemplateError::Syntax { .. }
    ));
}

#[test]
fn unknown_placeholders_are_errors() {
    assert!(matches!(
        rejected("rate(x_total[$__rate_interval])"),
        TemplateError::Syntax { .. }
    ));
    assert!(matches!(
        rejected("rate(x_total[{{range}}])"),
        TemplateError::UnknownPlaceholder { .. }
    ));
}

#[test]
fn counters_need_rate_or_increase() {
    for (t, metric) in [
        ("http_requests_total", "http_requests_total"),
        ("sum(x_count)", "x_count"),
        ("max_over_time(x_sum[{{window}}])", "x_sum"),
        ("sum(rate(a_total[{{window}}])) / sum(b_bucket)", "b_bucket"),
        ("delta(x_total[{{window}}])", "x_total"),
    ] {
        match rejected(t) {
            TemplateError::CounterWithoutRate { metric: m, .. } => assert_eq!(m, metric, "{t}"),
            e => panic!("{t}: {e:?}"),
        }
    }
}

#[test]
fn histogram_quantile_must_keep_le() {
    for (t, why) in [
        (
            "histogram_quantile(0.99, rate(x_bucket[{{window}}]))",
            "aggregate",
        ),
        (
            "histogram_quantile(0.99, sum(rate(x_bucket[{{window}}])))",
            "drops",
        ),
        (
            "histogram_quantile(0.99, sum by (job) (rate(x_bucket[{{window}}])))",
            "include le",
        ),
        (
            "histogram_quantile(0.99, sum without (le) (rate(x_bucket[{{window}}])))",
            "removes le",
        ),
    ] {
        match rejected(t) {
            TemplateError::Quantile(m) => assert!(m.contains(why), "{t}: {m}"),
            e => panic!("{t}: {e:?}"),
        }
    }
}

#[test]
fn by_label_queries_must_keep_the_label() {
    let ok = [
        "sum by (endpoint) (rate(x_total[{{window}}]))",
        "sum without (instance) (rate(x_total[{{window}}]))",
        "rate(x_total[{{window}}])",
    ];
    for t in ok {
        assert_eq!(check_keeps_label(t, "endpoint"), Ok(()), "{t}");
    }
    for t in [
        "sum(rate(x_total[{{window}}]))",
        "sum by (job) (rate(x_total[{{window}}]))",
        "sum without (endpoint) (rate(x_total[{{window}}]))",
    ] {
        assert!(
            matches!(
                check_keeps_label(t, "endpoint"),
                Err(TemplateError::DropsLabel { .. })
            ),
            "{t}"
        );
    }
}

#[test]
fn masking_keeps_positions() {
    assert_eq!(mask_placeholders("a[{{window}}]b"), "a[xxxxxxxxxx]b");
    assert_eq!(mask_placeholders("{{x"), "{{x");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(512)))]
        #[test]
        fn check_never_panics(t in "\\PC{0,80}") {
            let _ = check_template(&t);
        }

        #[test]
        fn check_never_panics_on_promql_like_text(
            t in "(sum|rate|by|le|histogram_quantile|x_total|x_bucket|up|[(){}\\[\\],\"=~0-9.+*/ ]|\\{\\{window\\}\\}){0,30}"
        ) {
            let _ = check_template(&t);
        }
    }
}

#[test]
fn deep_or_long_text_is_refused_without_overflowing() {
    for n in [1000usize, 3000, 8000] {
        for t in [
            format!("1{}", "+1".repeat(n)),
            format!("{}1", "-".repeat(n)),
            format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        ] {
            let r = check_template(&t);
            if t.len() > MAX_TEMPLATE_BYTES {
                assert!(matches!(r, Err(TemplateError::TooLong { .. })), "{n}");
            }
        }
    }
    // The deepest nesting that fits the length limit still parses on the check thread.
    let deepest = format!("{}1", "-".repeat(MAX_TEMPLATE_BYTES - 1));
    assert_eq!(check_template(&deepest), Ok(()));
    let parens = MAX_TEMPLATE_BYTES / 2 - 1;
    let deepest = format!("{}1{}", "(".repeat(parens), ")".repeat(parens));
    assert_eq!(check_template(&deepest), Ok(()));
}
