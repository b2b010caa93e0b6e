//! `request_status`: one request as the agent sees it.

use mcp_core::prelude::*;

use crate::Agent;

use super::store_err;
use crate::store::Request;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The request id.
    pub request_id: String,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "request_status",
        "A request's state (asking, planned, refused, gave_up, failed), what is known of its spec, the fields last \
         asked about, its trace_id and the planner's run_id.",
        Annotations::read_only(),
        run,
    )
    .title("Request status")
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Request>, ToolError> {
    let r = s.store.get(&a.request_id).await.map_err(store_err)?;
    let r = r.ok_or_else(|| ToolError::not_found(format!("request {}", a.request_id)))?;
    let text = format!("request {}: {} (round {}, trace {})", r.id, r.state, r.rounds, r.trace_id);
    Ok(Out::new(r).text(text))
}
