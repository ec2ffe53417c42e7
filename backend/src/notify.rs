//! Notifications: per-project webhook subscriptions and their delivery log. Each
//! delivery is a job of the work queue, sent by `delivery.rs` with retries and
//! exponential backoff.
//!
//! A delivery stores the event (kind and ids); the worker renders the message when it
//! sends, in the subscription's format (`json`: a generic document; `slack`: a
//! Slack-compatible `{"text": …}`), and signs the exact body with HMAC-SHA256 of the
//! subscription's secret: header `X-Perfwatch-Signature: sha256=<hex>`.

use std::time::Duration;

use perfwatch_compare::{SeriesComparison, Verdict};
use perfwatch_core::alerts::{AlertGroupView, TriageState};
use perfwatch_core::baseline::{BaselineKey, BaselineRule};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::accounts::{Actor, Right};
use crate::baseline::RunVerdict;
use crate::error::{Result, StoreError};
use crate::secrets::SealKey;
use crate::store::notifications::{NewWebhook, WebhookFormat};
use crate::Store;

pub const EVENTS: [&str; 3] = [
    "alert_group.created",
    "alert_group.state_changed",
    "comparison.finished",
];

/// Something subscribers may hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
// Events are few and short-lived (queued as JSON at once): boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    #[serde(rename = "alert_group.created")]
    GroupCreated { group_id: i64 },
    #[serde(rename = "alert_group.state_changed")]
    StateChanged {
        group_id: i64,
        from: TriageState,
        to: TriageState,
        actor: String,
    },
    /// A pull-request (non-main-branch) run compared with its main-branch baseline,
    /// emitted by `ingest::ingest_run`. Links are stored as paths and made absolute with
    /// the public URL when the message is rendered.
    #[serde(rename = "comparison.finished")]
    ComparisonFinished {
        run_id: i64,
        branch: Option<String>,
        head_sha: String,
        /// The head commit in the project's repository, when its URL is known.
        head_url: Option<String>,
        /// The newest base commit on main, when a baseline was found.
        base_sha: Option<String>,
        /// Human description of the base, e.g. `main at 0123456789 (parent of the head commit)`.
        base: String,
        total: usize,
        regressions: usize,
        improvements: usize,
        unchanged: usize,
        inconclusive: usize,
        /// Overall geomean change of head vs base, in %.
        geomean_pct: Option<f64>,
        /// The 5 biggest regressions and improvements, biggest change first.
        top_regressions: Vec<ChangeRow>,
        top_improvements: Vec<ChangeRow>,
        /// The compare page's path, `/projects/{slug}/compare?base=commit:…&head=run:…`,
        /// when a base commit is known.
        compare_path: Option<String>,
        /// `/runs/{id}`.
        run_path: String,
    },
}

/// One series of a finished comparison, as notifications carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRow {
    pub series_id: i64,
    pub benchmark: String,
    /// `k=v,k=v`, empty when none.
    pub params: String,
    pub measure: String,
    pub testbed: String,
    pub unit: String,
    pub change_pct: Option<f64>,
    pub p_value: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub base_median: Option<f64>,
    pub head_median: Option<f64>,
}

/// The chart image of a series, absolute (`/api/v1/series/{id}/chart.svg`).
pub fn chart_image_url(base: &str, series_id: i64) -> String {
    format!("{base}/api/v1/series/{series_id}/chart.svg")
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GroupCreated { .. } => EVENTS[0],
            Self::StateChanged { .. } => EVENTS[1],
            Self::ComparisonFinished { .. } => EVENTS[2],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub project: String,
    pub url: String,
    /// `json` or `slack`.
    pub format: String,
    pub events: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    /// `pending`, `delivered`, `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// Delivery settings (the queue's retry policy for deliveries, the HTTP timeout, the
/// worker's poll); tests shorten them.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub poll: Duration,
    /// Wait after the first failure; doubles after each further one.
    pub backoff: Duration,
    pub max_attempts: i64,
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            backoff: Duration::from_secs(30),
            max_attempts: 6,
            timeout: Duration::from_secs(10),
        }
    }
}

