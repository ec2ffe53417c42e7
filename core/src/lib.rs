//! perfwatch-core: the domain, pure. Model types of the native run format, units and
//! direction, input validation, sample summaries and chart downsampling.
//!
//! Nothing here does IO or is async, so it compiles to wasm and is cheap to test.

pub mod alerts;
pub mod attention;
pub mod baseline;
pub mod chart;
pub mod chart_wire;
pub mod compare_picker;
pub mod comparison;
pub mod confidence;
pub mod digest;
pub mod dist;
pub mod downsample;
pub mod fdr;
pub mod http_url;
pub mod integration;
pub mod limits;
mod proptest_cases;
pub use proptest_cases::proptest_cases;
pub mod model;
pub mod redact;
pub mod rollup;
pub mod summary;
pub mod units;
pub mod validate;
pub mod validity;
pub mod view;

pub use model::*;
pub use units::{Direction, NormalizedUnit};
pub use validate::{FieldError, ValidationErrors};
