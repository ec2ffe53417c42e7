//! `perfwatch detect FILE` end to end: the real binary on a CSV with an x-axis column,
//! empty cells, a step and a slow creep.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_perfwatch");

/// 150 rows: `time` (unix seconds), `p50` stepping up 20 % at row 75 with rows 10 and
/// 11 empty, `rss` flat at 200 then creeping by 1 per row over rows 50–110.
fn csv() -> String {
    let noise = [0.3, -0.2, 0.1, -0.4, 0.25, 0.0, -0.1];
    let mut s = String::from("time,p50,rss\n");
    for i in 0..150usize {
        let t = 1_700_000_000 + 3600 * i;
        let p50 = if i >= 75 { 120.0 } else { 100.0 } + noise[i % 7];
        let p50 = if i == 10 || i == 11 {
            String::new()
        } else {
            format!("{p50:.2}")
        };
        let rss = 200.0 + (i.clamp(50, 110) - 50) as f64 + noise[(i + 3) % 7];
        s.push_str(&format!("{t},{p50},{rss:.2}\n"));
    }
    s
}

fn run(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn detect_reads_gaps_and_the_time_axis() {
    let dir = std::env::temp_dir().join(format!("pw_cli_detect_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("series.csv");
    std::fs::write(&file, csv()).unwrap();
    let path = file.to_str().unwrap();

    let (ok, stdout, stderr) = run(&["detect", path, "--json"]);
    assert!(ok, "{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    // `time` is the x axis, not a series.
    let names: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(names, vec!["p50", "rss"]);
    assert_eq!(json["p50"]["gaps"], serde_json::json!([10, 11]));
    assert_eq!(json["p50"]["change_points"][0]["index"], 75);
    assert_eq!(json["rss"]["change_points"], serde_json::json!([]));
    let drift = &json["rss"]["drifts"][0];
    assert!(
        drift["start"].as_u64().unwrap().abs_diff(50) <= 3,
        "{drift}"
    );
    assert!(drift["end"].as_u64().unwrap().abs_diff(110) <= 3, "{drift}");
    assert!(
        (drift["slope"].as_f64().unwrap() - 1.0).abs() < 0.05,
        "{drift}"
    );

    let (ok, text, stderr) = run(&["detect", path]);
    assert!(ok, "{stderr}");
    assert!(
        text.contains("p50 (148 points, 2 missing at rows 10, 11)"),
        "{text}"
    );
    // The change is labelled with its row's time.
    assert!(
        text.contains(&format!("{}", 1_700_000_000 + 3600 * 75)),
        "{text}"
    );
    assert!(text.contains("drift from row"), "{text}");

    // A bad cell is refused with its line and column, nothing printed as a result.
    std::fs::write(&file, "time,p50\n1,10\n2,ten\n").unwrap();
    let (ok, stdout, stderr) = run(&["detect", path]);
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("CSV line 3, column 'p50': 'ten' is not a number"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
