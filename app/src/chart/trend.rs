//! The trend chart island: SVG drawn on the server, interactive after the island
//! hydrates (hover tooltip, click a point to open its run, drag to zoom into a range
//! that is written to the URL). Its props (the chart data) ride in the page as JSON. The layers are drawn in `layers.rs`, the pointer handled in
//! `pointer.rs`.

use leptos::prelude::*;
use perfwatch_core::chart::{ChartMarker, SeriesChart};

use super::labels::{lanes_used, layout, PlacedLabel};
use super::layers::{
    alert_layer, highlight_rings, legend, line_layer, marker_layer, x_axis, y_grid,
};
use super::paths::expected_path;
use super::pointer::{hover_dot, selection, tooltip, Pointer, ZoomTarget};
use super::scale::{Frame, BOTTOM, HEIGHT, RIGHT, WIDTH};
use crate::format::format_value;

/// The chart's geometry: the frame with its margins, the y ticks and their labels,
/// and the markers in range with where their labels go.
struct Layout {
    frame: Frame,
    y_ticks: Vec<f64>,
    y_labels: Vec<String>,
    markers: Vec<ChartMarker>,
    placed: Vec<PlacedLabel>,
}

impl Layout {
    fn of(chart: &SeriesChart) -> Self {
        let fitted = Frame::fit(&chart.lines, chart.query.log);
        let y_ticks = fitted.y_ticks();
        let y_labels: Vec<String> = y_ticks
            .iter()
            .map(|v| format_value(*v, &chart.series.unit))
            .collect();
        // Margins: left from the widest y label, top from the marker label lanes
        // (which need the final x scale, and that does not depend on the top margin).
        let wide = fitted.with_margins(&y_labels, 1);
        let markers: Vec<ChartMarker> = chart
            .markers
            .iter()
            .filter(|m| m.x >= wide.x0 && m.x <= wide.x1)
            .cloned()
            .collect();
        let marker_xs: Vec<f64> = markers.iter().map(|m| wide.px(m.x)).collect();
        let marker_names: Vec<String> = markers.iter().map(|m| m.name.clone()).collect();
        let placed = layout(&marker_xs, &marker_names, WIDTH - 2.0);
        let frame = fitted.with_margins(&y_labels, lanes_used(&placed));
        Self {
            frame,
            y_ticks,
            y_labels,
            markers,
            placed,
        }
    }
}

#[island]
pub fn TrendChart(
    chart: SeriesChart,
    /// The seasonal expected band of a production series: (x, low, high); empty for
    /// none (islands take every prop from the page's JSON, so it is not optional).
    expected: Vec<(f64, f64, f64)>,
) -> impl IntoView {
    let Layout {
        frame,
        y_ticks,
        y_labels,
        markers,
        placed,
    } = Layout::of(&chart);
    let ptr = Pointer::new(frame, chart.lines.clone());
    let zoom = ZoomTarget {
        series_id: chart.series.id,
        x_mode: chart.x_mode,
        query: chart.query.clone(),
    };
    // Effects run only in the browser, after this view is hydrated or mounted.
    Effect::new(|_| crate::marks::mark(crate::marks::CHART_INTERACTIVE));
    let on_up = move |ev: web_sys::MouseEvent| {
        if let Some(href) = ptr.released(&ev, &zoom) {
            // A full page load: the server renders the zoomed range or the run (there
            // is no client-side router in islands mode).
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(&href);
            }
        }
    };
    let seasonal = (!expected.is_empty())
        .then(|| view! { <path class="seasonal-band" d=expected_path(&expected, &frame) /> });
    let log_note = (chart.query.log && !frame.log)
        .then(|| view! { <p class="note">"Log scale needs positive values; shown linear."</p> });

    view! {
        <div class="chart" data-testid="trend-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") class="trend" role="img"
                aria-label=format!("Trend of {}", chart.series.label())
                on:mousemove=move |ev| ptr.moved(&ev) on:mousedown=move |ev| ptr.pressed(&ev)
                on:mouseup=on_up on:mouseleave=move |_| ptr.hover.set(None)>
                {y_grid(frame, &y_ticks, y_labels)}
                <line class="axis" x1=frame.left x2=WIDTH - RIGHT y1=HEIGHT - BOTTOM y2=HEIGHT - BOTTOM />
                {x_axis(frame, chart.x_mode)}
                {marker_layer(frame, &markers, placed)}
                {alert_layer(frame, &chart.alerts)}
                {seasonal}
                {line_layer(frame, &chart.lines)}
                {highlight_rings(frame, &chart.lines, &chart.query.highlight)}
                {hover_dot(ptr)}
                {selection(ptr)}
            </svg>
            {tooltip(ptr, chart.series.unit.clone())}
        </div>
        <div class="legend">{legend(&chart.lines)}</div>
        {log_note}
    }
}