/// HMAC-SHA256 (RFC 2104) as lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// The actionable summary of an alert group, shared by notifications and tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub title: String,
    /// Markdown body: what changed, by how much, confidence, suspects, links.
    pub body: String,
    pub triage_url: String,
    /// The compare page, last good commit (base) vs first bad commit (head).
    pub compare_url: Option<String>,
    /// The series page of the worst alert.
    pub chart_url: Option<String>,
    /// The chart image of the worst alert's series (`/api/v1/series/{id}/chart.svg`).
    pub chart_image_url: Option<String>,
}

/// Renders the summary of a group (pure).
pub fn group_summary(g: &AlertGroupView, base: &str) -> GroupSummary {
    let triage_url = format!("{base}/alerts/groups/{}", g.id);
    let worst = g.alerts.first();
    let title = match worst {
        Some(a) => format!(
            "[{}] {} {:+.1}% in {} ({}){}",
            g.project,
            a.direction.as_str(),
            a.change_pct(),
            a.series.benchmark,
            a.series.measure,
            if g.alerts.len() > 1 {
                format!(" and {} more", g.alerts.len() - 1)
            } else {
                String::new()
            }
        ),
        None => format!("[{}] alert group {}", g.project, g.id),
    };
    let compare_url = worst.and_then(|a| alert_compare_url(base, &g.project, a));
    let chart_url = worst.map(|a| format!("{base}/series/{}", a.series.id));
    let chart_image_url = worst.map(|a| chart_image_url(base, a.series.id));
    let mut body = format!(
        "**{}** — project `{}`, state {}\n\n",
        title,
        g.project,
        g.triage.state.as_str()
    );
    for a in g.alerts.iter().take(10) {
        body.push_str(&format!(
            "- {} / {} on {}: {} {:+.2}% ({} → {} {}), confidence {}\n",
            a.series.benchmark,
            a.series.measure,
            a.series.testbed,
            a.direction.as_str(),
            a.change_pct(),
            fmt_num(a.before_median),
            fmt_num(a.after_median),
            a.series.display_unit,
            match a.p_value {
                Some(p) => format!("{:.2}% (p = {p:.1e})", (1.0 - p) * 100.0),
                None => "threshold breach".into(),
            }
        ));
    }
    if g.alerts.len() > 10 {
        body.push_str(&format!("- … {} more\n", g.alerts.len() - 10));
    }
    if let Some(a) = worst {
        if !a.suspect_commits.is_empty() {
            body.push_str(&format!("\nSuspect commits ({}):\n", a.suspect_total));
            for c in a.suspect_commits.iter().take(10) {
                let short: String = c.sha.chars().take(10).collect();
                let msg = c
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("");
                match &c.url {
                    Some(u) => body.push_str(&format!("- [{short}]({u}) {msg}\n")),
                    None => body.push_str(&format!("- {short} {msg}\n")),
                }
            }
        }
    }
    body.push('\n');
    if let Some(c) = &chart_url {
        body.push_str(&format!("Chart: {c}\n"));
    }
    if let Some(c) = &chart_image_url {
        body.push_str(&format!("Chart image: {c}\n"));
    }
    if let Some(c) = &compare_url {
        body.push_str(&format!("Compare: {c}\n"));
    }
    body.push_str(&format!("Triage: {triage_url}\n"));
    GroupSummary {
        title,
        body,
        triage_url,
        compare_url,
        chart_url,
        chart_image_url,
    }
}

