//! The trend chart of a time-indexed (production) series with the seasonal expected
//! band behind its line for the visible range, computed on the server from past weeks
//! in the schedule's timezone (`fetch_series_band`). Series measured per commit get
//! the plain chart.

use leptos::prelude::*;
use perfwatch_core::chart::{SeriesChart, XMode};

use crate::api_deploys::fetch_series_band;
use crate::chart::TrendChart;

#[component]
pub fn SeasonalChart(chart: SeriesChart) -> impl IntoView {
    let xs = chart.lines.first().map(|l| {
        l.points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)))
    });
    let range = match (chart.x_mode, xs) {
        (XMode::Time, Some((a, b))) if a < b => Some((a as i64, b as i64)),
        _ => None,
    };
    let Some((from, to)) = range else {
        return view! { <TrendChart chart expected=Vec::new() /> }.into_any();
    };
    let id = chart.series.id;
    let band = Resource::new(
        move || (id, from, to),
        |(id, from, to)| fetch_series_band(id, from, to),
    );
    let plain = chart.clone();
    view! {
        <Suspense fallback=move || view! { <TrendChart chart=plain.clone() expected=Vec::new() /> }>
            {move || {
                let chart = chart.clone();
                Suspend::new(async move {
                    // No band (too little history, or an error): the plain chart.
                    let expected: Vec<(f64, f64, f64)> = band
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(t, lo, _, hi)| (t as f64, lo, hi))
                        .collect();
                    view! { <TrendChart chart expected /> }
                })
            }}
        </Suspense>
    }
    .into_any()
}
