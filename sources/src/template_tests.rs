use super::*;
use chrono::TimeZone;

fn vars() -> WindowVars {
    let start = Utc.timestamp_opt(1_796_000_000, 0).single().expect("time");
    WindowVars {
        start,
        end: start + chrono::Duration::seconds(93),
        run_id: Some("run-7".into()),
        commit: Some("abc".into()),
    }
}

#[test]
fn expands_every_placeholder() {
    let t = r#"rate(x_total{run="{{run_id}}",sha='{{commit}}'}[{{window}}]) @ {{end}} and y @ {{ start }}"#;
    assert_eq!(
        expand(t, &vars()).expect("expands"),
        r#"rate(x_total{run="run-7",sha='abc'}[93s]) @ 1796000093 and y @ 1796000000"#
    );
}

#[test]
fn sub_second_windows_stay_exact() {
    let mut v = vars();
    v.end = v.start + chrono::Duration::milliseconds(93_500);
    assert_eq!(
        expand("[{{window}}] {{end}}", &v).expect("expands"),
        "[93500ms] 1796000093.500"
    );
}

#[test]
fn values_are_escaped_for_their_quotes() {
    let mut v = vars();
    v.run_id = Some(r#"a"b\c'd"#.into());
    assert_eq!(
        expand(r#"x{r="{{run_id}}"}"#, &v).expect("ok"),
        r#"x{r="a\"b\\c'd"}"#
    );
    assert_eq!(
        expand("x{r='{{run_id}}'}", &v).expect("ok"),
        r#"x{r='a"b\\c\'d'}"#
    );
    v.run_id = Some("a`b".into());
    assert!(matches!(
        expand("x{r=`{{run_id}}`}", &v),
        Err(TemplateError::Unescapable { .. })
    ));
}

#[test]
fn outside_values_must_be_quoted() {
    let e = expand("x{r={{run_id}}}", &vars()).unwrap_err();
    assert!(
        matches!(e, TemplateError::Unquoted { ref name, pos: 4 } if name == "run_id"),
        "{e:?}"
    );
    // An escaped quote does not end the string.
    assert!(expand(r#"x{a="q\"{{commit}}"}"#, &vars()).is_ok());
}

#[test]
fn unknown_missing_and_unclosed_placeholders() {
    let e = expand("rate(x[{{interval}}])", &vars()).unwrap_err();
    assert_eq!(
        e,
        TemplateError::UnknownPlaceholder {
            name: "interval".into(),
            pos: 7
        }
    );
    assert!(e.to_string().contains("{{interval}}"), "{e}");
    let mut v = vars();
    v.commit = None;
    assert_eq!(
        expand(r#"x{c="{{commit}}"}"#, &v).unwrap_err(),
        TemplateError::MissingValue {
            name: "commit".into()
        }
    );
    assert_eq!(
        expand("x[{{window]", &vars()).unwrap_err(),
        TemplateError::Unclosed { pos: 2 }
    );
}

#[test]
fn empty_or_negative_windows_are_refused() {
    let mut v = vars();
    v.end = v.start;
    assert!(matches!(expand("up", &v), Err(TemplateError::Window(_))));
}

#[test]
fn coverage_expansion_swaps_only_the_window() {
    let t = "rate(x_total[{{window}}]) @ {{end}}";
    let c = expand_for_coverage(t, &vars(), std::time::Duration::from_secs(4)).expect("ok");
    assert_eq!(c, "rate(x_total[4s]) @ 1796000093");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(512)))]
        #[test]
        fn expand_never_panics(t in "\\PC{0,80}", id in "\\PC{0,12}") {
            let mut v = vars();
            v.run_id = Some(id);
            let _ = expand(&t, &v);
        }

        #[test]
        fn expand_never_panics_on_template_like_text(
            t in "([a-z_{}()\\[\\]\"'`\\\\ =,]|\\{\\{(window|start|end|run_id|commit|x)\\}\\}){0,40}"
        ) {
            let _ = expand(&t, &vars());
        }
    }
}
