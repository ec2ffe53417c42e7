//! The threshold rules on the series page, as the server renders them, on SQLite and
//! PostgreSQL: everyone sees the rules that apply to the series, only who may triage
//! its project (triager or admin) gets the add form and the delete buttons; a plain
//! (no JavaScript) form post creates a rule that the page then lists, an invalid rule
//! comes back with its validation error next to the form, delete removes a rule, and a
//! run that breaches a rule created through the form raises a threshold alert.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_core::alerts::{AlertFilter, AlertKind};
use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, TestApp,
};
use reqwest::header;
use serde_json::json;

perfwatch_backend::on_both!(db, multi_thread: threshold_rules_on_the_series_page);

struct T {
    app: TestApp,
    c: reqwest::Client,
    sid: i64,
}

impl T {
    /// A plain form post from the series page, as a browser without JavaScript sends
    /// it; answers where the server sends the browser back to.
    async fn form_post(&self, session: &str, path: &str, form: &[(&str, &str)]) -> String {
        let res = self
            .c
            .post(format!("{}{path}", self.app.base))
            .header(header::COOKIE, format!("pw_session={session}"))
            .header(header::ORIGIN, &self.app.base)
            .header(header::ACCEPT, "text/html")
            .header(
                header::REFERER,
                format!("{}/series/{}", self.app.base, self.sid),
            )
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 302, "{path}");
        res.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .to_string()
    }

    async fn run(&self, i: u64, v: f64) {
        let run = json!({
            "project": "drv",
            "commit": {"sha": format!("{:040x}", 0xabc000 + i)},
            "results": [{"benchmark": "insert", "measure": "time", "unit": "ns", "direction": "lower", "samples": [v]}],
        });
        let res = self
            .c
            .post(format!("{}/api/v1/runs", self.app.base))
            .bearer_auth(&self.app.token)
            .json(&run)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
    }

    async fn rule_ids(&self) -> Vec<i64> {
        let p = self.app.store.project("drv").await.unwrap();
        self.app
            .store
            .threshold_rules(p.id)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect()
    }
}

/// Projects `drv` (one flat series) and `other`; users viewer, triager, admin and a
/// triager of `other` only.
async fn setup(db: Db) -> T {
    let app = spawn_app_with(db, |_| {}).await;
    create_rights_projects(&app.store).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut t = T { app, c, sid: 0 };
    for i in 1..=20u64 {
        t.run(i, 100.0 + (i % 3) as f64 * 0.3).await;
    }
    let st = &t.app.store;
    let p = st.project("drv").await.unwrap();
    t.sid = st.list_series(p.id).await.unwrap()[0].id;
    create_role_users(st).await;
    t
}