/// The `comparison.finished` event of a run's baseline comparison (pure).
pub fn comparison_event(v: &RunVerdict, head_url: Option<String>) -> Option<Event> {
    let head_sha = v.sha.clone()?;
    let base_sha = v.base.commits.first().cloned();
    let short = |s: &str| s.chars().take(10).collect::<String>();
    let rule = match v.base.rule {
        BaselineRule::PreviousOnMain => "the commit before it on main",
        BaselineRule::Parent => "parent of the head commit",
        BaselineRule::CommitTime => "newest main commit no later than the head commit",
        BaselineRule::LatestOnMain => "newest main commit",
        BaselineRule::EarlierInTime => "earlier main-branch runs",
    };
    let base = match &base_sha {
        Some(b) if v.base.commits.len() > 1 => format!(
            "{} at {} ({rule}; {} series fall back to {} older commits)",
            v.base.branch,
            short(b),
            v.rows
                .iter()
                .filter(|r| r.key.base_sha.as_ref().is_some_and(|s| s != b))
                .count(),
            v.base.commits.len() - 1
        ),
        Some(b) => format!("{} at {} ({rule})", v.base.branch, short(b)),
        None => format!("no results on {} to compare with", v.base.branch),
    };
    let row = |r: &SeriesComparison<BaselineKey>| ChangeRow {
        series_id: r.key.series_id,
        benchmark: r.key.benchmark.clone(),
        params: r.key.params.clone(),
        measure: r.key.measure.clone(),
        testbed: r.key.testbed.clone(),
        unit: r.key.unit.clone(),
        change_pct: r.change_pct,
        p_value: r.p_value,
        p_adjusted: r.p_adjusted,
        base_median: r.base.as_ref().map(|s| s.median),
        head_median: r.head.as_ref().map(|s| s.median),
    };
    let top = |want: Verdict| {
        let mut rows: Vec<&SeriesComparison<BaselineKey>> =
            v.rows.iter().filter(|r| r.verdict == want).collect();
        rows.sort_by(|a, b| {
            let m = |r: &SeriesComparison<BaselineKey>| r.change_pct.map_or(0.0, f64::abs);
            m(b).total_cmp(&m(a))
        });
        rows.into_iter().take(5).map(row).collect::<Vec<_>>()
    };
    Some(Event::ComparisonFinished {
        run_id: v.run_id,
        branch: v.branch.clone(),
        compare_path: base_sha.as_ref().map(|b| {
            format!(
                "/projects/{}/compare?base=commit:{b}&head=run:{}",
                v.project, v.run_id
            )
        }),
        run_path: format!("/runs/{}", v.run_id),
        head_sha,
        head_url,
        base_sha,
        base,
        total: v.summary.total,
        regressions: v.summary.regressions,
        improvements: v.summary.improvements,
        unchanged: v.summary.unchanged,
        inconclusive: v.summary.inconclusive,
        geomean_pct: v.summary.overall.change_pct,
        top_regressions: top(Verdict::Regression),
        top_improvements: top(Verdict::Improvement),
    })
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// The canonical event name: `comparison_finished` and the like (underscores for the
/// dot) are accepted as aliases.
pub fn canonical_event(name: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|e| **e == name || e.replace('.', "_") == name)
        .copied()
}

fn valid_events(events: &[String]) -> Result<Vec<String>> {
    let canon: Vec<String> = events
        .iter()
        .filter_map(|e| canonical_event(e).map(str::to_string))
        .collect();
    if events.is_empty() || canon.len() != events.len() {
        return Err(StoreError::invalid(
            "events",
            format!("one or more of {}", EVENTS.join(", ")),
        ));
    }
    Ok(canon)
}

/// Subscribes a URL to a project's events (admins only); returns the id and the
/// signing secret. The secret is stored sealed with `seal` (it must be recovered to
/// sign, so it cannot be hashed) and shown only in this answer.
#[allow(clippy::too_many_arguments)]
pub async fn create_webhook(
    store: &Store,
    seal: &SealKey,
    actor: &Actor,
    project: &str,
    url: &str,
    format: &str,
    events: &[String],
    secret: Option<String>,
) -> Result<(i64, String)> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
        return Err(StoreError::invalid("url", "an http(s) URL"));
    }
    let format = WebhookFormat::parse(format)
        .ok_or_else(|| StoreError::invalid("format", "json or slack"))?;
    let events = valid_events(events)?;
    let secret = match secret.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => crate::accounts::new_secret("whsec_")?,
    };
    let id = store
        .insert_webhook(&NewWebhook {
            project_id: p.id,
            url,
            format,
            events: &events,
            secret: &seal.seal_tagged(&secret),
        })
        .await?;
    Ok((id, secret))
}

