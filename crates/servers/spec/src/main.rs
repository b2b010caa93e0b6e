//! `mcp-server-spec`: specs and project documents from templates, and a spec workflow with approvals, over MCP.

fn main() -> std::process::ExitCode {
    use mcp_server_spec::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
