//! `request_retry`: build a failed project again — the same path as a
//! "please try again" email: a new planner run of the same spec, keyed
//! `<request>-retry<n>`, which takes over the failed run's folder.

use mcp_core::prelude::*;

use crate::Agent;
use crate::llm::rules::Intent;
use crate::store::Decision;

use super::request_status::{Status, status};

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
        "request_retry",
        "Build a request's project again after its planner run failed (or was cancelled or ran out of budget), as \
         the requester's \"please try again\" email would: a new run of the same spec, run id in the result. \
         Returns the request's status, as request_status does. A request whose run has not failed is a conflict.",
        Annotations::additive(false),
        run,
    )
    .title("Retry a request")
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Status>, ToolError> {
    let (r, o) = super::act(&s, &a.request_id, Intent::Retry, "please try again".into()).await?;
    if o.decision != Decision::Retried {
        return Err(ToolError::conflict(
            o.reason.unwrap_or_else(|| format!("request {} is {}: nothing to retry", r.id, r.state)),
        ));
    }
    let (st, text) = status(&s, &a.request_id).await?;
    Ok(Out::new(st).text(text))
}
