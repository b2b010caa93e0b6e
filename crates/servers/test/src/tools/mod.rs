//! The tools, one per file, and the helpers they share.

pub mod test_detect;
pub mod test_history;
pub mod test_list;
pub mod test_output;
pub mod test_results;
pub mod test_run;

use mcp_core::ToolError;

/// A runner argument: `auto` or one the server knows.
pub fn runner_arg(r: Option<&str>) -> Result<Option<&str>, ToolError> {
    match r {
        None | Some("auto") => Ok(None),
        Some(r) if crate::detect::RUNNERS.contains(&r) => Ok(Some(r)),
        Some(r) => Err(ToolError::invalid(format!("runner {r:?}: use auto, pytest, unittest, cargo or nextest"))),
    }
}

/// A limit within `1..=max`, `default` when absent.
pub fn limit(v: Option<i64>, default: i64, max: i64) -> Result<i64, ToolError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ToolError::invalid(format!("limit {n} is outside 1..={max}"))),
    }
}