/// Seals the signing secrets an older version stored in plain text (run at start,
/// before the webhook lane sends anything); returns how many were sealed. A row
/// changed meanwhile is left to the next start.
pub async fn seal_stored_webhook_secrets(store: &Store, seal: &SealKey) -> Result<usize> {
    let mut n = 0;
    for (id, plain) in store.plain_webhook_secrets().await? {
        if store
            .replace_webhook_secret(id, &plain, &seal.seal_tagged(&plain))
            .await?
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Ends a subscription (admins of its project only).
pub async fn delete_webhook(store: &Store, actor: &Actor, id: i64) -> Result<()> {
    let pid = store.webhook_project(id).await?;
    actor.require(Right::Admin, Some(pid))?;
    store.delete_webhook_row(id).await
}

/// A project's subscriptions (admins only: the list reveals where data goes).
pub async fn list_webhooks(store: &Store, actor: &Actor, project: &str) -> Result<Vec<Webhook>> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    store.webhooks_of(p.id, &p.slug).await
}

/// The delivery log of a project's subscriptions, newest first (admins only).
pub async fn list_deliveries(store: &Store, actor: &Actor, project: &str) -> Result<Vec<Delivery>> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    store.deliveries_of(p.id).await
}

/// The body of one delivery: reads the project and the event's alert group (a group
/// deleted since renders without it), then renders (pure).
pub(crate) async fn render_delivery(
    store: &Store,
    project_id: i64,
    format: &str,
    event: &Event,
    base: &str,
) -> Result<String> {
    let slug = store.project_slug_of(project_id).await?;
    let group = match event {
        Event::GroupCreated { group_id } | Event::StateChanged { group_id, .. } => {
            match store.alert_group(*group_id).await {
                Ok(g) => Some(g),
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e),
            }
        }
        Event::ComparisonFinished { .. } => None,
    };
    let doc = render_event(&slug, format, event, group.as_ref(), base);
    Ok(doc.to_string())
}

