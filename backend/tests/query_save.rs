//! "Save query" of the metric sources page (issue 13): a tested query is stored as a
//! `[[query]]` entry of its source through the API's save path, keeping the admin's
//! comments; saving the same name again replaces it; with a step it is also a schedule;
//! bad fields are refused naming the form's field and write nothing; delete removes
//! the entry and its schedule (whose queued pass then ends without reading), and
//! refuses to empty a source. Runs on a fresh SQLite file and a fresh PostgreSQL
//! database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::metric_schedules::ScheduleHandler;
use perfwatch_backend::query_save::{
    delete_query, save_query, saved_queries, schedule_input, SaveQuery,
};
use perfwatch_backend::queue::{kinds, Handler, Outcome, Queue};
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::store::NewProject;
use perfwatch_backend::{Store, StoreError};

perfwatch_backend::on_both!(save_and_delete);

const CONFIG: &str = "# production Prometheus, read-only user\nurl = \"http://127.0.0.1:9\"\n\n[[query]]\nname = \"up\"\nunit = \"count\"\nquery = 'sum(up)'\n";

fn msg(e: &StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v
            .errors
            .iter()
            .map(|f| format!("{}: {}", f.path, f.reason))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn jobs() -> SaveQuery {
    SaveQuery {
        source: "prom".into(),
        name: "jobs".into(),
        unit: "jobs/min".into(),
        direction: "higher".into(),
        template: "sum(rate(jobs_total[{{window}}])) * 60".into(),
        by: String::new(),
        empty: "zero".into(),
        schedule: None,
    }
}

async fn config(store: &Store, project: i64) -> String {
    store.metric_source(project, "prom").await.unwrap().config
}

async fn save_and_delete(store: Store) {
    let project = store
        .create_project(&NewProject {
            slug: "ops".into(),
            name: None,
            main_branch: None,
            repo_url: None,
        })
        .await
        .unwrap();
    store
        .metric_source_put(project, "prom", CONFIG, None, 0)
        .await
        .unwrap();
    let key = SealKey::generate();

    // Saved for window collection: listed with every field, the comment kept.
    let saved = save_query(&store, &key, "ops", &jobs()).await.unwrap();
    assert_eq!(
        (
            saved.unit.as_str(),
            saved.direction.as_deref(),
            saved.empty.as_str(),
            saved.step_s
        ),
        ("jobs/min", Some("higher"), "zero", None)
    );
    let text = config(&store, project).await;
    assert!(text.starts_with("# production Prometheus"), "{text}");
    let list = saved_queries(&store, "ops").await.unwrap();
    assert_eq!(
        list.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(),
        ["up", "jobs"]
    );
    assert_eq!(list[1].template, "sum(rate(jobs_total[{{window}}])) * 60");

    // Bad fields: the error names the form's field and nothing changes.
    let before = config(&store, project).await;
    let cases: Vec<(SaveQuery, &str)> = vec![
        (
            SaveQuery {
                unit: " ".into(),
                ..jobs()
            },
            "unit: ",
        ),
        (
            SaveQuery {
                template: "sum(rate(jobs_total[".into(),
                ..jobs()
            },
            "query: ",
        ),
        (
            SaveQuery {
                by: "endpoint".into(),
                ..jobs()
            },
            "by: ",
        ),
        (
            SaveQuery {
                direction: "up".into(),
                ..jobs()
            },
            "direction: ",
        ),
        (
            SaveQuery {
                empty: "nothing".into(),
                ..jobs()
            },
            "empty: ",
        ),
        (
            SaveQuery {
                name: String::new(),
                ..jobs()
            },
            "name: ",
        ),
        (
            SaveQuery {
                source: "nope".into(),
                ..jobs()
            },
            "source: ",
        ),
        (
            SaveQuery {
                schedule: schedule_input("0", "", "", chrono::Utc::now()).unwrap(),
                ..jobs()
            },
            "step_s: ",
        ),
        (
            SaveQuery {
                name: "other".into(),
                schedule: schedule_input("300", "", "Mars/Olympus", chrono::Utc::now()).unwrap(),
                ..jobs()
            },
            "timezone: ",
        ),
    ];
    for (q, field) in cases {
        let e = save_query(&store, &key, "ops", &q).await.unwrap_err();
        assert!(msg(&e).starts_with(field), "{field}: {}", msg(&e));
    }
    assert_eq!(config(&store, project).await, before, "nothing was written");
    assert!(
        msg(&schedule_input("5m", "", "", chrono::Utc::now()).unwrap_err()).starts_with("step_s: ")
    );
    assert!(
        msg(&schedule_input("60", "yesterday", "", chrono::Utc::now()).unwrap_err())
            .starts_with("from: ")
    );
    assert!(store.metric_schedules().await.unwrap().is_empty());

    // Saved again as a schedule: the entry is replaced (still two queries), scheduled.
    let q = SaveQuery {
        unit: "1/min".into(),
        schedule: schedule_input(
            "300",
            "2026-11-01T00:00:00Z",
            "Europe/Berlin",
            chrono::Utc::now(),
        )
        .unwrap(),
        ..jobs()
    };
    let saved = save_query(&store, &key, "ops", &q).await.unwrap();
    assert_eq!((saved.unit.as_str(), saved.step_s), ("1/min", Some(300)));
    let list = saved_queries(&store, "ops").await.unwrap();
    assert_eq!(list.len(), 2);
    let schedules = store.metric_schedules().await.unwrap();
    assert_eq!(schedules.len(), 1);
    assert_eq!(
        (
            schedules[0].query_name.as_str(),
            schedules[0].step_s,
            schedules[0].settings.timezone.as_str()
        ),
        ("jobs", 300, "Europe/Berlin")
    );
    assert_eq!(schedules[0].watermark, 1_793_491_200_000 - 300_000);

    // Delete: the entry and its schedule go; the last query of a source stays.
    delete_query(&store, &key, "ops", "prom", "jobs")
        .await
        .unwrap();
    // The pass the schedule had queued ends at once, reading nothing, queuing no next.
    let queue = Queue::new(store.clone(), "t", std::time::Duration::from_secs(60));
    let lease = queue
        .claim(&[kinds::METRICS_SCHEDULE])
        .await
        .unwrap()
        .expect("the schedule's queued pass");
    let handler = ScheduleHandler {
        store: store.clone(),
        key: key.clone(),
    };
    assert_eq!(handler.run(&queue, &lease).await.unwrap(), Outcome::Done);
    queue.complete(&lease).await.unwrap();
    assert!(queue
        .claim(&[kinds::METRICS_SCHEDULE])
        .await
        .unwrap()
        .is_none());
    let list = saved_queries(&store, "ops").await.unwrap();
    assert_eq!(
        list.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(),
        ["up"]
    );
    assert!(store.metric_schedules().await.unwrap().is_empty());
    assert!(config(&store, project)
        .await
        .starts_with("# production Prometheus"));
    let e = delete_query(&store, &key, "ops", "prom", "up")
        .await
        .unwrap_err();
    assert!(
        msg(&e).starts_with("name: ") && msg(&e).contains("only query"),
        "{}",
        msg(&e)
    );
    let e = delete_query(&store, &key, "ops", "prom", "jobs")
        .await
        .unwrap_err();
    assert!(msg(&e).starts_with("name: "), "{}", msg(&e));
}
