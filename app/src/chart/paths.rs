//! SVG path data of a chart line: the median polyline, the min–max band and the
//! seasonal expected band, in a frame's coordinates.

use perfwatch_core::chart::{ChartLine, ChartPoint};

use super::scale::Frame;

/// The points that make up the line: invalid runs are drawn apart, as hollow grey
/// markers, since detection and comparisons leave them out of the series.
pub fn valid(l: &ChartLine) -> impl DoubleEndedIterator<Item = &ChartPoint> + Clone {
    l.points.iter().filter(|p| p.invalid.is_none())
}

/// The min–max band of the line's valid points as a closed path.
pub fn band_path(l: &ChartLine, f: &Frame) -> String {
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
pub fn expected_path(band: &[(f64, f64, f64)], f: &Frame) -> String {
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

/// The medians of the line's valid points, as `points` of a `<polyline>`.
pub fn polyline(l: &ChartLine, f: &Frame) -> String {
    valid(l)
        .map(|p| format!("{:.1},{:.1}", f.px(p.x), f.py(p.y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The alert triangle at `(x, y)`: pointing up for a rise, down for a fall.
pub fn alert_triangle(x: f64, y: f64, rise: bool) -> String {
    let (tip, base) = if rise { (-6.0, 5.0) } else { (6.0, -5.0) };
    format!(
        "M{:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z",
        x,
        y + tip,
        x - 6.0,
        y + base,
        x + 6.0,
        y + base
    )
}
