//! `mcp-server-log`: structured logs by trace_id, and task monitoring.

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_log::NAME, mcp_server_log::Config::read, mcp_server_log::start)
}
