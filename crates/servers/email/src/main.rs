//! `mcp-server-email`: the fleet's inbox over MCP (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_email::NAME, mcp_server_email::Config::read, mcp_server_email::start)
}
