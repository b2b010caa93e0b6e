//! `mcp-server-fs`: files under configured roots over MCP (see the crate docs).

fn main() -> std::process::ExitCode {
    use mcp_server_fs::{Config, NAME, start};
    mcp_core::run_confined(NAME, Config::read, Config::confinement, start)
}
