//! `mcp-server-docker`: containers, images, compose projects and app deployments on a Docker Engine, under a fixed policy.

fn main() -> std::process::ExitCode {
    use mcp_server_docker::{Config, NAME, start};
    mcp_core::run(NAME, Config::read, start)
}
