//! A sparkline: the recent shape of a series in a table row.

use leptos::prelude::*;

#[component]
pub fn Sparkline(values: Vec<f64>) -> impl IntoView {
    let (w, h) = (120.0, 28.0);
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = values.len().max(2) - 1;
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 / n as f64 * w,
                h - 2.0 - (v - lo) / span * (h - 4.0)
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class="spark" viewBox=format!("0 0 {w} {h}") width=w height=h aria-hidden="true">
            <polyline points=points />
        </svg>
    }
}
