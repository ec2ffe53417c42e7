//! Documented limits on submitted names and sizes (see docs/api.md). They keep one
//! malformed or hostile submission from bloating the database or the pages.

pub const MAX_PROJECT_SLUG: usize = 100;
pub const MAX_BRANCH: usize = 255;
pub const MAX_BENCHMARK: usize = 500;
pub const MAX_MEASURE: usize = 100;
pub const MAX_UNIT: usize = 32;
pub const MAX_TESTBED: usize = 200;
pub const MAX_PARAM_KEY: usize = 100;
pub const MAX_PARAM_VALUE: usize = 200;
pub const MAX_PARAMS: usize = 32;
pub const MAX_RUN_KEY: usize = 200;
pub const MAX_SHA: usize = 64;
pub const MAX_AUTHOR: usize = 300;
pub const MAX_MESSAGE: usize = 10_000;
pub const MAX_TRIGGER: usize = 100;
pub const MAX_ANNOTATION_NAME: usize = 200;
pub const MAX_RESULTS_PER_RUN: usize = 50_000;
pub const MAX_SAMPLES_PER_RESULT: usize = 100_000;
/// Default HTTP body limit for submissions (bytes).
pub const DEFAULT_BODY_LIMIT: usize = 10 * 1024 * 1024;