async fn threshold_rules_on_the_series_page(db: Db) {
    let t = setup(db).await;
    let path = format!("/series/{}", t.sid);

    // Everyone sees the section; only triagers and admins get the form.
    let (s, anon) = t.app.page(None, &path).await;
    assert_eq!(s, 200);
    assert!(anon.contains("data-testid=\"thresholds\""), "section shown");
    assert!(anon.contains("data-testid=\"no-thresholds\""));
    assert!(!anon.contains("threshold-form"), "anonymous sees no form");
    for (who, form) in [
        ("viewer", false),
        ("drvless", false),
        ("triager", true),
        ("admin", true),
    ] {
        let s = t.app.login(who).await;
        let (_, html) = t.app.page(Some(&s), &path).await;
        assert_eq!(
            html.contains("data-testid=\"threshold-form\""),
            form,
            "{who}"
        );
        assert_eq!(html.contains("name=\"max_z\""), form, "{who}");
    }

    // A plain form post creates a series rule; the page lists it.
    let tri = t.app.login("triager").await;
    let sid = t.sid.to_string();
    let to = t
        .form_post(
            &tri,
            "/fn/create_threshold",
            &[
                ("series_id", sid.as_str()),
                ("scope", "series"),
                ("kind", "static"),
                ("min", ""),
                ("max", "150"),
                ("max_up", ""),
                ("max_down", ""),
                ("baseline", "median_of_last"),
                ("n", "10"),
                ("pinned", ""),
                ("pinned_label", ""),
                ("max_z", "4"),
                ("lookback", "30"),
                ("side", "both"),
            ],
        )
        .await;
    assert!(!to.contains("__err"), "no error: {to}");
    assert!(to.trim_end_matches('?').ends_with(&path), "back: {to}");
    let ids = t.rule_ids().await;
    assert_eq!(ids.len(), 1);
    let (_, html) = t.app.page(None, &path).await;
    assert!(html.contains("data-testid=\"threshold-rules\""));
    assert!(html.contains("static bound: at most 150 ns"), "{html}");
    assert!(html.contains("this series"));
    assert!(
        !html.contains("delete-threshold"),
        "anonymous: no delete button"
    );

    // A measure-wide percent-change rule, as the hydrated form posts it (fetch).
    let res =
        t.c.post(format!("{}/fn/create_threshold", t.app.base))
            .header(header::COOKIE, format!("pw_session={tri}"))
            .header(header::ORIGIN, &t.app.base)
            .form(&[
                ("series_id", sid.as_str()),
                ("scope", "measure"),
                ("kind", "percent_change"),
                ("max_up", "25"),
                ("max_down", ""),
                ("baseline", "pinned"),
                ("pinned", "100"),
                ("pinned_label", "v1.0"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (_, html) = t.app.page(Some(&tri), &path).await;
    assert!(html.contains("every series of measure time"), "{html}");
    assert!(
        html.contains("percent change against pinned baseline 100 ns (v1.0): at most +25 %"),
        "{html}"
    );
    assert_eq!(html.matches("data-testid=\"delete-threshold\"").count(), 2);

    // An invalid rule comes back with the validation error, next to the form.
    let to = t
        .form_post(
            &tri,
            "/fn/create_threshold",
            &[
                ("series_id", sid.as_str()),
                ("scope", "series"),
                ("kind", "static"),
                ("min", "10"),
                ("max", "5"),
            ],
        )
        .await;
    assert!(to.contains("__err"), "{to}");
    assert_eq!(t.rule_ids().await.len(), 2, "nothing stored");
    let back = to
        .strip_prefix(&t.app.base)
        .expect("redirect to this server");
    let (_, html) = t.app.page(Some(&tri), back).await;
    assert!(html.contains("data-testid=\"threshold-error\""), "{html}");
    assert!(html.contains("min must not exceed max"), "{html}");
    let to = t
        .form_post(
            &tri,
            "/fn/create_threshold",
            &[
                ("series_id", sid.as_str()),
                ("scope", "series"),
                ("kind", "z_score"),
                ("max_z", "4"),
                ("lookback", "1"),
                ("side", "both"),
            ],
        )
        .await;
    let (_, html) = t
        .app
        .page(Some(&tri), to.strip_prefix(&t.app.base).unwrap())
        .await;
    assert!(
        html.contains("z-score lookback must be &gt;= 2")
            || html.contains("z-score lookback must be >= 2"),
        "{html}"
    );

    // Delete removes the measure rule (a plain form post).
    let measure_rule = t.rule_ids().await[1];
    let to = t
        .form_post(
            &tri,
            "/fn/delete_threshold",
            &[
                ("id", measure_rule.to_string().as_str()),
                ("series_id", sid.as_str()),
            ],
        )
        .await;
    assert!(!to.contains("__err"), "{to}");
    assert_eq!(t.rule_ids().await, ids);
    let (_, html) = t.app.page(None, &path).await;
    assert!(!html.contains("every series of measure time"));
    assert!(html.contains("static bound: at most 150 ns"));

    // A viewer may not delete (and nothing changes).
    let viewer = t.app.login("viewer").await;
    let res =
        t.c.post(format!("{}/fn/delete_threshold", t.app.base))
            .header(header::COOKIE, format!("pw_session={viewer}"))
            .header(header::ORIGIN, &t.app.base)
            .form(&[("id", ids[0].to_string()), ("series_id", sid.clone())])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert_eq!(t.rule_ids().await, ids);

    // A run breaching the rule made through the form raises a threshold alert.
    let threshold_alerts = || async {
        t.app
            .store
            .list_alerts(&AlertFilter {
                project: Some("drv".into()),
                kind: Some(AlertKind::Threshold),
                ..Default::default()
            })
            .await
            .unwrap()
    };
    assert!(threshold_alerts().await.is_empty());
    t.run(21, 100.2).await;
    assert!(threshold_alerts().await.is_empty(), "within the bound");
    t.run(22, 180.0).await;
    let alerts = threshold_alerts().await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].series.id, t.sid);
}
