//! Property tests of series files: any text is read or refused without panicking, and a
//! table written as CSV (gaps as empty cells) reads back as it was.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::table::{parse_csv, parse_json};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: perfwatch_core::proptest_cases(256), ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_read_or_refused(text in "[a-z0-9,.\"# \\n\\r-]{0,200}") {
        let _ = parse_csv(&text);
        let _ = parse_json(&text);
    }

    #[test]
    fn written_csv_reads_back_with_its_gaps(
        rows in prop::collection::vec(
            prop::collection::vec(prop::option::weighted(0.8, -1e6f64..1e6), 2),
            1..40,
        ),
        x_name in prop::sample::select(vec!["index", "time", "Date", "commit"]),
    ) {
        let mut csv = format!("{x_name},a,b\n");
        for (i, r) in rows.iter().enumerate() {
            let cell = |v: &Option<f64>| v.map_or(String::new(), |f| format!("{f:?}"));
            csv.push_str(&format!("{},{},{}\n", 1000 + i, cell(&r[0]), cell(&r[1])));
        }
        let t = parse_csv(&csv).unwrap();
        prop_assert_eq!(t.x_name.as_deref(), Some(x_name));
        prop_assert_eq!(t.labels.len(), rows.len());
        prop_assert_eq!(t.columns.len(), 2);
        for (c, col) in t.columns.iter().enumerate() {
            let want: Vec<Option<f64>> = rows.iter().map(|r| r[c]).collect();
            prop_assert_eq!(&col.values, &want);
            let gaps: Vec<usize> = (0..rows.len()).filter(|&i| rows[i][c].is_none()).collect();
            prop_assert_eq!(col.gaps(), gaps);
        }
    }
}

#[test]
fn a_row_of_separators_is_a_row_of_gaps() {
    let t = parse_csv("a,b\n1,2\n,\n3,4\n").unwrap();
    assert_eq!(t.columns[0].values, vec![Some(1.0), None, Some(3.0)]);
    assert_eq!(t.columns[1].gaps(), vec![1]);
}
