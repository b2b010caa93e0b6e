//! `mcp-server-sql`: the knowledge base, the communication and decision logs, guarded SQL.

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_server_sql::NAME, mcp_server_sql::Config::read, mcp_server_sql::start)
}
