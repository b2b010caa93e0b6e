//! The tools, one per file, and the helpers they share.

pub mod error_summary;
pub mod log_write;
pub mod logs_by_trace;
pub mod logs_search;
pub mod logs_tail;
pub mod query;
pub mod task_finish;
pub mod task_heartbeat;
pub mod task_list;
pub mod task_start;
pub mod tasks;

use mcp_core::ToolError;
use mcp_core::db::sqlx;

/// A database failure as a tool error: the detail goes to the log.
pub fn db_err(e: sqlx::Error) -> ToolError {
    ToolError::internal(e)
}

/// A limit within `1..=max`, `default` when absent.
pub fn limit(v: Option<i64>, default: i64, max: i64) -> Result<i64, ToolError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ToolError::invalid(format!("limit {n} is outside 1..={max}"))),
    }
}

/// Text that must be present, short, and free of control characters.
pub fn name(what: &str, v: &str, max: usize) -> Result<String, ToolError> {
    let t = v.trim();
    if t.is_empty() {
        return Err(ToolError::invalid(format!("{what} is empty")));
    }
    if t.len() > max || t.chars().any(char::is_control) {
        return Err(ToolError::invalid(format!("{what} must be at most {max} bytes without control characters")));
    }
    Ok(t.to_owned())
}

/// Free text with a size cap and no NUL (PostgreSQL text cannot hold it).
pub fn text(what: &str, v: &str, max: usize) -> Result<(), ToolError> {
    if v.len() > max {
        return Err(ToolError::invalid(format!("{what} is {} bytes, over the {max}-byte limit", v.len())));
    }
    if v.contains('\0') {
        return Err(ToolError::invalid(format!("{what} contains a NUL byte")));
    }
    Ok(())
}
