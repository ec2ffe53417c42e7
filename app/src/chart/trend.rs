//! The trend chart component: SVG drawn on the server, interactive after hydration
//! (hover tooltip, click a point to open its run, drag to zoom into a range that is
//! written to the URL).

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use perfwatch_core::chart::{ChartLine, ChartPoint, ChartQuery, SeriesChart, XMode};

use super::labels::{lanes_used, layout, LANE_H};
use super::scale::{nearest, nice_ticks, Frame, BOTTOM, HEIGHT, RIGHT, TICK_GAP, WIDTH};
use super::time_ticks::time_ticks;
use crate::format::{datetime, format_value, pct, short_sha, sig};

pub const COLORS: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];

/// SVG coordinates of a mouse event on the chart's `<svg>` (scaled to the viewBox).
fn svg_pos(ev: &web_sys::MouseEvent) -> Option<(f64, f64)> {
    use wasm_bindgen::JsCast;
    let el = ev.current_target()?.dyn_into::<web_sys::Element>().ok()?;
    let r = el.get_bounding_client_rect();
    if r.width() <= 0.0 {
        return None;
    }
    let k = WIDTH / r.width();
    Some((
        (ev.client_x() as f64 - r.left()) * k,
        (ev.client_y() as f64 - r.top()) * k,
    ))
}

/// The point nearest to an SVG position, as (line, point) indices.
fn hit(lines: &[ChartLine], frame: &Frame, sx: f64, sy: f64) -> Option<(usize, usize)> {
    let x = frame.x_at(sx);
    lines
        .iter()
        .enumerate()
        .filter_map(|(li, l)| {
            let pi = nearest(&l.points, x)?;
            let p = &l.points[pi];
            let d = (frame.px(p.x) - sx).hypot(frame.py(p.y) - sy);
            Some((li, pi, d))
        })
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(li, pi, _)| (li, pi))
}

/// The points that make up the line: invalid runs are drawn apart, as hollow grey
/// markers, since detection and comparisons leave them out of the series.
fn valid(l: &ChartLine) -> impl DoubleEndedIterator<Item = &ChartPoint> + Clone {
    l.points.iter().filter(|p| p.invalid.is_none())
}

fn band_path(l: &ChartLine, f: &Frame) -> String {
    let mut d = String::new();
    for (i, p) in valid(l).enumerate() {
        d.push_str(&format!(
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            f.px(p.x),
            f.py(p.hi)
        ));
    }
    for p in valid(l).rev() {
        d.push_str(&format!("L{:.1},{:.1} ", f.px(p.x), f.py(p.lo)));
    }
    if !d.is_empty() {
        d.push('Z');
    }
    d
}

/// The seasonal band as a closed path, clamped to the plot (the frame is fitted to the
/// observed points; the band may reach beyond them).
fn expected_path(band: &[(f64, f64, f64)], f: &Frame) -> String {
    if band.is_empty() {
        return String::new();
    }
    let y = |v: f64| f.py(v.clamp(f.y0, f.y1));
    let mut d = String::new();
    for (i, (x, _, hi)) in band.iter().enumerate() {
        let op = if i == 0 { "M" } else { "L" };
        d.push_str(&format!("{op}{:.1},{:.1} ", f.px(*x), y(*hi)));
    }
    for (x, lo, _) in band.iter().rev() {
        d.push_str(&format!("L{:.1},{:.1} ", f.px(*x), y(*lo)));
    }
    d.push('Z');
    d
}

