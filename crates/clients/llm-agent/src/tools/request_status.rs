//! `request_status`: one request as the agent sees it.

use mcp_core::prelude::*;

use crate::Agent;

use super::store_err;
use crate::store::Request;
use mcp_types::plan::{RunRef, RunState};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The request id.
    pub request_id: String,
}

/// A request and, once it was handed to the planner, how its run went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Status {
    /// The request as the agent keeps it.
    #[serde(flatten)]
    pub request: Request,
    /// The planner's run state (`running`, `succeeded`, `failed`...): a
    /// planned request whose run failed shows `failed` here. Absent before
    /// planning, or when the planner could not be asked.
    pub run_state: Option<RunState>,
    /// Why the run ended as it did.
    pub run_reason: Option<String>,
    /// Why the planner could not be asked, when it could not.
    pub run_unknown: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "request_status",
        "A request's state (new, asking, planned, refused, gave_up, failed, cancelled), what is known of its spec, \
         the fields last asked about, its language, trace_id and the planner's run_id — and, once planned, the run's \
         own state from the planner (run_state: running, succeeded, failed...) and why it ended.",
        Annotations::read_only(),
        run,
    )
    .title("Request status")
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Status>, ToolError> {
    let (st, text) = status(&s, &a.request_id).await?;
    Ok(Out::new(st).text(text))
}

/// A request's status as this tool answers it (`request_cancel` and `request_retry` answer with it too).
pub async fn status(s: &Agent, request_id: &str) -> Result<(Status, String), ToolError> {
    let r = s.store.get(request_id).await.map_err(store_err)?;
    let r = r.ok_or_else(|| ToolError::not_found(format!("request {request_id}")))?;
    let (mut run_state, mut run_reason, mut run_unknown) = (None, None, None);
    if let (Some(run_id), Some(planner)) = (&r.run_id, &s.peers.planner) {
        match planner.call_as::<RunRef>("plan_status", json!({"run_id": run_id})).await {
            Ok(run) => {
                run_state = Some(run.state);
                run_reason = run.reason;
            }
            Err(e) => run_unknown = Some(e.to_string()),
        }
    }
    let run_text = run_state.map(|s| format!(", run {s}")).unwrap_or_default();
    let text = format!("request {}: {}{run_text} (round {}, trace {})", r.id, r.state, r.rounds, r.trace_id);
    Ok((Status { request: r, run_state, run_reason, run_unknown }, text))
}
