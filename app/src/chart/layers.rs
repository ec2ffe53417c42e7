//! The static layers of the trend chart's SVG, drawn the same on the server and in
//! the browser: grid and axes, release markers, alert marks, highlight rings, the
//! lines themselves, and the legend under the chart.

use leptos::prelude::*;
use perfwatch_core::alerts::ChartAlert;
use perfwatch_core::chart::{ChartLine, ChartMarker, XMode};

use super::labels::{PlacedLabel, LANE_H};
use super::paths::{alert_triangle, band_path, polyline, valid};
use super::scale::{nice_ticks, Frame, BOTTOM, HEIGHT, RIGHT, TICK_GAP, WIDTH};
use super::time_ticks::time_ticks;
use crate::format::pct;

pub const COLORS: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// Horizontal grid lines with their y labels.
pub fn y_grid(frame: Frame, ticks: &[f64], labels: Vec<String>) -> impl IntoView {
    ticks
        .iter()
        .zip(labels)
        .map(|(v, label)| {
            let y = frame.py(*v);
            view! {
                <line class="grid" x1=frame.left x2=WIDTH - RIGHT y1=y y2=y />
                <text class="tick y-tick" x=frame.left - TICK_GAP y=y + 4.0 text-anchor="end">{label}</text>
            }
        })
        .collect_view()
}

/// The x axis's ticks and labels: whole commit numbers, or calendar times.
pub fn x_axis(frame: Frame, x_mode: XMode) -> impl IntoView {
    let ticks: Vec<(f64, String)> = match x_mode {
        XMode::Commit => nice_ticks(frame.x0, frame.x1, 8)
            .into_iter()
            .filter(|v| v.fract() == 0.0)
            .map(|v| (v, format!("{}", v as i64)))
            .collect(),
        XMode::Time => time_ticks(frame.x0 as i64, frame.x1 as i64, 7)
            .into_iter()
            .map(|(t, l)| (t as f64, l))
            .collect(),
    };
    ticks
        .into_iter()
        .map(|(v, label)| {
            let x = frame.px(v);
            view! {
                <line class="axis" x1=x x2=x y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM + 5.0 />
                <text class="tick x-tick" x=x y=HEIGHT - BOTTOM + 18.0 text-anchor="middle">{label}</text>
            }
        })
        .collect_view()
}

/// Release and annotation markers. Every marker keeps its line and its full name as a
/// tooltip; its label is drawn where the lane layout found room (truncated with "…"
/// when crowded).
pub fn marker_layer(
    frame: Frame,
    shown: &[ChartMarker],
    placed: Vec<PlacedLabel>,
) -> impl IntoView {
    let mut label_of: Vec<Option<PlacedLabel>> = vec![None; shown.len()];
    for p in placed {
        let i = p.index;
        label_of[i] = Some(p);
    }
    shown
        .iter()
        .zip(label_of)
        .map(|(m, label)| {
            let x = frame.px(m.x);
            let text = label.map(|l| {
                // Lane 0 sits right above the plot; further lanes stack upwards.
                let y = frame.top - 8.0 - l.lane as f64 * LANE_H;
                view! {
                    <text class="marker-label" x=format!("{:.1}", l.x) y=format!("{y:.1}")
                        data-lane=l.lane data-truncated=l.truncated.to_string()>{l.text}</text>
                }
            });
            view! {
                <g class=format!("marker marker-{}", m.kind) data-marker=m.name.clone()>
                    <title>{format!("{} ({})", m.name, m.kind)}</title>
                    <line x1=x x2=x y1=frame.top y2=HEIGHT - BOTTOM />
                    {text}
                </g>
            }
        })
        .collect_view()
}

