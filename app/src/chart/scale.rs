//! Chart geometry: the frame mapping data to SVG coordinates, ticks, nearest point.
//! Pure and shared by the server render and the hydrated browser, so both draw the
//! same pixels.

use perfwatch_core::chart::{ChartLine, ChartPoint};

pub const WIDTH: f64 = 960.0;
pub const HEIGHT: f64 = 380.0;
/// Smallest left margin; [`Frame::with_margins`] widens it to fit the y tick labels.
pub const LEFT: f64 = 80.0;
pub const RIGHT: f64 = 20.0;
/// Top margin with one lane of marker labels; more lanes add to it.
pub const TOP: f64 = 34.0;
pub const BOTTOM: f64 = 40.0;
/// Space between a y tick label and the plot.
pub const TICK_GAP: f64 = 6.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
    pub log: bool,
    /// Left edge of the plot (room for the y tick labels).
    pub left: f64,
    /// Top edge of the plot (room for the marker label lanes).
    pub top: f64,
}

impl Frame {
    /// Fits the frame to every point and band. Log scale needs positive values; when a
    /// value is not, the frame stays linear (the page says so).
    pub fn fit(lines: &[ChartLine], log: bool) -> Frame {
        let pts = lines.iter().flat_map(|l| l.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts {
            x0 = x0.min(p.x);
            x1 = x1.max(p.x);
            y0 = y0.min(p.lo.min(p.y));
            y1 = y1.max(p.hi.max(p.y));
        }
        if x0 > x1 {
            return Frame {
                x0: 0.0,
                x1: 1.0,
                y0: 0.0,
                y1: 1.0,
                log: false,
                left: LEFT,
                top: TOP,
            };
        }
        if x0 == x1 {
            x0 -= 1.0;
            x1 += 1.0;
        }
        let log = log && y0 > 0.0;
        if log {
            let (l0, l1) = (y0.log10(), y1.log10());
            let pad = ((l1 - l0) * 0.05).max(0.01);
            return Frame {
                x0,
                x1,
                y0: 10f64.powf(l0 - pad),
                y1: 10f64.powf(l1 + pad),
                log,
                left: LEFT,
                top: TOP,
            };
        }
        let span = y1 - y0;
        let pad = if span > 0.0 {
            span * 0.05
        } else {
            y0.abs().max(1.0) * 0.05
        };
        // Start the axis at zero when the data sit close to it: small changes then look small.
        let lo = if y0 >= 0.0 && y0 - pad < span {
            0.0
        } else {
            y0 - pad
        };
        Frame {
            x0,
            x1,
            y0: lo,
            y1: y1 + pad,
            log,
            left: LEFT,
            top: TOP,
        }
    }

    /// The frame with its left margin wide enough for the widest y tick label (so
    /// "1,500 jobs/min" keeps its "1") and its top margin tall enough for `lanes`
    /// rows of marker labels.
    pub fn with_margins(self, tick_labels: &[String], lanes: usize) -> Frame {
        let widest = tick_labels
            .iter()
            .map(|l| super::labels::text_width(l))
            .fold(0.0, f64::max);
        Frame {
            left: LEFT.max(widest + TICK_GAP + 4.0).min(WIDTH / 3.0),
            top: TOP + lanes.saturating_sub(1) as f64 * super::labels::LANE_H,
            ..self
        }
    }

    pub fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x0) / (self.x1 - self.x0) * (WIDTH - self.left - RIGHT)
    }

    pub fn py(&self, y: f64) -> f64 {
        let t = if self.log {
            (y.max(f64::MIN_POSITIVE).log10() - self.y0.log10())
                / (self.y1.log10() - self.y0.log10())
        } else {
            (y - self.y0) / (self.y1 - self.y0)
        };
        HEIGHT - BOTTOM - t * (HEIGHT - self.top - BOTTOM)
    }

    /// Data x at SVG x (inverse of [`Frame::px`]).
    pub fn x_at(&self, px: f64) -> f64 {
        self.x0 + (px - self.left) / (WIDTH - self.left - RIGHT) * (self.x1 - self.x0)
    }

    pub fn y_ticks(&self) -> Vec<f64> {
        if self.log {
            log_ticks(self.y0, self.y1)
        } else {
            nice_ticks(self.y0, self.y1, 6)
        }
    }
}

