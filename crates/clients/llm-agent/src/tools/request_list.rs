//! `request_list`: recent requests.

use mcp_core::prelude::*;

use crate::Agent;

use super::store_err;
use crate::store::{Request, RequestState};

/// Arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only requests in this state.
    #[serde(default)]
    pub state: Option<RequestState>,
    /// Most requests (default 50, at most 1000).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// Requests.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Latest first.
    pub requests: Vec<Request>,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new("request_list", "Recent requests, latest first, optionally in one state.", Annotations::read_only(), run)
        .title("List requests")
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let requests = s.store.list(a.state, a.limit.unwrap_or(50)).await.map_err(store_err)?;
    let text = requests.iter().map(|r| format!("{} {} {}", r.id, r.state, r.subject)).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { requests }).text(if text.is_empty() { "no requests".into() } else { text }))
}
