//! A sparkline with the seasonal expected band (server-rendered SVG): the band the
//! past weeks predict, the expected line inside it, the observed line, points outside
//! the band ringed, and a vertical marker (the deploy).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What a band sparkline draws. Times in ms since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandSpark {
    pub from: i64,
    pub to: i64,
    pub marker: i64,
    pub observed: Vec<(i64, f64)>,
    /// (time, low, expected, high).
    pub band: Vec<(i64, f64, f64, f64)>,
    /// Observed times outside the band.
    pub outside: Vec<i64>,
}

const W: f64 = 240.0;
const H: f64 = 48.0;

#[component]
pub fn BandSparkline(spark: BandSpark) -> impl IntoView {
    let values = spark
        .observed
        .iter()
        .map(|p| p.1)
        .chain(spark.band.iter().flat_map(|b| [b.1, b.3]))
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let span_y = if hi > lo { hi - lo } else { 1.0 };
    let span_x = (spark.to - spark.from).max(1) as f64;
    let x = move |t: i64| (t - spark.from) as f64 / span_x * W;
    let y = move |v: f64| H - 3.0 - (v - lo) / span_y * (H - 6.0);
    let mut band = String::new();
    for (i, b) in spark.band.iter().enumerate() {
        band.push_str(&format!(
            "{}{:.1},{:.1} ",
            if i == 0 { "M" } else { "L" },
            x(b.0),
            y(b.3)
        ));
    }
    for b in spark.band.iter().rev() {
        band.push_str(&format!("L{:.1},{:.1} ", x(b.0), y(b.1)));
    }
    if !spark.band.is_empty() {
        band.push('Z');
    }
    let line = |pts: &mut dyn Iterator<Item = (i64, f64)>| {
        pts.map(|(t, v)| format!("{:.1},{:.1}", x(t), y(v)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let expected = line(&mut spark.band.iter().map(|b| (b.0, b.2)));
    let observed = line(&mut spark.observed.iter().copied());
    let out = spark
        .observed
        .iter()
        .filter(|p| spark.outside.contains(&p.0))
        .map(|p| view! { <circle class="out" cx=format!("{:.1}", x(p.0)) cy=format!("{:.1}", y(p.1)) r="2" /> })
        .collect_view();
    let mx = format!("{:.1}", x(spark.marker));
    view! {
        <svg class="band-spark" viewBox=format!("0 0 {W} {H}") width=W height=H role="img"
            aria-label="observed against the expected band" data-outside=spark.outside.len()>
            <path class="expected-band" d=band />
            <polyline class="expected" points=expected />
            <line class="deploy-marker" x1=mx.clone() x2=mx y1="0" y2=H />
            <polyline class="observed" points=observed />
            {out}
        </svg>
    }
}
