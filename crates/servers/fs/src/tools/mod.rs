//! The tools, one per file. The registry is in `lib.rs`.

pub mod changes;
pub mod create_directory;
pub mod delete;
pub mod edit_file;
pub mod find;
pub mod grep;
pub mod list_directory;
pub mod list_roots;
pub mod move_path;
pub mod read_file;
pub mod read_many;
pub mod stat;
pub mod tree;
pub mod write_file;

mod write;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mcp_core::ToolError;

/// Compile glob patterns; `None` when there are none.
pub fn globset(patterns: &[String]) -> Result<Option<GlobSet>, ToolError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    if patterns.len() > 100 {
        return Err(ToolError::invalid("at most 100 glob patterns"));
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| ToolError::invalid(format!("bad glob {p:?}: {e}")))?);
    }
    b.build().map(Some).map_err(|e| ToolError::invalid(format!("bad globs: {e}")))
}

/// Modification time of a stat as RFC 3339.
pub fn mtime(st: &rustix::fs::Stat) -> String {
    crate::rfc3339(st.st_mtime, st.st_mtime_nsec as i64)
}
