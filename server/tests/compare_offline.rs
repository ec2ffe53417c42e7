//! `perfwatch compare OLD NEW` offline, as a process, against benchstat's own published
//! outputs (tests/fixtures/benchstat, from golang/perf): medians, p-values and verdicts
//! agree with `benchstat old.txt new.txt` and `benchstat -ignore note crc-old.txt
//! crc-new.txt`; a directory side pools its files; `--fail-on regression`, `--csv` and
//! `--markdown` work; a mix of a path and a non-path is refused with a message.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/benchstat")
        .join(name)
}

fn perfwatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfwatch"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("perfwatch runs")
}

/// The comparison as JSON, with benchstat's settings: no FDR correction, any
/// significant change counts.
fn json(old: &Path, new: &Path) -> Value {
    let out = perfwatch(&[
        "compare",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--json",
        "--fdr-q",
        "1",
        "--min-change",
        "0",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Our row for a benchstat name like `CRC32/poly=IEEE/size=15/align=0-8` (measure time).
fn row<'a>(view: &'a Value, name: &str) -> &'a Value {
    let name = name.rsplit_once('-').map_or(name, |(n, _)| n);
    let mut parts = name.split('/');
    let bench = format!("Benchmark{}", parts.next().unwrap());
    let params: Vec<&str> = parts.collect();
    view["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| {
            let s = &r["series"];
            s["benchmark"] == bench.as_str()
                && s["measure"] == "time"
                && params
                    .iter()
                    .all(|p| s["params"].as_str().unwrap().split(',').any(|q| q == *p))
        })
        .unwrap_or_else(|| panic!("no row for {name}"))
}

/// benchstat's `46.55n` / `15.014µ` (seconds with an SI prefix) in ns.
fn ns(cell: &str) -> f64 {
    let (num, scale) = match cell.chars().last().unwrap() {
        'n' => (&cell[..cell.len() - 1], 1.0),
        'µ' => (&cell[..cell.len() - 'µ'.len_utf8()], 1e3),
        'm' => (&cell[..cell.len() - 1], 1e6),
        _ => (cell, 1e9),
    };
    num.parse::<f64>().unwrap() * scale
}

fn close(ours: f64, theirs: f64, rel: f64) -> bool {
    (ours - theirs).abs() <= rel * theirs.abs()
}