/// The message of one event in a subscription's format (pure): `json`, the generic
/// document; `slack`, `{text, blocks}` for a Slack incoming webhook.
pub fn render_event(
    slug: &str,
    format: &str,
    event: &Event,
    group: Option<&AlertGroupView>,
    base: &str,
) -> serde_json::Value {
    let summary = group.map(|g| group_summary(g, base));
    let abs = |p: &str| format!("{base}{p}");
    let headline = match event {
        Event::GroupCreated { .. } => "New alert group".to_string(),
        Event::StateChanged { from, to, actor, .. } => {
            format!("Alert group {} → {} by {actor}", from.as_str(), to.as_str())
        }
        Event::ComparisonFinished {
            branch,
            head_sha,
            regressions,
            improvements,
            geomean_pct,
            ..
        } => format!(
            "[{slug}] Comparison finished for {}{}: {regressions} regressions, {improvements} improvements{}",
            branch.as_deref().map(|b| format!("{b} @ ")).unwrap_or_default(),
            head_sha.chars().take(10).collect::<String>(),
            geomean_pct
                .map(|g| format!(", geomean {g:+.2}%"))
                .unwrap_or_default()
        ),
    };
    let comparison = match event {
        Event::ComparisonFinished {
            top_regressions,
            top_improvements,
            compare_path,
            run_path,
            ..
        } => {
            let rows = |rs: &[ChangeRow]| {
                rs.iter()
                    .map(|r| {
                        json!({
                            "series_id": r.series_id,
                            "benchmark": r.benchmark,
                            "params": r.params,
                            "measure": r.measure,
                            "testbed": r.testbed,
                            "unit": r.unit,
                            "change_pct": r.change_pct,
                            "base_median": r.base_median,
                            "head_median": r.head_median,
                            "p_value": r.p_value,
                            "p_adjusted": r.p_adjusted,
                            "confidence": r.p_value.map(|p| 1.0 - p),
                            "chart_url": abs(&format!("/series/{}", r.series_id)),
                            "chart_image_url": chart_image_url(base, r.series_id),
                        })
                    })
                    .collect::<Vec<_>>()
            };
            Some(json!({
                "regressions": rows(top_regressions),
                "improvements": rows(top_improvements),
                "compare_url": compare_path.as_deref().map(abs),
                "run_url": abs(run_path),
            }))
        }
        _ => None,
    };
    if format == "slack" {
        return slack_message(&headline, event, group, summary.as_ref(), base);
    }
    let text = match (&summary, event) {
        (Some(s), _) => format!("{headline}\n{}", s.body),
        (None, Event::ComparisonFinished { .. }) => {
            format!("{headline}\n{}", comparison_body(event, base))
        }
        (None, _) => headline.clone(),
    };
    json!({
        "event": event.name(),
        "project": slug,
        "headline": headline,
        "text": text,
        "detail": event,
        "summary": summary,
        "comparison": comparison,
        "alerts": group.map(|g| g.alerts.iter().map(|a| json!({
            "id": a.id,
            "benchmark": a.series.benchmark,
            "measure": a.series.measure,
            "testbed": a.series.testbed,
            "direction": a.direction,
            "change_pct": a.change_pct(),
            "before": a.before_median,
            "after": a.after_median,
            "unit": a.series.display_unit,
            "p_value": a.p_value,
            "confidence": a.p_value.map(|p| 1.0 - p),
            "chart_url": format!("{base}/series/{}", a.series.id),
            "chart_image_url": chart_image_url(base, a.series.id),
            "compare_url": alert_compare_url(base, slug, a),
            "suspect_commits": a.suspect_commits.iter().map(|c| json!({"sha": c.sha, "url": c.url})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()),
        "state": group.map(|g| g.triage.state),
    })
}

/// Last good commit vs first bad commit of an alert, when both are known.
fn alert_compare_url(
    base: &str,
    slug: &str,
    a: &perfwatch_core::alerts::AlertView,
) -> Option<String> {
    let good = a.last_good.as_ref()?.sha.clone()?;
    let bad = a.first_bad.sha.clone()?;
    Some(format!(
        "{base}/projects/{slug}/compare?base=commit:{good}&head=commit:{bad}"
    ))
}

fn fmt_change(r: &ChangeRow) -> String {
    format!(
        "{}{} / {} on {}: {} ({} → {} {}), p = {}",
        r.benchmark,
        if r.params.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.params)
        },
        r.measure,
        r.testbed,
        r.change_pct
            .map(|c| format!("{c:+.2}%"))
            .unwrap_or_else(|| "?".into()),
        r.base_median.map(fmt_num).unwrap_or_else(|| "?".into()),
        r.head_median.map(fmt_num).unwrap_or_else(|| "?".into()),
        r.unit,
        r.p_value
            .map(|p| format!("{p:.1e}"))
            .unwrap_or_else(|| "?".into()),
    )
}

/// Plain-text body of a `comparison.finished` event, absolute links included.
fn comparison_body(event: &Event, base: &str) -> String {
    let Event::ComparisonFinished {
        head_sha,
        head_url,
        base: base_desc,
        total,
        regressions,
        improvements,
        unchanged,
        inconclusive,
        top_regressions,
        top_improvements,
        compare_path,
        run_path,
        ..
    } = event
    else {
        return String::new();
    };
    let mut b = format!(
        "Head: {}{}\nBase: {base_desc}\n{total} series: {regressions} regressions, {improvements} improvements, {unchanged} unchanged, {inconclusive} inconclusive\n",
        head_sha,
        head_url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default()
    );
    for (label, rows) in [
        ("Regressions", top_regressions),
        ("Improvements", top_improvements),
    ] {
        if !rows.is_empty() {
            b.push_str(&format!("\n{label}:\n"));
            for r in rows {
                b.push_str(&format!(
                    "- {} — chart {}\n",
                    fmt_change(r),
                    chart_image_url(base, r.series_id)
                ));
            }
        }
    }
    b.push('\n');
    if let Some(p) = compare_path {
        b.push_str(&format!("Compare: {base}{p}\n"));
    }
    b.push_str(&format!("Run: {base}{run_path}\n"));
    b
}

/// Escapes `&`, `<`, `>` for Slack's mrkdwn.
fn slack_esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn slack_link(url: &str, label: &str) -> String {
    format!("<{}|{}>", url.replace('|', "%7C"), slack_esc(label))
}

/// A section block's text is limited to 3000 characters.
fn slack_section(text: String) -> serde_json::Value {
    let text = if text.chars().count() > 2900 {
        let mut t: String = text.chars().take(2900).collect();
        t.push('…');
        t
    } else {
        text
    };
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// Slack's incoming-webhook shape: `text` (the fallback, also used by notifications)
/// and `blocks` (mrkdwn sections with `<url|label>` links).
fn slack_message(
    headline: &str,
    event: &Event,
    group: Option<&AlertGroupView>,
    summary: Option<&GroupSummary>,
    base: &str,
) -> serde_json::Value {
    let mut blocks = vec![slack_section(format!("*{}*", slack_esc(headline)))];
    let mut links: Vec<(String, String)> = vec![];
    let text;
    if let (Some(g), Some(s)) = (group, summary) {
        text = format!("{headline}\n{}", s.body);
        let mut body = format!(
            "*{}* — state {}\n",
            slack_esc(&s.title),
            g.triage.state.as_str()
        );
        for a in g.alerts.iter().take(10) {
            body.push_str(&format!(
                "• {} / {} on {}: {} *{:+.2}%* ({} → {} {}), confidence {}\n",
                slack_esc(&a.series.benchmark),
                slack_esc(&a.series.measure),
                slack_esc(&a.series.testbed),
                a.direction.as_str(),
                a.change_pct(),
                fmt_num(a.before_median),
                fmt_num(a.after_median),
                slack_esc(&a.series.display_unit),
                match a.p_value {
                    Some(p) => format!("{:.2}% (p = {p:.1e})", (1.0 - p) * 100.0),
                    None => "threshold breach".into(),
                }
            ));
        }
        if g.alerts.len() > 10 {
            body.push_str(&format!("• … {} more\n", g.alerts.len() - 10));
        }
        blocks.push(slack_section(body));
        if let Some(a) = g.alerts.first() {
            if !a.suspect_commits.is_empty() {
                let mut sus = format!("*Suspect commits* ({}):\n", a.suspect_total);
                for c in a.suspect_commits.iter().take(10) {
                    let short: String = c.sha.chars().take(10).collect();
                    let msg = c
                        .message
                        .as_deref()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("");
                    let id = match &c.url {
                        Some(u) => slack_link(u, &short),
                        None => format!("`{short}`"),
                    };
                    sus.push_str(&format!("• {id} {}\n", slack_esc(msg)));
                }
                blocks.push(slack_section(sus));
            }
        }
        for (label, url) in [
            ("Chart", &s.chart_url),
            ("Chart image", &s.chart_image_url),
            ("Compare", &s.compare_url),
        ] {
            if let Some(u) = url {
                links.push((label.into(), u.clone()));
            }
        }
        links.push(("Triage".into(), s.triage_url.clone()));
    } else if let Event::ComparisonFinished {
        head_sha,
        head_url,
        base: base_desc,
        total,
        regressions,
        improvements,
        unchanged,
        inconclusive,
        top_regressions,
        top_improvements,
        compare_path,
        run_path,
        ..
    } = event
    {
        text = format!("{headline}\n{}", comparison_body(event, base));
        let short: String = head_sha.chars().take(10).collect();
        blocks.push(slack_section(format!(
            "Head: {}\nBase: {}\n{total} series: *{regressions}* regressions, *{improvements}* improvements, {unchanged} unchanged, {inconclusive} inconclusive",
            match head_url {
                Some(u) => slack_link(u, &short),
                None => format!("`{short}`"),
            },
            slack_esc(base_desc)
        )));
        for (label, rows) in [
            ("Regressions", top_regressions),
            ("Improvements", top_improvements),
        ] {
            if !rows.is_empty() {
                let mut b = format!("*{label}*:\n");
                for r in rows.iter() {
                    b.push_str(&format!(
                        "• {} ({})\n",
                        slack_esc(&fmt_change(r)),
                        slack_link(&chart_image_url(base, r.series_id), "chart")
                    ));
                }
                blocks.push(slack_section(b));
            }
        }
        if let Some(p) = compare_path {
            links.push(("Compare".into(), format!("{base}{p}")));
        }
        links.push(("Run".into(), format!("{base}{run_path}")));
    } else {
        text = headline.to_string();
    }
    if !links.is_empty() {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": links
                .iter()
                .map(|(l, u)| slack_link(u, l))
                .collect::<Vec<_>>()
                .join(" · ")}],
        }));
    }
    json!({ "text": text, "blocks": blocks })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
