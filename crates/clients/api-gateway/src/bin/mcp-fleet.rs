//! `mcp-fleet`: the command line client of the gateway's REST API (see `cli`).

fn main() -> std::process::ExitCode {
    mcp_client_api_gateway::cli::main()
}
