//! `mcp-server-sql`: the knowledge base, the communication and decision logs, guarded SQL.

fn main() -> std::process::ExitCode {
    use mcp_server_sql::{Config, NAME, start};
    mcp_core::run_confined(NAME, Config::read, Config::confinement, start)
}