/// Round-numbered ticks (1, 2, 5 × 10^k steps) covering `lo..=hi`, about `n` of them.
pub fn nice_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    // Written so that NaN bounds also take this branch.
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) || n == 0 {
        return vec![lo];
    }
    let raw = (hi - lo) / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut out = Vec::new();
    let mut v = first;
    while v <= hi + step * 1e-9 && out.len() < 50 {
        out.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
        v += step;
    }
    out
}

/// Powers of ten (and 2×, 5× when few decades are shown) inside `lo..=hi`.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let few = b - a <= 2;
    let mut out = Vec::new();
    for e in a..=b {
        let base = 10f64.powi(e);
        for m in if few {
            &[1.0, 2.0, 5.0][..]
        } else {
            &[1.0][..]
        } {
            let v = base * m;
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

/// Index of the point whose x is nearest to `x` (points sorted by x).
pub fn nearest(points: &[ChartPoint], x: f64) -> Option<usize> {
    if points.is_empty() {
        return None;
    }
    let i = points.partition_point(|p| p.x < x);
    let candidates = [i.saturating_sub(1), i.min(points.len() - 1)];
    candidates
        .into_iter()
        .min_by(|&a, &b| (points[a].x - x).abs().total_cmp(&(points[b].x - x).abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(x: f64, y: f64) -> ChartPoint {
        ChartPoint {
            x,
            y,
            lo: y,
            hi: y,
            run_id: 1,
            sha: None,
            time: 0,
            n: 1,
            invalid: None,
        }
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(nice_ticks(103.0, 117.0, 3), vec![105.0, 110.0, 115.0]);
        assert_eq!(log_ticks(1.0, 1000.0), vec![1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn frame_maps_and_inverts() {
        let line = ChartLine {
            label: "a".into(),
            series_id: 1,
            points: vec![pt(1.0, 10.0), pt(11.0, 20.0)],
            total_points: 2,
        };
        let f = Frame::fit(&[line], false);
        assert_eq!(f.px(1.0), LEFT);
        assert_eq!(f.py(f.y1), TOP);
        assert_eq!(f.px(11.0), WIDTH - RIGHT);
        assert!((f.x_at(f.px(7.5)) - 7.5).abs() < 1e-9);
        assert!(f.py(20.0) < f.py(10.0), "higher values are drawn higher");
    }

    #[test]
    fn left_margin_fits_the_widest_tick_label() {
        let line = ChartLine {
            label: "a".into(),
            series_id: 1,
            points: vec![pt(1.0, 0.0), pt(2.0, 1500.0)],
            total_points: 2,
        };
        let f = Frame::fit(&[line], false);
        let labels: Vec<String> = f
            .y_ticks()
            .iter()
            .map(|v| perfwatch_core::units::format_value(*v, "jobs/min"))
            .collect();
        assert!(
            labels
                .iter()
                .any(|l| l == "1500 jobs/min" || l == "1,500 jobs/min"),
            "{labels:?}"
        );
        let g = f.with_margins(&labels, 1);
        let widest = labels
            .iter()
            .map(|l| super::super::labels::text_width(l))
            .fold(0.0, f64::max);
        // The label is drawn right-aligned at left - TICK_GAP: its start stays inside the SVG.
        assert!(g.left - TICK_GAP - widest >= 0.0, "{} {widest}", g.left);
        assert_eq!(g.px(1.0), g.left);
        assert_eq!(
            f.with_margins(&["1 ms".into()], 1).left,
            LEFT,
            "short labels keep the default"
        );
        assert_eq!(
            f.with_margins(&[], 3).top,
            TOP + 2.0 * super::super::labels::LANE_H
        );
    }

    #[test]
    fn log_scale_falls_back_when_values_are_not_positive() {
        let line = ChartLine {
            label: "a".into(),
            series_id: 1,
            points: vec![pt(1.0, 0.0), pt(2.0, 5.0)],
            total_points: 2,
        };
        assert!(!Frame::fit(&[line], true).log);
    }

    #[test]
    fn nearest_point_by_x() {
        let pts = vec![pt(1.0, 0.0), pt(5.0, 0.0), pt(9.0, 0.0)];
        assert_eq!(nearest(&pts, 6.9), Some(1));
        assert_eq!(nearest(&pts, 7.1), Some(2));
        assert_eq!(nearest(&pts, -3.0), Some(0));
        assert_eq!(nearest(&[], 1.0), None);
    }
}
