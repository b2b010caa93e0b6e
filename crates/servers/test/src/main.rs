//! `mcp-server-test`: test runs with per-test results, flaky detection, coverage and history.

fn main() -> std::process::ExitCode {
    use mcp_server_test::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
