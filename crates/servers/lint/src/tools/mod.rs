//! The tools, one per file; `lib.rs` holds the registry.

pub mod lint_detect;
pub mod lint_explain;
pub mod lint_format;
pub mod lint_run;
