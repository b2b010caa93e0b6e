//! `mcp-client-api-gateway`: the fleet's front door (see the crate docs).

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_client_api_gateway::NAME, mcp_client_api_gateway::Config::read, mcp_client_api_gateway::start)
}
