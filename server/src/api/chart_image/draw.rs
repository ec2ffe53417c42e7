//! Backend-agnostic drawing of a series chart with plotters, and its two renderings:
//! SVG text and PNG bytes. Text uses DejaVu Sans embedded in the binary (plotters'
//! `ab_glyph` feature), registered once as "sans-serif" — needed by the bitmap backend
//! to rasterise glyphs and by both backends to measure labels.

use std::sync::Once;

use perfwatch_core::chart::{SeriesChart, XMode};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

const COLORS: [RGBColor; 5] = [
    RGBColor(37, 99, 235),
    RGBColor(234, 88, 12),
    RGBColor(22, 163, 74),
    RGBColor(147, 51, 234),
    RGBColor(219, 39, 119),
];
const MARKER: RGBColor = RGBColor(124, 58, 237);
/// Invalid runs (the validity gate): hollow grey circles, apart from the line.
pub const INVALID: RGBColor = RGBColor(156, 163, 175);

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Registers the embedded font under the family name the charts use. Idempotent.
pub fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_err() {
            tracing::error!("the embedded DejaVu Sans font could not be parsed");
        }
    });
}

/// The chart as a standalone SVG document of `w`×`h` pixels.
pub fn render_svg(c: &SeriesChart, w: u32, h: u32) -> Result<String, String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
        draw(&root, c)?;
    }
    Ok(out)
}

/// The chart as an 8-bit RGB PNG of `w`×`h` pixels.
pub fn render_png(c: &SeriesChart, w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        draw(&root, c)?;
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(&rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// Draws the chart's lines (medians of valid runs), invalid runs as hollow grey
/// circles, a legend when there are several lines, and markers as vertical lines, on
/// any plotters backend.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &SeriesChart,
) -> Result<(), String> {
    ensure_font();
    root.fill(&WHITE).map_err(err)?;
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in c.lines.iter().flat_map(|l| l.points.iter()) {
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
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
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
        .map_err(err)?;
    for m in &c.markers {
        chart
            .draw_series(LineSeries::new(
                [(m.x, y0), (m.x, y1)],
                MARKER.stroke_width(1),
            ))
            .map_err(err)?;
    }
    for (i, line) in c.lines.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        // The line joins valid runs only: detection and comparisons leave invalid
        // runs out, so the chart shows them apart.
        chart
            .draw_series(LineSeries::new(
                line.points
                    .iter()
                    .filter(|p| p.invalid.is_none())
                    .map(|p| (p.x, p.y)),
                color.stroke_width(2),
            ))
            .map_err(err)?
            .label(line.label.clone())
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
        chart
            .draw_series(
                line.points
                    .iter()
                    .filter(|p| p.invalid.is_some())
                    .map(|p| Circle::new((p.x, p.y), 4, INVALID.stroke_width(2))),
            )
            .map_err(err)?;
    }
    if c.lines.len() > 1 {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;
    }
    root.present().map_err(err)
}

#[cfg(test)]
mod tests {
    use perfwatch_core::chart::{ChartLine, ChartPoint, ChartQuery, SeriesChart, XMode};
    use perfwatch_core::units::Direction;
    use perfwatch_core::view::{ProjectRef, SeriesInfo};

    fn chart(ys: &[(f64, bool)]) -> SeriesChart {
        let points = ys
            .iter()
            .enumerate()
            .map(|(i, (y, bad))| ChartPoint {
                x: i as f64 + 1.0,
                y: *y,
                lo: *y,
                hi: *y,
                run_id: i as i64 + 1,
                sha: None,
                time: 0,
                n: 3,
                invalid: bad.then(|| "3 arrivals dropped".to_string()),
            })
            .collect();
        SeriesChart {
            project: ProjectRef {
                id: 1,
                slug: "p".into(),
                name: "p".into(),
                main_branch: "main".into(),
                repo_url: None,
            },
            series: SeriesInfo {
                id: 1,
                project: "p".into(),
                benchmark: "op".into(),
                measure: "latency".into(),
                unit: "ms".into(),
                display_unit: "ms".into(),
                direction: Direction::Lower,
                testbed: "gen".into(),
                params: String::new(),
            },
            query: ChartQuery::default(),
            x_mode: XMode::Commit,
            lines: vec![ChartLine {
                label: "gen · main".into(),
                series_id: 1,
                points,
                total_points: ys.len(),
            }],
            markers: vec![],
            alerts: vec![],
            raw_markers: vec![],
            siblings: vec![],
            branches: vec![],
            main_branch: "main".into(),
        }
    }

    /// The `points` of the SVG's polylines with more than two vertices (the data lines;
    /// axes and ticks are two-point lines), as (x, y).
    fn data_lines(svg: &str) -> Vec<Vec<(f64, f64)>> {
        svg.split("<polyline")
            .skip(1)
            .filter_map(|s| {
                let pts = s.split("points=\"").nth(1)?.split('"').next()?;
                let v: Vec<(f64, f64)> = pts
                    .split_whitespace()
                    .filter_map(|xy| {
                        let (x, y) = xy.split_once(',')?;
                        Some((x.parse().ok()?, y.parse().ok()?))
                    })
                    .collect();
                (v.len() > 2).then_some(v)
            })
            .collect()
    }

    #[test]
    fn invalid_runs_are_hollow_grey_circles_off_the_line() {
        let svg = super::render_svg(
            &chart(&[(100.0, false), (101.0, false), (300.0, true), (99.0, false)]),
            800,
            360,
        )
        .unwrap();
        let lines = data_lines(&svg);
        assert_eq!(lines.len(), 1, "{svg}");
        assert_eq!(lines[0].len(), 3, "the line joins the 3 valid runs only");
        let circles: Vec<&str> = svg.split("<circle").skip(1).collect();
        assert_eq!(circles.len(), 1, "one marker, for the invalid run: {svg}");
        let c = circles[0].to_ascii_uppercase();
        assert!(c.contains("#9CA3AF"), "grey stroke: {c}");
        assert!(c.contains("FILL=\"NONE\""), "hollow: {c}");
        let attr = |name: &str| -> f64 {
            circles[0]
                .split(&format!("{name}=\""))
                .nth(1)
                .and_then(|s| s.split('"').next())
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let (cx, cy) = (attr("cx"), attr("cy"));
        // Between its neighbours the line stays at the valid level, well below (larger
        // y) the three-times-slower invalid run.
        let (a, b) = (lines[0][1], lines[0][2]);
        assert!(a.0 < cx && cx < b.0, "{a:?} {cx} {b:?}");
        assert!(
            (a.1 + b.1) / 2.0 - cy > 100.0,
            "line at {a:?}–{b:?}, marker y {cy}"
        );
    }
}
