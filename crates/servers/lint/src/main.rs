//! `mcp-server-lint`: a project's linters and formatters with its own configuration (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_lint::NAME, mcp_server_lint::Config::read, mcp_server_lint::start)
}
