//! Comparisons as the UI and the API see them: the permalink ([`CompareSpec`], every
//! choice of the compare page, parsed from and written to its query string) and the
//! read model ([`ComparisonView`]). The statistics themselves live in
//! `perfwatch-compare`; the backend maps its output into these plain records so that
//! the browser build needs nothing but this crate.

mod spec;
mod view;

pub use spec::{decode_query, CompareSpec, SideSpec, SortKey};
pub use view::{
    CompareRow, CompareSummary, ComparisonView, GeomeanSummary, ReleasePoint, ReleaseStep,
    ReleasesView, RowVerdict, RunBasis, SideInfo, SideSummary,
};