#[test]
fn medians_p_values_and_verdicts_match_benchstat_on_the_crc_example() {
    let view = json(&fixture("crc-old.txt"), &fixture("crc-new.txt"));
    let golden = std::fs::read_to_string(fixture("crcIgnore.stdout")).unwrap();
    let mut checked = 0;
    // The first table (sec/op): rows between the column headers and its geomean.
    for line in golden
        .lines()
        .skip_while(|l| !l.contains("vs base"))
        .skip(1)
    {
        if line.starts_with("geomean") {
            break;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let (name, old, new, delta) = (t[0], ns(t[1]), ns(t[4]), t[7]);
        let p: f64 = line
            .split("(p=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap();
        let r = row(&view, name);
        let (ob, oh) = (
            r["base"]["median"].as_f64().unwrap(),
            r["head"]["median"].as_f64().unwrap(),
        );
        // benchstat prints 4 significant digits.
        assert!(close(ob, old, 5e-4), "{name}: base median {ob} vs {old}");
        assert!(close(oh, new, 5e-4), "{name}: head median {oh} vs {new}");
        let ours_p = r["p_value"].as_f64().unwrap();
        // benchstat's p is exact under ties; ours is the tie-corrected normal
        // approximation with continuity correction: within 0.012 on this data, and the
        // same side of 0.05 everywhere (the verdicts below).
        assert!((ours_p - p).abs() <= 0.012, "{name}: p {ours_p} vs {p}");
        let verdict = r["verdict"].as_str().unwrap();
        let want = match delta {
            "~" => "no_change",
            d if d.starts_with('-') => "improvement",
            _ => "regression",
        };
        assert_eq!(verdict, want, "{name}: p {ours_p} (benchstat {p})");
        if delta != "~" {
            // benchstat's delta is the ratio of the medians.
            let d: f64 = delta.trim_end_matches('%').parse().unwrap();
            assert!(((oh / ob - 1.0) * 100.0 - d).abs() < 0.1, "{name}: delta");
        }
        checked += 1;
    }
    assert_eq!(checked, 36);
}

#[test]
fn old_new_example_matches_benchstat_csv_and_a_directory_side_pools_its_files() {
    // benchstat -format csv old.txt new.txt:
    //   Encode/format=json-48, 1.718e-06, 1.4225e-06, -17.20%, p=0.000
    //   Encode/format=gob-48,  3.0655e-06, 3.07e-06,  ~,       p=0.446
    //   geomean -8.94%
    let golden = std::fs::read_to_string(fixture("csvOldNew.stdout")).unwrap();
    assert!(golden.contains("Encode/format=gob-48,3.0655e-06"));
    let view = json(&fixture("old.txt"), &fixture("new.txt"));
    let json_row = row(&view, "Encode/format=json-48");
    assert_eq!(json_row["base"]["median"], 1718.0);
    assert_eq!(json_row["head"]["median"], 1422.5);
    assert_eq!(json_row["verdict"], "improvement");
    assert!(json_row["p_value"].as_f64().unwrap() < 0.0005);
    let gob = row(&view, "Encode/format=gob-48");
    assert_eq!(gob["base"]["median"], 3065.5);
    assert_eq!(gob["head"]["median"], 3070.0);
    assert_eq!(gob["verdict"], "no_change");
    assert!((gob["p_value"].as_f64().unwrap() - 0.446).abs() < 0.006);
    let geo = view["summary"]["geomean"]["change_pct"].as_f64().unwrap();
    assert!((geo - -8.94).abs() < 0.005, "geomean {geo}");

    // The same old runs split over two files of a directory give the same medians.
    let dir = std::env::temp_dir().join(format!("pw-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = std::fs::read_to_string(fixture("old.txt")).unwrap();
    let (mut head, mut tail) = (Vec::new(), Vec::new());
    for (i, l) in text
        .lines()
        .filter(|l| l.starts_with("Benchmark"))
        .enumerate()
    {
        if i % 2 == 0 {
            head.push(l);
        } else {
            tail.push(l);
        }
    }
    std::fs::write(dir.join("run1.txt"), head.join("\n")).unwrap();
    std::fs::write(dir.join("run2.txt"), tail.join("\n")).unwrap();
    let pooled = json(&dir, &fixture("new.txt"));
    let _ = std::fs::remove_dir_all(&dir);
    // Without the `pkg:` header line the params differ; compare by benchmark medians.
    let medians = |v: &Value| {
        let mut m: Vec<f64> = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["base"]["median"].as_f64().unwrap_or(f64::NAN))
            .filter(|x| x.is_finite())
            .collect();
        m.sort_by(f64::total_cmp);
        m
    };
    assert_eq!(medians(&pooled), vec![1718.0, 3065.5]);
}

#[test]
fn fail_on_regression_exports_and_refusals() {
    let (old, new) = (fixture("old.txt"), fixture("new.txt"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    // new → old is 20 % slower for json encoding: a regression fails the gate.
    let out = perfwatch(&["compare", new, old, "--fail-on", "regression"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("regression") && table.contains("geomean"),
        "{table}"
    );
    assert!(table.contains("1.423 µs/op"), "{table}");
    // old → new improves: the gate passes.
    let out = perfwatch(&["compare", old, new, "--fail-on", "regression"]);
    assert_eq!(out.status.code(), Some(0));

    let csv = perfwatch(&["compare", old, new, "--csv"]);
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(
        csv.starts_with("series_id,benchmark,params,measure"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let md = perfwatch(&["compare", old, new, "--markdown"]);
    let md = String::from_utf8(md.stdout).unwrap();
    // The digest's Markdown; offline there is no compare page to link to.
    assert!(
        md.contains("0 regressions, 1 improvements") && !md.contains("Compare:"),
        "{md}"
    );

    let out = perfwatch(&["compare", old, "no-such-file.txt"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("'no-such-file.txt' is not"), "{err}");
    let out = perfwatch(&["compare", "main", "my-pr"]);
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("--project is required"));
    // A file that is no harness output names itself.
    let readme = fixture("README.md");
    let out = perfwatch(&["compare", readme.to_str().unwrap(), new]);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && err.contains("README.md"), "{err}");
}

/// `--summary`: the comparison's digest as terminal text (the renderer webhooks and PR
/// comments share); a pipe is no terminal, so no colour codes.
#[test]
fn summary_prints_the_digest_without_colour_into_a_pipe() {
    let (old, new) = (fixture("old.txt"), fixture("new.txt"));
    let (old, new) = (old.to_str().unwrap(), new.to_str().unwrap());
    let out = perfwatch(&["compare", new, old, "--summary", "--fail-on", "regression"]);
    assert_eq!(out.status.code(), Some(1), "the gate still decides");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let first = text.lines().next().unwrap();
    assert!(first.contains(" vs "), "title `head vs base`: {text}");
    assert!(
        text.contains("2 series: 1 regressions, 0 improvements, 1 unchanged"),
        "{text}"
    );
    // The regression first, with its interval and sample counts.
    let series = text.split("Series:\n").nth(1).expect("a Series section");
    let top = series.lines().next().unwrap();
    assert!(
        top.contains("BenchmarkEncode") && top.contains(": regression +") && top.contains("n = "),
        "{text}"
    );
    // Offline there is no permalink.
    assert!(!text.contains("Compare: "), "{text}");
    let err = perfwatch(&["compare", new, old, "--summary", "--json"]);
    assert!(!err.status.success());
}
