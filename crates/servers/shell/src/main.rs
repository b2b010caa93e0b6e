//! `mcp-server-shell`: commands and processes under a fixed policy (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_shell::NAME, mcp_server_shell::Config::read, mcp_server_shell::start)
}
