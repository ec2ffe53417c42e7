//! Rendering a stored event into the subscription's format when it is sent.

use perfwatch_core::alerts::AlertGroupView;
use serde_json::json;

use super::events::{chart_image_url, fmt_num, ChangeRow, Event};
use super::slack::slack_message;
use super::summary::group_summary;
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
pub(super) fn alert_compare_url(
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

pub(super) fn fmt_change(r: &ChangeRow) -> String {
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
pub(super) fn comparison_body(event: &Event, base: &str) -> String {
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