/// Alerts in the visible range: a triangle at the change (pointing up for a rise,
/// down for a fall), coloured by triage state (untriaged: red or green by direction;
/// acknowledged: amber; fixed, won't fix, expected: grey; invalid: hollow), linking
/// to the group.
pub fn alert_layer(frame: Frame, alerts: &[ChartAlert]) -> impl IntoView {
    alerts
        .iter()
        .filter(|a| a.x >= frame.x0 && a.x <= frame.x1)
        .map(|a| {
            let x = frame.px(a.x);
            let y = frame.top + 8.0;
            let d = alert_triangle(x, y, a.relative_change >= 0.0);
            let title = format!(
                "{} {} ({}) · {}",
                a.direction.as_str(),
                pct(a.relative_change * 100.0),
                a.kind.as_str(),
                a.state.label()
            );
            let href = a
                .group_id
                .map(|g| format!("/alerts/groups/{g}"))
                .unwrap_or_else(|| "/alerts".into());
            view! {
                <a href=href class=format!("alert-mark {} state-{}", a.direction.as_str(), a.state.as_str())
                    data-alert=a.id data-state=a.state.as_str()>
                    <line x1=x x2=x y1=y y2=HEIGHT - BOTTOM />
                    <path d=d><title>{title}</title></path>
                </a>
            }
        })
        .collect_view()
}

/// Rings around the points of highlighted runs (a comparison's base and head).
pub fn highlight_rings(frame: Frame, lines: &[ChartLine], runs: &[i64]) -> impl IntoView {
    lines
        .iter()
        .flat_map(|l| l.points.iter())
        .filter(|p| runs.contains(&p.run_id))
        .map(|p| {
            view! {
                <circle class="highlight" data-run=p.run_id cx=format!("{:.1}", frame.px(p.x))
                    cy=format!("{:.1}", frame.py(p.y)) r="6" />
            }
        })
        .collect_view()
}

/// Each line: its band, its median polyline, dots when it has few points, and its
/// invalid runs.
pub fn line_layer(frame: Frame, lines: &[ChartLine]) -> impl IntoView {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let color = COLORS[i % COLORS.len()];
            let dots = (l.points.len() <= 300).then(|| {
                valid(l)
                    .map(|p| view! { <circle class="pt" cx=format!("{:.1}", frame.px(p.x)) cy=format!("{:.1}", frame.py(p.y)) r="2.5" fill=color /> })
                    .collect_view()
            });
            view! {
                <g class="line" data-series=l.series_id>
                    <path class="band" d=band_path(l, &frame) fill=color />
                    <polyline class="median" points=polyline(l, &frame) stroke=color />
                    {dots}
                    {invalid_points(frame, l)}
                </g>
            }
        })
        .collect_view()
}

/// Invalid runs: always drawn (they are few), hollow and grey, with the reason as the
/// marker's title.
fn invalid_points(frame: Frame, l: &ChartLine) -> impl IntoView {
    l.points
        .iter()
        .filter_map(|p| p.invalid.as_ref().map(|why| (p, why)))
        .map(|(p, why)| view! {
            <circle class="pt-invalid" data-testid="invalid-point" data-run=p.run_id data-reason=why.clone()
                cx=format!("{:.1}", frame.px(p.x)) cy=format!("{:.1}", frame.py(p.y)) r="4"
                fill="#ffffff" stroke="#9ca3af" stroke-width="1.8">
                <title>{format!("Run {} is invalid: {why}", p.run_id)}</title>
            </circle>
        })
        .collect_view()
}

/// One legend entry per line: its colour, label, how many points it has (and how many
/// are drawn) and how many invalid runs.
pub fn legend(lines: &[ChartLine]) -> impl IntoView {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let shown = if l.points.len() < l.total_points {
                format!(" ({} of {} points shown, spikes kept)", l.points.len(), l.total_points)
            } else {
                format!(" ({} points)", l.total_points)
            };
            let invalid = l.points.iter().filter(|p| p.invalid.is_some()).count();
            let invalid = (invalid > 0).then(|| view! {
                <span class="legend-invalid" data-testid="legend-invalid">
                    {format!(" · {invalid} invalid run{} (hollow grey, not on the line)", if invalid == 1 { "" } else { "s" })}
                </span>
            });
            view! {
                <span class="legend-item">
                    <span class="swatch" style=format!("background:{}", COLORS[i % COLORS.len()])></span>
                    {l.label.clone()}{shown}{invalid}
                </span>
            }
        })
        .collect_view()
}
