//! `mcp-server-gitlab`: GitLab CI pipelines, jobs, logs, artifacts, merge requests and CI lint over MCP.

fn main() -> std::process::ExitCode {
    use mcp_server_gitlab::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
