//! `plan_cancel`: stop a run. The step in progress is interrupted, the rest
//! are skipped, and the report still goes out saying what was done.

use mcp_core::prelude::*;

use crate::Planner;

use super::{RunView, load, render, store_err};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run id.
    pub run_id: String,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "plan_cancel",
        "Cancel a queued or running run: the current step is interrupted, the remaining steps are skipped, and the \
         requester is told what was done. Cancelling a finished run is an error.",
        Annotations::destructive(true),
        run,
    )
    .title("Cancel a run")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<RunView>, ToolError> {
    let before = load(&s, Some(&a.run_id), None).await?;
    if !s.store.request_cancel(&a.run_id).await.map_err(store_err)? && !before.run.cancel_requested {
        return Err(ToolError::conflict(format!("run {} is already {}", a.run_id, before.run.state)));
    }
    s.wake.notify_one();
    let v = load(&s, Some(&a.run_id), None).await?;
    let text = format!("cancellation requested\n{}", render(&v));
    Ok(Out::new(v).text(text))
}
