//! `mcp-client-planner`: runs checkpointed plans that build projects through the fleet.

fn main() -> std::process::ExitCode {
    mcp_core::run(mcp_client_planner::NAME, mcp_client_planner::Config::read, mcp_client_planner::start)
}
