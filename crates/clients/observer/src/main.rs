//! `mcp-client-observer`: the fleet's audit trail (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_client_observer::NAME, mcp_client_observer::Config::read, mcp_client_observer::start)
}
