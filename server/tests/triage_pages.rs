//! The triage pages as the server renders them: the alert-group page shows triage
//! controls only to who may triage, the alerts list keeps state and assignee filters in
//! the URL and offers bulk actions to triagers, the admin pages show tokens and the
//! delivery log to admins only, and a plain (no JavaScript) form post to a server
//! function works and returns to the page.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_backend::accounts::Actor;
use perfwatch_core::alerts::TriageState;
use perfwatch_server::testing::{
    create_rights_projects, create_role_users, spawn_app_with, Db, TestApp,
};
use reqwest::header;
use serde_json::json;

struct T {
    app: TestApp,
    c: reqwest::Client,
}

impl T {}

/// Projects `drv` (with a step, so an alert group) and `other`; users viewer,
/// triager, a triager of `other` only, admin. Answers the group id.
async fn setup() -> (T, i64) {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    create_rights_projects(&app.store).await;
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for i in 1..=40u64 {
        let v = if i < 21 { 100.0 } else { 120.0 } + (i % 3) as f64 * 0.3;
        for bench in ["insert", "delete"] {
            let run = json!({
                "project": "drv",
                "commit": {"sha": format!("{:040x}", 0xfeed00 + i)},
                "results": [{"benchmark": bench, "measure": "time", "unit": "ns", "direction": "lower", "samples": [v]}],
            });
            let res = c
                .post(format!("{}/api/v1/runs", app.base))
                .bearer_auth(&app.token)
                .json(&run)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 201);
        }
    }
    let st = &app.store;
    create_role_users(st).await;
    let alerts = st
        .list_alerts(&perfwatch_core::alerts::AlertFilter {
            project: Some("drv".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(alerts.len() >= 2, "two alerts: {}", alerts.len());
    let gid = alerts[0].group_id.expect("a group");
    (T { app, c }, gid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_page_shows_triage_controls_only_to_who_may_triage() {
    let (t, gid) = setup().await;
    let path = format!("/alerts/groups/{gid}");
    let (s, anon) = t.app.page(None, &path).await;
    assert_eq!(s, 200);
    assert!(anon.contains("data-testid=\"history\""), "history shown");
    assert!(anon.contains("class=\"alert-detail\""), "alerts shown");
    assert!(
        !anon.contains("triage-controls"),
        "anonymous sees no controls"
    );
    assert!(!anon.contains("/new-ticket"));
    for (who, controls) in [
        ("viewer", false),
        ("drvless", false),
        ("triager", true),
        ("admin", true),
    ] {
        let s = t.app.login(who).await;
        let (_, html) = t.app.page(Some(&s), &path).await;
        assert_eq!(
            html.contains("data-testid=\"triage-controls\""),
            controls,
            "{who}"
        );
        assert_eq!(html.contains("name=\"fixed_commit\""), controls, "{who}");
    }
    // With a ticket template, triagers get "Open new issue".
    let tpl = json!({"kind": "github", "base_url": "https://github.com/example/driver"});
    let res =
        t.c.put(format!(
            "{}/api/v1/projects/drv/ticket-template",
            t.app.base
        ))
        .bearer_auth(&t.app.token)
        .json(&tpl)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let s = t.app.login("triager").await;
    let (_, html) = t.app.page(Some(&s), &path).await;
    assert!(html.contains(&format!("/api/v1/alert-groups/{gid}/new-ticket?go=1")));

    // A plain form post (no JavaScript) runs the server function and returns to the page.
    let res =
        t.c.post(format!("{}/fn/set_group_state", t.app.base))
            .header(header::COOKIE, format!("pw_session={s}"))
            .header(header::ORIGIN, &t.app.base)
            .header(header::ACCEPT, "text/html")
            .header(header::REFERER, format!("{}{path}", t.app.base))
            .form(&[
                ("group_id", gid.to_string().as_str()),
                ("state", "fixed"),
                ("fixed_commit", "abc1234"),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let to = res.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        to.trim_end_matches('?').ends_with(&path),
        "back to the page, without an error: {to}"
    );
    let (_, html) = t.app.page(None, &path).await;
    assert!(html.contains("fixed by abc1234"), "state shown");
    assert!(html.contains("user:triager"), "history names who");
    // The chart marks the alerts in their state.
    assert!(html.contains("alert-mark regression state-fixed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_list_filters_by_state_and_assignee_and_offers_bulk_actions() {
    let (t, gid) = setup().await;
    let st = &t.app.store;
    let admin = Actor::User(st.user_by_name("admin").await.unwrap());
    let g = st.alert_group(gid).await.unwrap();
    let (a1, a2) = (g.alerts[0].id, g.alerts[1].id);
    perfwatch_backend::triage::set_alert_state(st, &admin, a1, TriageState::Acknowledged, None)
        .await
        .unwrap();
    perfwatch_backend::triage::set_group_assignee(st, &admin, gid, Some("ana".into()))
        .await
        .unwrap();
    let rows = |html: &str| {
        [a1, a2]
            .into_iter()
            .filter(|a| html.contains(&format!("<tr data-alert=\"{a}\"")))
            .collect::<Vec<_>>()
    };
    let (_, html) = t.app.page(None, "/alerts?state=acknowledged").await;
    assert_eq!(rows(&html), vec![a1]);
    assert!(
        html.contains("<option value=\"acknowledged\" selected"),
        "filter kept"
    );
    let (_, html) = t.app.page(None, "/alerts?state=untriaged").await;
    assert_eq!(rows(&html), vec![a2]);
    let (_, html) = t.app.page(None, "/alerts?assignee=ana").await;
    assert_eq!(rows(&html).len(), 2);
    assert!(html.contains("value=\"ana\""), "assignee filter kept");
    let (_, html) = t.app.page(None, "/alerts?assignee=none").await;
    assert!(rows(&html).is_empty());
    assert!(!html.contains("bulk-form"), "anonymous: no bulk actions");
    let s = t.app.login("viewer").await;
    let (_, html) = t.app.page(Some(&s), "/alerts").await;
    assert!(!html.contains("bulk-form"), "viewer: no bulk actions");
    let s = t.app.login("triager").await;
    let (_, html) = t.app.page(Some(&s), "/alerts").await;
    assert!(
        html.contains("data-testid=\"bulk-form\""),
        "triager: bulk actions"
    );
    assert!(html.contains("class=\"pick\""));
    // The bulk server function, as the hydrated form posts it.
    let res =
        t.c.post(format!("{}/fn/bulk_alert_state", t.app.base))
            .header(header::COOKIE, format!("pw_session={s}"))
            .header(header::ORIGIN, &t.app.base)
            .form(&[
                ("ids", format!("{a1},{a2}").as_str()),
                ("state", "expected"),
                ("fixed_commit", ""),
            ])
            .send()
            .await
            .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.text().await.unwrap(), "2");
    let (_, html) = t.app.page(None, "/alerts?state=expected").await;
    assert_eq!(rows(&html).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_show_tokens_and_deliveries_to_admins_only() {
    let (t, _) = setup().await;
    let admin = t.app.login("admin").await;
    let (s, html) = t.app.page(Some(&admin), "/admin/tokens").await;
    assert_eq!(s, 200);
    assert!(html.contains("data-testid=\"tokens\""), "token list");
    assert!(html.contains("data-testid=\"token-form\""));
    assert!(!html.contains(&t.app.token), "never a secret");
    for who in [None, Some(t.app.login("triager").await)] {
        let (_, html) = t.app.page(who.as_deref(), "/admin/tokens").await;
        assert!(html.contains("not-admin"), "{who:?}");
        assert!(!html.contains("data-testid=\"tokens\""));
    }
    // A webhook, so the log has something to show.
    let res = t
        .c
        .post(format!("{}/api/v1/projects/drv/webhooks", t.app.base))
        .bearer_auth(&t.app.token)
        .json(&json!({"url": "http://127.0.0.1:9/hook", "events": ["alert_group.state_changed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let st = &t.app.store;
    let a = Actor::User(st.user_by_name("admin").await.unwrap());
    let g = st
        .list_alerts(&Default::default())
        .await
        .unwrap()
        .into_iter()
        .find_map(|a| a.group_id)
        .unwrap();
    perfwatch_backend::triage::set_group_state(st, &a, g, TriageState::Acknowledged, None)
        .await
        .unwrap();
    // Every page's navigation leads to the administration pages.
    let (_, html) = t.app.page(Some(&admin), "/alerts").await;
    assert!(html.contains("href=\"/admin/tokens\""), "{html}");
    let (_, html) = t
        .app
        .page(Some(&admin), "/admin/deliveries?project=drv")
        .await;
    assert!(html.contains("data-testid=\"deliveries\""), "{html}");
    assert!(html.contains("alert_group.state_changed"));
    let tri = t.app.login("triager").await;
    let (_, html) = t
        .app
        .page(Some(&tri), "/admin/deliveries?project=drv")
        .await;
    assert!(!html.contains("data-testid=\"deliveries\""));
    assert!(
        html.contains("lacks the &#x27;admin&#x27; right")
            || html.contains("lacks the 'admin' right"),
        "{html}"
    );
}
