//! `request_cancel`: call a request off — the same path as a "never mind"
//! email: an open request is closed, and a run still going is cancelled
//! (its report still goes out, saying what was done). Idempotent: a request
//! already cancelled answers with its status.

use mcp_core::prelude::*;

use crate::Agent;
use crate::llm::rules::Intent;
use crate::store::RequestState;

use super::request_status::{Status, status};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The request id.
    pub request_id: String,
    /// Why (optional, one line; kept as the request's reason).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "request_cancel",
        "Cancel a request, as the requester's \"never mind\" email would: an open request is closed, and a planner \
         run still going is cancelled (the requester still gets its report). Returns the request's status, as \
         request_status does. Cancelling a cancelled request returns it as it is; a request whose run already \
         ended, or that was refused or given up, is a conflict.",
        Annotations::destructive(true),
        run,
    )
    .title("Cancel a request")
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Status>, ToolError> {
    let reason = a.reason.as_deref().map(|r| crate::one_line(r, 300)).unwrap_or_default();
    let (_, o) = super::act(&s, &a.request_id, Intent::Cancel, reason).await?;
    let (st, text) = status(&s, &a.request_id).await?;
    if st.request.state != RequestState::Cancelled {
        return Err(ToolError::conflict(
            o.reason.unwrap_or_else(|| format!("request {} is {}", st.request.id, st.request.state)),
        ));
    }
    Ok(Out::new(st).text(text))
}
