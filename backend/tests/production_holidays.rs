//! Holidays on production series (issue 13): five weeks of hourly metrics with a nightly
//! dip, weekends, growth and ±3 % noise, and a Christmas-like holiday on which traffic
//! falls to 40 % for the whole local day. With the holiday in the project's calendar
//! (set through the admin use case behind `PUT /api/v1/projects/{slug}/holidays`),
//! detection raises no alert and the deploy made on the holiday (02:00) is not `lower`; the same
//! data without the calendar does alarm, so the calendar is what keeps it quiet. A
//! routine deploy is ranked against the project's past deploys. Runs on a fresh SQLite
//! file and a fresh PostgreSQL database.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use perfwatch_backend::accounts::Actor;
use perfwatch_backend::deploy_verdicts::deploy_verdicts;
use perfwatch_backend::detection::{detect_project, DetectSettings, Scope};
use perfwatch_backend::holidays::{set_holidays, HolidayInput};
use perfwatch_backend::store::{IngestOptions, NewProject};
use perfwatch_backend::testing::seed::admin;
use perfwatch_backend::{Store, StoreError};
use perfwatch_core::alerts::AlertFilter;
use perfwatch_core::model::{AnnotationInput, AnnotationKind};
use perfwatch_core::validate::{parse_run_json, validate_run};
use perfwatch_detect::seasonal::{DeployVerdictKind, SeasonalConfig};
use serde_json::json;

perfwatch_backend::on_both!(a_holiday_is_expected);

/// Friday 2026-12-25, the holiday (UTC: the series' timezone without a schedule).
fn holiday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 25, 0, 0, 0).unwrap()
}

/// The deploy on the holiday, 02:00: its window is on the holiday, its level window (the
/// evening before) is not, so without the calendar the holiday looks like a drop.
fn deploy() -> DateTime<Utc> {
    holiday() + Duration::hours(2)
}

fn level(t: DateTime<Utc>, weeks: f64, noise: f64) -> f64 {
    let mut v = 1500.0 * 1.01f64.powf(weeks);
    if !(6..22).contains(&t.hour()) {
        v *= 0.3;
    }
    if t.weekday().number_from_monday() >= 6 {
        v *= 0.6;
    }
    if t >= holiday() && t < holiday() + Duration::days(1) {
        v *= 0.4;
    }
    v * (1.0 + noise)
}

async fn marker(store: &Store, slug: &str, name: &str, at: DateTime<Utc>) {
    store
        .add_annotation(&AnnotationInput {
            project: slug.into(),
            name: name.into(),
            kind: AnnotationKind::Deploy,
            commit: None,
            time: Some(at),
            description: None,
        })
        .await
        .unwrap();
}

/// The project, routine deploys every three days at 10:00, the holiday deploy, and five
/// weeks of points plus four days.
async fn load(store: &Store, slug: &str) {
    store
        .create_project(&NewProject {
            slug: slug.into(),
            name: None,
            main_branch: Some("main".into()),
            repo_url: None,
        })
        .await
        .unwrap();
    let start = holiday() - Duration::weeks(5);
    let end = holiday() + Duration::days(4);
    let mut d = start + Duration::hours(10);
    let mut n = 0;
    while d < end {
        if (d - deploy()).num_hours().abs() > 24 {
            n += 1;
            marker(store, slug, &format!("deploy v{n}"), d).await;
        }
        d += Duration::days(3);
    }
    marker(store, slug, "deploy xmas", deploy()).await;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        ((seed % 2001) as f64 / 1000.0 - 1.0) * 0.03
    };
    let mut t = start;
    while t < end {
        let weeks = (t - start).num_hours() as f64 / 168.0;
        let run = json!({
            "project": slug,
            "testbed": "production",
            "started_at": t.to_rfc3339(),
            "finished_at": t.to_rfc3339(),
            "trigger": "schedule",
            "results": [
                {"benchmark": "background_jobs", "measure": "jobs_per_minute", "unit": "jobs/min",
                 "direction": "higher", "samples": [level(t, weeks, noise())]},
            ],
        });
        let run = validate_run(parse_run_json(run.to_string().as_bytes()).unwrap()).unwrap();
        store
            .store_run(&run, &IngestOptions::default())
            .await
            .unwrap();
        t += Duration::hours(1);
    }
}

