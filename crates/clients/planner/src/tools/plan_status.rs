//! `plan_status`: a run and its steps.

use mcp_core::prelude::*;

use crate::Planner;

use super::{RunView, load, render};

/// Arguments: one of the two.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run id from plan_start.
    pub run_id: Option<String>,
    /// Or the request id it serves.
    pub request_id: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "plan_status",
        "A run's state, budget use and every step with its state, attempts, result or error.",
        Annotations::read_only(),
        run,
    )
    .title("Plan status")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<RunView>, ToolError> {
    let v = load(&s, a.run_id.as_deref(), a.request_id.as_deref()).await?;
    let text = render(&v);
    Ok(Out::new(v).text(text))
}