fn polyline(l: &ChartLine, f: &Frame) -> String {
    valid(l)
        .map(|p| format!("{:.1},{:.1}", f.px(p.x), f.py(p.y)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[allow(
    clippy::too_many_lines,
    reason = "one view whose signals, pointer handlers and markup share scope; splitting it into child components is still open (issue 10 item 8)"
)]
#[component]
pub fn TrendChart(
    chart: SeriesChart,
    /// The seasonal expected band of a production series: (x, low, high).
    #[prop(optional)]
    expected: Vec<(f64, f64, f64)>,
) -> impl IntoView {
    let unit = chart.series.unit.clone();
    let fitted = Frame::fit(&chart.lines, chart.query.log);
    let y_ticks = fitted.y_ticks();
    let y_labels: Vec<String> = y_ticks.iter().map(|v| format_value(*v, &unit)).collect();
    // Margins: left from the widest y label, top from the marker label lanes (which
    // need the final x scale, and that does not depend on the top margin).
    let wide = fitted.with_margins(&y_labels, 1);
    let shown_markers: Vec<_> = chart
        .markers
        .iter()
        .filter(|m| m.x >= wide.x0 && m.x <= wide.x1)
        .cloned()
        .collect();
    let marker_xs: Vec<f64> = shown_markers.iter().map(|m| wide.px(m.x)).collect();
    let marker_names: Vec<String> = shown_markers.iter().map(|m| m.name.clone()).collect();
    let placed = layout(&marker_xs, &marker_names, WIDTH - 2.0);
    let frame = fitted.with_margins(&y_labels, lanes_used(&placed));
    let x_mode = chart.x_mode;
    let series_id = chart.series.id;
    let query = chart.query.clone();
    let lines = StoredValue::new(chart.lines.clone());
    let hover = RwSignal::new(None::<(usize, usize)>);
    let drag = RwSignal::new(None::<(f64, f64)>);
    let navigate = use_navigate();
    // Effects run only in the browser, after this view is hydrated or mounted.
    Effect::new(|_| crate::marks::mark(crate::marks::CHART_INTERACTIVE));

    let x_ticks: Vec<(f64, String)> = match x_mode {
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

    let on_move = move |ev: web_sys::MouseEvent| {
        if let Some((sx, sy)) = svg_pos(&ev) {
            hover.set(lines.with_value(|l| hit(l, &frame, sx, sy)));
            drag.update(|d| {
                if let Some((_, end)) = d {
                    *end = sx;
                }
            });
        }
    };
    let on_down = move |ev: web_sys::MouseEvent| {
        if let Some((sx, _)) = svg_pos(&ev) {
            drag.set(Some((sx, sx)));
        }
    };
    let on_up = move |ev: web_sys::MouseEvent| {
        let Some((start, _)) = drag.get_untracked() else {
            return;
        };
        drag.set(None);
        let end = svg_pos(&ev).map(|p| p.0).unwrap_or(start);
        if (end - start).abs() < 6.0 {
            // A click: open the run of the nearest point.
            if let Some((li, pi)) = hover.get_untracked() {
                let run = lines.with_value(|l| l[li].points[pi].run_id);
                // Run id 0: an hourly rollup of a production series, no run behind it.
                if run > 0 {
                    navigate(&format!("/runs/{run}"), Default::default());
                }
            }
            return;
        }
        let (a, b) = (frame.x_at(start.min(end)), frame.x_at(start.max(end)));
        let (a, b) = match x_mode {
            XMode::Commit => (a.floor(), b.ceil()),
            XMode::Time => (a.round(), b.round()),
        };
        let q = ChartQuery {
            from: Some(a),
            to: Some(b),
            ..query.clone()
        };
        navigate(
            &format!("/series/{series_id}?{}", q.to_query_string()),
            Default::default(),
        );
    };

    let tooltip_unit = unit.clone();
    let tooltip = move || {
        hover.get().map(|(li, pi)| {
            let (p, label) = lines.with_value(|l| (l[li].points[pi].clone(), l[li].label.clone()));
            let left = frame.px(p.x) / WIDTH * 100.0;
            let top = frame.py(p.y) / HEIGHT * 100.0;
            let flip = if left > 70.0 { "translate(-105%, -50%)" } else { "translate(12px, -50%)" };
            view! {
                <div class="tooltip" data-testid="chart-tooltip"
                    style=format!("left:{left:.2}%;top:{top:.2}%;transform:{flip}")>
                    <div class="tt-value">{format_value(p.y, &tooltip_unit)}</div>
                    <div>{p.sha.as_deref().map(short_sha).unwrap_or_else(|| "no commit".into())}</div>
                    <div>{datetime(p.time)}</div>
                    <div>{format!("n = {} · min {} · max {}", p.n, sig(p.lo), sig(p.hi))}</div>
                    {p.invalid.clone().map(|why| view! {
                        <div class="tt-invalid" data-testid="tooltip-invalid">{format!("Invalid run: {why}")}</div>
                    })}
                    <div class="tt-line">{label}</div>
                </div>
            }
        })
    };
    let hover_dot = move || {
        hover.get().map(|(li, pi)| {
            let p = lines.with_value(|l| l[li].points[pi].clone());
            view! { <circle class="hover-dot" cx=format!("{:.1}", frame.px(p.x)) cy=format!("{:.1}", frame.py(p.y)) r="5" /> }
        })
    };
    let selection = move || {
        drag.get().filter(|(a, b)| (a - b).abs() >= 2.0).map(|(a, b)| {
            view! {
                <rect class="selection" x=format!("{:.1}", a.min(b)) y=frame.top width=format!("{:.1}", (a - b).abs())
                    height=HEIGHT - frame.top - BOTTOM />
            }
        })
    };

    let grid = y_ticks
        .iter()
        .zip(y_labels)
        .map(|(v, label)| {
            let y = frame.py(*v);
            view! {
                <line class="grid" x1=frame.left x2=WIDTH - RIGHT y1=y y2=y />
                <text class="tick y-tick" x=frame.left - TICK_GAP y=y + 4.0 text-anchor="end">{label}</text>
            }
        })
        .collect_view();
    let xaxis = x_ticks
        .into_iter()
        .map(|(v, label)| {
            let x = frame.px(v);
            view! {
                <line class="axis" x1=x x2=x y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM + 5.0 />
                <text class="tick x-tick" x=x y=HEIGHT - BOTTOM + 18.0 text-anchor="middle">{label}</text>
            }
        })
        .collect_view();
    // Every marker keeps its line and its full name as a tooltip; its label is drawn
    // where the lane layout found room (truncated with "…" when crowded).
    let mut label_of: Vec<Option<super::labels::PlacedLabel>> = vec![None; shown_markers.len()];
    for p in placed {
        let i = p.index;
        label_of[i] = Some(p);
    }
    let markers = shown_markers
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
        .collect_view();
    // Alerts: a triangle at the change (pointing up for a rise, down for a fall),
    // coloured by triage state (untriaged: red or green by direction; acknowledged:
    // amber; fixed, won't fix, expected: grey; invalid: hollow), linking to the group.
    let alert_marks = chart
        .alerts
        .iter()
        .filter(|a| a.x >= frame.x0 && a.x <= frame.x1)
        .map(|a| {
            let x = frame.px(a.x);
            let y = frame.top + 8.0;
            let d = if a.relative_change >= 0.0 {
                format!(
                    "M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
                    x,
                    y - 6.0,
                    x - 6.0,
                    y + 5.0,
                    x + 6.0,
                    y + 5.0
                )
            } else {
                format!(
                    "M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
                    x,
                    y + 6.0,
                    x - 6.0,
                    y - 5.0,
                    x + 6.0,
                    y - 5.0
                )
            };
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
        .collect_view();
    // Rings around the points of highlighted runs (a comparison's base and head).
    let rings = chart
        .lines
        .iter()
        .flat_map(|l| l.points.iter())
        .filter(|p| chart.query.highlight.contains(&p.run_id))
        .map(|p| {
            view! {
                <circle class="highlight" data-run=p.run_id cx=format!("{:.1}", frame.px(p.x))
                    cy=format!("{:.1}", frame.py(p.y)) r="6" />
            }
        })
        .collect_view();
    let series_views = chart
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let color = COLORS[i % COLORS.len()];
            let dots = (l.points.len() <= 300).then(|| {
                valid(l)
                    .map(|p| view! { <circle class="pt" cx=format!("{:.1}", frame.px(p.x)) cy=format!("{:.1}", frame.py(p.y)) r="2.5" fill=color /> })
                    .collect_view()
            });
            // Invalid runs: always drawn (they are few), hollow and grey, with the
            // reason as the marker's title.
            let invalid = l
                .points
                .iter()
                .filter_map(|p| p.invalid.as_ref().map(|why| (p, why)))
                .map(|(p, why)| view! {
                    <circle class="pt-invalid" data-testid="invalid-point" data-run=p.run_id data-reason=why.clone()
                        cx=format!("{:.1}", frame.px(p.x)) cy=format!("{:.1}", frame.py(p.y)) r="4"
                        fill="#ffffff" stroke="#9ca3af" stroke-width="1.8">
                        <title>{format!("Run {} is invalid: {why}", p.run_id)}</title>
                    </circle>
                })
                .collect_view();
            view! {
                <g class="line" data-series=l.series_id>
                    <path class="band" d=band_path(l, &frame) fill=color />
                    <polyline class="median" points=polyline(l, &frame) stroke=color />
                    {dots}
                    {invalid}
                </g>
            }
        })
        .collect_view();
    let legend = chart
        .lines
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
        .collect_view();
    let log_note = (chart.query.log && !frame.log)
        .then(|| view! { <p class="note">"Log scale needs positive values; shown linear."</p> });

    view! {
        <div class="chart" data-testid="trend-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="trend" role="img"
                aria-label=format!("Trend of {}", chart.series.label())
                on:mousemove=on_move on:mousedown=on_down on:mouseup=on_up
                on:mouseleave=move |_| hover.set(None)>
                {grid}
                <line class="axis" x1=frame.left x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM />
                {xaxis}
                {markers}
                {alert_marks}
                {(!expected.is_empty()).then(|| view! { <path class="seasonal-band" d=expected_path(&expected, &frame) /> })}
                {series_views}
                {rings}
                {hover_dot}
                {selection}
            </svg>
            {tooltip}
        </div>
        <div class="legend">{legend}</div>
        {log_note}
    }
}
