//! `mcp-server-browser`: a headless Chromium under an origin allow-list, one isolated browser per MCP session.

fn main() -> std::process::ExitCode {
    use mcp_server_browser::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
