//! `mcp-client-llm-agent`: the fleet's front desk — reads requests, asks what is missing, starts plans.

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_client_llm_agent::NAME, mcp_client_llm_agent::Config::read, mcp_client_llm_agent::start)
}
