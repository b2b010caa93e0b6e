//! The tools, one per file, and the helpers they share.

/// The condition "this record belongs to project `$1`": filed under that
/// key, or under the same trace as a record filed under it. The agent files a
/// conversation under the request id and the planner files the run under
/// the project's folder name; every record of a request carries its one
/// trace_id, which joins them, so either key gives the whole story. Used by
/// `project_timeline`, `decision_list` and `message_list`. A macro so that
/// queries stay `&'static str` (`concat!`).
#[macro_export]
macro_rules! project_match {
    () => {
        "(project = $1 OR trace_id IN (SELECT trace_id FROM decisions WHERE project = $1 AND trace_id IS NOT NULL \
         UNION SELECT trace_id FROM messages WHERE project = $1 AND trace_id IS NOT NULL))"
    };
}

pub mod decision_list;
pub mod decision_record;
pub mod kb_delete;
pub mod kb_get;
pub mod kb_list;
pub mod kb_put;
pub mod kb_search;
pub mod message_list;
pub mod message_record;
pub mod project_timeline;
pub mod sql_describe;
pub mod sql_execute;
pub mod sql_query;
pub mod sql_tables;

use mcp_core::ToolError;
use mcp_core::db::sqlx;

/// A database failure as a tool error: the detail goes to the log.
pub fn db_err(e: sqlx::Error) -> ToolError {
    ToolError::internal(e)
}

/// Now: RFC 3339 text and Unix milliseconds of the same instant.
pub use mcp_core::clock::now_pair as now;

/// A limit within `1..=max`, `default` when absent.
pub fn limit(v: Option<i64>, default: i64, max: i64) -> Result<i64, ToolError> {
    match v {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(ToolError::invalid(format!("limit {n} is outside 1..={max}"))),
    }
}

/// Text that must be present and not too long.
pub fn required(name: &str, v: &str, max: usize) -> Result<(), ToolError> {
    if v.trim().is_empty() {
        return Err(ToolError::invalid(format!("{name} is empty")));
    }
    bounded(name, v, max)
}

/// Text that must not be too long or carry NUL.
pub fn bounded(name: &str, v: &str, max: usize) -> Result<(), ToolError> {
    if v.len() > max {
        return Err(ToolError::invalid(format!("{name} is {} bytes, over the {max}-byte limit", v.len())));
    }
    if v.contains('\0') {
        return Err(ToolError::invalid(format!("{name} contains a NUL byte")));
    }
    Ok(())
}

/// Tags as stored: lowercase, trimmed, `,a,b,` so `LIKE '%,tag,%'` matches one tag exactly.
pub fn tags_to_db(tags: &[String]) -> Result<String, ToolError> {
    let mut out = Vec::new();
    for t in tags {
        let t = t.trim().to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.contains(',') || t.len() > 64 || t.contains('\0') {
            return Err(ToolError::invalid(format!("tag {t:?} must be at most 64 characters without commas")));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > 32 {
        return Err(ToolError::invalid("at most 32 tags"));
    }
    Ok(format!(",{},", out.join(",")))
}

/// Tags from the stored form.
pub fn tags_from_db(s: &str) -> Vec<String> {
    s.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}
