//! Rendering a stored event into the subscription's format when it is sent: the
//! event's digest (`summary.rs`) through the core's Markdown, Slack and JSON renderers.

use perfwatch_core::alerts::AlertGroupView;
use perfwatch_core::digest::{slack_escape, to_json, to_markdown, to_slack, Change, Digest};
use serde_json::json;

use super::events::{chart_image_url, Event};
use super::summary::{alert_compare_url, comparison_digest, group_digest};
use crate::error::{Result, StoreError};
use crate::Store;

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

/// What happened, one line: the first thing a reader sees above the digest.
fn headline(slug: &str, event: &Event) -> String {
    match event {
        Event::GroupCreated { .. } => "New alert group".to_string(),
        Event::StateChanged {
            from, to, actor, ..
        } => {
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
            branch
                .as_deref()
                .map(|b| format!("{b} @ "))
                .unwrap_or_default(),
            head_sha.chars().take(10).collect::<String>(),
            geomean_pct
                .map(|g| format!(", geomean {g:+.2}%"))
                .unwrap_or_default()
        ),
    }
}

/// One change of a comparison as the `comparison` object of the JSON payload lists it.
fn change_json(c: &Change) -> serde_json::Value {
    let p = c.confidence.p_value();
    json!({
        "series_id": c.series_id,
        "benchmark": c.benchmark,
        "params": c.params,
        "measure": c.measure,
        "testbed": c.testbed,
        "unit": c.unit,
        "change_pct": c.change_pct,
        "base_median": c.before,
        "head_median": c.after,
        "p_value": p,
        "p_adjusted": c.p_adjusted,
        "confidence": p.map(|p| 1.0 - p),
        "chart_url": c.chart_url,
        "chart_image_url": c.chart_image_url,
    })
}

/// The `comparison` object: the digest's two sections and its links.
fn comparison_json(d: &Digest) -> serde_json::Value {
    let rows = |i: usize| {
        d.sections
            .get(i)
            .map(|s| s.changes.iter().map(change_json).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    use perfwatch_core::digest::LinkKind;
    json!({
        "regressions": rows(0),
        "improvements": rows(1),
        "compare_url": d.link(LinkKind::Compare),
        "run_url": d.link(LinkKind::Run),
    })
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
    let digest = match event {
        Event::ComparisonFinished { .. } => comparison_digest(slug, event, base),
        _ => group.map(|g| group_digest(g, base)),
    };
    let headline = headline(slug, event);
    if format == "slack" {
        return match &digest {
            Some(d) => to_slack(d, &headline),
            None => json!({
                "text": slack_escape(&headline),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", slack_escape(&headline))}}],
            }),
        };
    }
    let text = match &digest {
        Some(d) => format!("{headline}\n{}", to_markdown(d)),
        None => headline.clone(),
    };
    let comparison = match event {
        Event::ComparisonFinished { .. } => digest.as_ref().map(comparison_json),
        _ => None,
    };
    json!({
        "event": event.name(),
        "project": slug,
        "headline": headline,
        "text": text,
        "detail": event,
        "summary": digest.as_ref().map(to_json),
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
