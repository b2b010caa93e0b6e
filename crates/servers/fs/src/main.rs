//! `mcp-server-fs`: files under configured roots over MCP (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_fs::NAME, mcp_server_fs::Config::read, mcp_server_fs::start)
}
