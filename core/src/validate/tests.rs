//! Field errors named by path, canonical units, and the limits of a run.

use super::*;

fn run_json(results: &str) -> String {
    format!(r#"{{"project":"p","commit":{{"sha":"abcdef12"}},"results":{results}}}"#)
}

fn errs(body: &str) -> Vec<FieldError> {
    match parse_run_json(body.as_bytes()).and_then(validate_run) {
        Ok(_) => panic!("expected an error for {body}"),
        Err(e) => e.errors,
    }
}

#[test]
fn accepts_a_good_run_and_normalises_units() {
    let body = run_json(r#"[{"benchmark":"B","measure":"time","unit":"ms","samples":[1.5,2.5]}]"#);
    let run = validate_run(parse_run_json(body.as_bytes()).unwrap()).unwrap();
    assert_eq!(run.testbed, "default");
    let r = &run.results[0];
    assert_eq!(r.unit, "ns");
    assert_eq!(r.display_unit, "ms");
    assert_eq!(r.samples, vec![1.5e6, 2.5e6]);
    assert_eq!(r.summary.median, 2e6);
}

#[test]
fn names_the_path_of_a_wrong_type() {
    let e = errs(&run_json(
        r#"[{"benchmark":"B","measure":"t","unit":"ns","samples":["x"]}]"#,
    ));
    assert_eq!(e[0].path, "results[0].samples[0]");
}

#[test]
fn names_a_missing_field() {
    let e = errs(&run_json(
        r#"[{"benchmark":"B","unit":"ns","samples":[1]}]"#,
    ));
    assert_eq!(e[0].path, "results[0]");
    assert!(e[0].reason.contains("measure"), "{:?}", e);
}

#[test]
fn rejects_empty_samples_negative_durations_and_duplicates() {
    let e = errs(&run_json(
        r#"[{"benchmark":"B","measure":"t","unit":"ns","samples":[]},
           {"benchmark":"C","measure":"t","unit":"ns","samples":[-1]},
           {"benchmark":"D","measure":"t","unit":"ns","samples":[1]},
           {"benchmark":"D","measure":"t","unit":"ns","samples":[2]}]"#,
    ));
    let paths: Vec<_> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["results[0].samples", "results[1].samples[0]", "results[3]"]
    );
}

#[test]
fn rejects_negative_instruction_counts() {
    let e = errs(&run_json(
        r#"[{"benchmark":"B","measure":"instructions","unit":"instructions","samples":[12,-3]}]"#,
    ));
    assert_eq!(e[0].path, "results[0].samples[1]");
    assert!(e[0].reason.contains("negative"), "{e:?}");
}

#[test]
fn rejects_malformed_json_and_non_utf8() {
    assert!(errs("{\"project\":")
        .first()
        .unwrap()
        .reason
        .contains("malformed JSON"));
    let e = parse_run_json(b"{\"project\":\"\xff\"}").unwrap_err();
    assert!(e.errors[0].reason.contains("UTF-8"));
    assert!(errs(&run_json(
        r#"[{"benchmark":"B","measure":"t","unit":"ns","samples":[NaN]}]"#
    ))[0]
        .reason
        .contains("malformed"));
}

#[test]
fn rejects_overlong_names() {
    let long = "x".repeat(MAX_BENCHMARK + 1);
    let e = errs(&run_json(&format!(
        r#"[{{"benchmark":"{long}","measure":"t","unit":"ns","samples":[1]}}]"#
    )));
    assert_eq!(e[0].path, "results[0].benchmark");
}
