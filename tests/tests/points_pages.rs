//! `GET /api/v1/series/{id}/points` answers in bounded pages (default 1000 points, at
//! most 5000), continued with `after` and a `Link: rel="next"` header, on SQLite and on
//! PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::store::IngestOptions;
use perfwatch_core::validate::{parse_run_json, validate_run};
use perfwatch_tests::*;
use serde_json::Value;

perfwatch_backend::on_both!(
    db:
    pages_follow_the_next_link_and_join_to_the_whole_series,
    default_answer_is_bounded_at_a_thousand_points,
    bad_limit_and_unknown_after_are_rejected_by_name,
);

/// Stores `n` main-branch runs of one series straight through the store (no detection
/// pass per run: this test is about reading) and returns the series id.
async fn series_with_points(app: &TestApp, n: u64) -> i64 {
    create_project(app, "pages").await;
    for i in 1..=n {
        let body = run_json("pages", &sha(i), &[("Bench", 100.0 + i as f64)]);
        let run = validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap();
        app.store
            .store_run(&run, &IngestOptions::default())
            .await
            .expect("store run");
    }
    let (_, series) = get_json(app, "/api/v1/projects/pages/series").await;
    series[0]["id"].as_i64().unwrap()
}

/// GET of a path under the server; the status, the `Link` header and the JSON body.
async fn get_page(app: &TestApp, path: &str) -> (u16, Option<String>, Value) {
    let resp = reqwest::get(format!("{}{}", app.base, path))
        .await
        .expect("get");
    let link = resp
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), link, resp.json().await.unwrap())
}

fn next_path(link: &str) -> String {
    let path = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .unwrap_or_else(|| panic!("not a next link: {link}"))
        .0;
    path.to_string()
}

fn ords(points: &Value) -> Vec<i64> {
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ord"].as_i64().unwrap())
        .collect()
}

async fn pages_follow_the_next_link_and_join_to_the_whole_series(db: Db) {
    let app = spawn_app(db).await;
    let id = series_with_points(&app, 25).await;
    let (status, _, whole) = get_page(&app, &format!("/api/v1/series/{id}/points")).await;
    assert_eq!(status, 200);
    assert_eq!(ords(&whole), (1..=25).collect::<Vec<_>>());

    // Pages of 10 keep the other filters in their next link.
    let mut path = format!("/api/v1/series/{id}/points?limit=10&branch=main&from_ord=3");
    let mut joined = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let (status, link, page) = get_page(&app, &path).await;
        assert_eq!(status, 200, "{path}: {page}");
        sizes.push(page.as_array().unwrap().len());
        joined.extend(page.as_array().unwrap().iter().cloned());
        match link {
            Some(l) => {
                path = next_path(&l);
                assert!(
                    path.contains("branch=main") && path.contains("from_ord=3"),
                    "{path}"
                );
            }
            None => break,
        }
    }
    assert_eq!(sizes, vec![10, 10, 3]);
    let joined = Value::Array(joined);
    assert_eq!(ords(&joined), (3..=25).collect::<Vec<_>>());
    // The same points as the unpaged answer, field by field (sha, median, ...).
    assert_eq!(
        joined.as_array().unwrap()[..],
        whole.as_array().unwrap()[2..]
    );

    // A page exactly filled has a next link; the page after it is empty and has none.
    let (_, link, page) = get_page(&app, &format!("/api/v1/series/{id}/points?limit=25")).await;
    assert_eq!(page.as_array().unwrap().len(), 25);
    let (status, link, page) = get_page(&app, &next_path(&link.expect("full page"))).await;
    assert_eq!((status, page), (200, Value::Array(vec![])));
    assert!(link.is_none());
}

async fn default_answer_is_bounded_at_a_thousand_points(db: Db) {
    let app = spawn_app(db).await;
    let id = series_with_points(&app, 1003).await;
    let (status, link, first) = get_page(&app, &format!("/api/v1/series/{id}/points")).await;
    assert_eq!(status, 200);
    assert_eq!(ords(&first), (1..=1000).collect::<Vec<_>>());
    let last_run = first[999]["run_id"].as_i64().unwrap();
    let next = next_path(&link.expect("a full default page links the next one"));
    assert_eq!(next, format!("/api/v1/series/{id}/points?after={last_run}"));
    let (_, link, rest) = get_page(&app, &next).await;
    assert_eq!(ords(&rest), vec![1001, 1002, 1003]);
    assert!(link.is_none());
    // The cap: one answer of 5000 at most, so the whole series fits in one.
    let (_, _, all) = get_page(&app, &format!("/api/v1/series/{id}/points?limit=5000")).await;
    assert_eq!(all.as_array().unwrap().len(), 1003);
}

async fn bad_limit_and_unknown_after_are_rejected_by_name(db: Db) {
    let app = spawn_app(db).await;
    let id = series_with_points(&app, 3).await;
    for limit in ["0", "5001", "-1"] {
        let (status, _, body) =
            get_page(&app, &format!("/api/v1/series/{id}/points?limit={limit}")).await;
        assert_eq!(status, 400, "limit={limit}: {body}");
        assert!(body.to_string().contains("limit"), "{body}");
    }
    // A run without a point in this series is no place to continue from.
    let (status, _, body) =
        get_page(&app, &format!("/api/v1/series/{id}/points?after=999999")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("after"), "{body}");
    assert!(!body.to_string().to_lowercase().contains("sql"), "{body}");
}
