//! The tools, one per file.

pub mod project_audit;
pub mod trace_get;
pub mod traces_search;