async fn marker_id(store: &Store, slug: &str, name: &str) -> i64 {
    let p = store.project(slug).await.unwrap();
    store
        .markers(p.id, None)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.name == name)
        .unwrap()
        .id
}

async fn a_holiday_is_expected(store: Store) {
    load(&store, "shop").await;
    load(&store, "nocal").await;
    let admin = admin(&store, "admin").await;

    // Bad input is named by its field and writes nothing; readers may not write.
    let bad = [
        HolidayInput {
            date: "2026-12-25".into(),
            name: "Christmas".into(),
        },
        HolidayInput {
            date: "2026-12-32".into(),
            name: "Nope".into(),
        },
    ];
    match set_holidays(&store, &admin, "shop", &bad).await {
        Err(StoreError::Invalid(v)) => {
            assert_eq!(v.errors.len(), 1, "{v:?}");
            assert_eq!(v.errors[0].path, "holidays[1].date");
            assert!(v.errors[0].reason.contains("2026-12-32"), "{v:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        set_holidays(&store, &Actor::Anonymous, "shop", &bad[..1]).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(perfwatch_backend::holidays::holidays(&store, "shop")
        .await
        .unwrap()
        .holidays
        .is_empty());

    let saved = set_holidays(&store, &admin, "shop", &bad[..1])
        .await
        .unwrap();
    assert_eq!(saved.holidays.len(), 1);
    let read = perfwatch_backend::holidays::holidays(&store, "shop")
        .await
        .unwrap();
    assert_eq!(read.holidays[0].name, "Christmas");
    assert_eq!(read.holidays[0].date.to_string(), "2026-12-25");

    let filter = |slug: &str| AlertFilter {
        project: Some(slug.into()),
        ..Default::default()
    };
    for slug in ["shop", "nocal"] {
        detect_project(&store, slug, Scope::All, &DetectSettings::default())
            .await
            .unwrap();
    }
    let quiet = store.list_alerts(&filter("shop")).await.unwrap();
    assert!(
        quiet.is_empty(),
        "the holiday is in the calendar: no alert: {quiet:#?}"
    );
    let without = store.list_alerts(&filter("nocal")).await.unwrap();
    assert!(
        !without.is_empty(),
        "without the calendar the holiday drop alarms (the control)"
    );

    let cfg = SeasonalConfig::default();
    let id = marker_id(&store, "shop", "deploy xmas").await;
    let view = deploy_verdicts(&store, "shop", id, &cfg).await.unwrap();
    let v = &view.metrics[0].verdict;
    assert_ne!(v.verdict, DeployVerdictKind::Lower, "{v:#?}");
    assert_eq!(v.verdict, DeployVerdictKind::Inconclusive, "{v:#?}");
    assert_eq!(v.holiday.as_deref(), Some("Christmas"));
    assert!(v.reason.contains("Christmas"), "{}", v.reason);

    let id = marker_id(&store, "nocal", "deploy xmas").await;
    let view = deploy_verdicts(&store, "nocal", id, &cfg).await.unwrap();
    let v = &view.metrics[0].verdict;
    assert_eq!(
        v.verdict,
        DeployVerdictKind::Lower,
        "without the calendar the holiday looks like a drop: {v:#?}"
    );

    // A routine deploy after three weeks is ranked against the deploys before it.
    let id = marker_id(&store, "shop", "deploy v10").await;
    let view = deploy_verdicts(&store, "shop", id, &cfg).await.unwrap();
    let v = &view.metrics[0].verdict;
    assert_eq!(v.verdict, DeployVerdictKind::Pass, "{v:#?}");
    let rank = v.past_deploys.as_ref().expect("ranked");
    // Nine deploys before it; the first three have too little history for a change.
    assert!((5..=9).contains(&rank.of), "{v:#?}");
    assert!(rank.spread_pct.is_some(), "{v:#?}");
    assert!(
        v.reason.contains(&format!(
            "larger than {} of the last {} deploys",
            rank.larger_than, rank.of
        )),
        "{}",
        v.reason
    );
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["metrics"][0]["verdict"]["past_deploys"]["of"], rank.of);
}
