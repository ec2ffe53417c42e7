//! The trend chart under the pointer (after hydration): the point nearest the
//! pointer with its tooltip, a click that opens that point's run, and a drag that
//! zooms into an x range written to the URL.

use leptos::prelude::*;
use perfwatch_core::chart::{ChartLine, ChartQuery, XMode};

use super::scale::{nearest, Frame, BOTTOM, HEIGHT, WIDTH};
use crate::format::{datetime, format_value, short_sha, sig};

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

/// The chart's pointer state: the hovered point (line, point) and the drag under way
/// (start and current SVG x).
#[derive(Clone, Copy)]
pub struct Pointer {
    pub frame: Frame,
    pub lines: StoredValue<Vec<ChartLine>>,
    pub hover: RwSignal<Option<(usize, usize)>>,
    pub drag: RwSignal<Option<(f64, f64)>>,
}

/// Where a zoom leads: the series page with the chart's query narrowed to a range.
pub struct ZoomTarget {
    pub series_id: i64,
    pub x_mode: XMode,
    pub query: ChartQuery,
}

impl Pointer {
    pub fn new(frame: Frame, lines: Vec<ChartLine>) -> Self {
        Self {
            frame,
            lines: StoredValue::new(lines),
            hover: RwSignal::new(None),
            drag: RwSignal::new(None),
        }
    }

    /// Follows the pointer: the nearest point, and the end of a drag.
    pub fn moved(self, ev: &web_sys::MouseEvent) {
        if let Some((sx, sy)) = svg_pos(ev) {
            self.hover
                .set(self.lines.with_value(|l| hit(l, &self.frame, sx, sy)));
            self.drag.update(|d| {
                if let Some((_, end)) = d {
                    *end = sx;
                }
            });
        }
    }

    /// Starts a drag (or a click) where the button went down.
    pub fn pressed(self, ev: &web_sys::MouseEvent) {
        if let Some((sx, _)) = svg_pos(ev) {
            self.drag.set(Some((sx, sx)));
        }
    }

    /// Ends the drag; where to go: a click opens the run of the nearest point, a drag
    /// zooms into the range it covered.
    pub fn released(self, ev: &web_sys::MouseEvent, zoom: &ZoomTarget) -> Option<String> {
        let (start, _) = self.drag.get_untracked()?;
        self.drag.set(None);
        let end = svg_pos(ev).map(|p| p.0).unwrap_or(start);
        if (end - start).abs() < 6.0 {
            let (li, pi) = self.hover.get_untracked()?;
            let run = self.lines.with_value(|l| l[li].points[pi].run_id);
            // Run id 0: an hourly rollup of a production series, no run behind it.
            return (run > 0).then(|| format!("/runs/{run}"));
        }
        let f = self.frame;
        let (a, b) = (f.x_at(start.min(end)), f.x_at(start.max(end)));
        let (a, b) = match zoom.x_mode {
            XMode::Commit => (a.floor(), b.ceil()),
            XMode::Time => (a.round(), b.round()),
        };
        let q = ChartQuery {
            from: Some(a),
            to: Some(b),
            ..zoom.query.clone()
        };
        Some(format!(
            "/series/{}?{}",
            zoom.series_id,
            q.to_query_string()
        ))
    }
}

/// The hovered point's value, commit, time, spread and line, beside it.
pub fn tooltip(ptr: Pointer, unit: String) -> impl IntoView {
    move || {
        ptr.hover.get().map(|(li, pi)| {
            let (p, label) = ptr
                .lines
                .with_value(|l| (l[li].points[pi].clone(), l[li].label.clone()));
            let left = ptr.frame.px(p.x) / WIDTH * 100.0;
            let top = ptr.frame.py(p.y) / HEIGHT * 100.0;
            let flip = if left > 70.0 { "translate(-105%, -50%)" } else { "translate(12px, -50%)" };
            view! {
                <div class="tooltip" data-testid="chart-tooltip"
                    style=format!("left:{left:.2}%;top:{top:.2}%;transform:{flip}")>
                    <div class="tt-value">{format_value(p.y, &unit)}</div>
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
    }
}

/// A dot on the hovered point.
pub fn hover_dot(ptr: Pointer) -> impl IntoView {
    move || {
        ptr.hover.get().map(|(li, pi)| {
            let p = ptr.lines.with_value(|l| l[li].points[pi].clone());
            let f = ptr.frame;
            view! { <circle class="hover-dot" cx=format!("{:.1}", f.px(p.x)) cy=format!("{:.1}", f.py(p.y)) r="5" /> }
        })
    }
}

/// The range being dragged over, once it is wider than a click's wobble.
pub fn selection(ptr: Pointer) -> impl IntoView {
    move || {
        let f = ptr.frame;
        ptr.drag.get().filter(|(a, b)| (a - b).abs() >= 2.0).map(|(a, b)| {
            view! {
                <rect class="selection" x=format!("{:.1}", a.min(b)) y=f.top width=format!("{:.1}", (a - b).abs())
                    height=HEIGHT - f.top - BOTTOM />
            }
        })
    }
}
