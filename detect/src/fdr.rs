//! False-discovery-rate control over one detection pass across many series.
//!
//! Rule: every change point reported in the pass is one hypothesis, and every series that
//! reported none still counts as one hypothesis with p = 1 (it was tested and failed).
//! Benjamini–Hochberg at `q` over that pooled list decides which change points are kept.
//! Counting silent series keeps m honest: otherwise a pass over 500 series that found 3
//! candidates would be judged as if only 3 tests had been run.
//!
//! The p-values are post-selection (the split was chosen to look different), so the
//! nominal q is optimistic; it still ranks evidence across series consistently.

use perfwatch_core::fdr::benjamini_hochberg;

use crate::config::ChangePoint;

/// For each series, which of its change points are BH discoveries at level `q`.
pub fn fdr_mask<S: AsRef<[ChangePoint]>>(per_series: &[S], q: f64) -> Vec<Vec<bool>> {
    let mut p = Vec::new();
    for s in per_series {
        let cps = s.as_ref();
        if cps.is_empty() {
            p.push(1.0);
        } else {
            p.extend(cps.iter().map(|c| c.p_value));
        }
    }
    let keep = benjamini_hochberg(&p, q);
    let mut out = Vec::with_capacity(per_series.len());
    let mut k = 0;
    for s in per_series {
        let n = s.as_ref().len();
        out.push(keep[k..k + n].to_vec());
        k += n.max(1);
    }
    out
}

/// The change points of each series that pass BH at level `q` (order preserved).
pub fn fdr_filter<S: AsRef<[ChangePoint]>>(per_series: &[S], q: f64) -> Vec<Vec<ChangePoint>> {
    fdr_mask(per_series, q)
        .into_iter()
        .zip(per_series)
        .map(|(mask, s)| {
            s.as_ref()
                .iter()
                .zip(mask)
                .filter(|(_, k)| *k)
                .map(|(c, _)| c.clone())
                .collect()
        })
        .collect()
}
