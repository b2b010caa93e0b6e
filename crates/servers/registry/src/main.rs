//! `mcp-server-registry`: package registries (PyPI, crates.io, npm, Docker Hub, GitHub/GitLab releases, OSV) over MCP.

fn main() -> std::process::ExitCode {
    use mcp_server_registry::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
