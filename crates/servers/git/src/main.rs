//! `mcp-server-git`: git repositories under configured roots over MCP (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_git::NAME, mcp_server_git::Config::read, mcp_server_git::start)
}
