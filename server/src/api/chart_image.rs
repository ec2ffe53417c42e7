//! `GET /api/v1/series/{id}/chart.svg?<chart query>`: the trend chart of a series as a
//! standalone SVG image (for pull-request comments and chat), drawn with plotters'
//! SVG backend. The query keys are those of the series page (`x`, `scale`, `from`,
//! `to`, `branch`, `overlay`, `branches`), so the page's URL maps to its image.
//! PNG is not offered: plotters' bitmap backend needs a font file to draw text, and
//! the server must not depend on system fonts.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use perfwatch_core::chart::{ChartQuery, SeriesChart, XMode};
use perfwatch_core::comparison::decode_query;
use plotters::prelude::*;

use super::error::{ApiError, ApiResult};
use crate::state::AppState;

const COLORS: [RGBColor; 5] = [
    RGBColor(37, 99, 235),
    RGBColor(234, 88, 12),
    RGBColor(22, 163, 74),
    RGBColor(147, 51, 234),
    RGBColor(219, 39, 119),
];

pub async fn series_svg(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let pairs = decode_query(raw.as_deref().unwrap_or(""));
    let query = ChartQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let chart = perfwatch_backend::charts::series_chart(&state.store, id, query).await?;
    let svg = render_svg(&chart, 800, 360).map_err(|e| {
        tracing::error!(error = %e, "chart drawing failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "chart drawing failed")
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        svg,
    )
        .into_response())
}

/// Draws the chart's lines (medians) with markers as dashed verticals.
pub fn render_svg(c: &SeriesChart, w: u32, h: u32) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let pts = c.lines.iter().flat_map(|l| l.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts {
            x0 = x0.min(p.x);
            x1 = x1.max(p.x);
            y0 = y0.min(p.y);
            y1 = y1.max(p.y);
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + 1.0;
        }
        let pad = ((y1 - y0).abs() * 0.1).max(y1.abs() * 0.01).max(1e-12);
        let (y0, y1) = (y0 - pad, y1 + pad);
        let title = format!("{} ({})", c.series.label(), c.series.display_unit);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| e.to_string())?;
        let x_mode = c.x_mode;
        let unit = c.series.unit.clone();
        chart
            .configure_mesh()
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&|x| match x_mode {
                XMode::Commit => format!("{x:.0}"),
                XMode::Time => chrono::DateTime::from_timestamp_millis(*x as i64)
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
            })
            .y_label_formatter(&|y| perfwatch_core::units::format_value(*y, &unit))
            .draw()
            .map_err(|e| e.to_string())?;
        for m in &c.markers {
            chart
                .draw_series(LineSeries::new(
                    [(m.x, y0), (m.x, y1)],
                    RGBColor(124, 58, 237).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        for (i, line) in c.lines.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().map(|p| (p.x, p.y)),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(line.label.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        }
        if c.lines.len() > 1 {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK.mix(0.3))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}
