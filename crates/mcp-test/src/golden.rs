//! Golden `tools/list` snapshots: a schema change shows up as a reviewed diff.

use mcp_core::Server;

/// The server's `tools/list` as pretty JSON, the form kept in each server's
/// `tests/it/golden/tools_list.json`. Refresh with `UPDATE_EXPECT=1`.
pub fn tools_list(server: &Server) -> String {
    let mut s = serde_json::to_string_pretty(&server.tools_list_json()).expect("json");
    s.push('\n');
    s
}
