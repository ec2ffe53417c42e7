//! One page per file.

pub mod project;
pub mod projects;
pub mod run;
pub mod series;
