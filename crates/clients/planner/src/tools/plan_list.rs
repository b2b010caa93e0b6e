//! `plan_list`: runs, latest first.

use mcp_core::prelude::*;

use crate::Planner;

use super::store_err;
use crate::store::{Run, RunState};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only runs in this state.
    pub state: Option<RunState>,
    /// Most runs (default 50, at most 500).
    pub limit: Option<i64>,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Runs, latest first.
    pub runs: Vec<Run>,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new("plan_list", "List runs, latest first, optionally in one state.", Annotations::read_only(), run)
        .title("List runs")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = a.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ToolError::invalid("limit must be 1..=500"));
    }
    let runs = s.store.list(a.state, limit).await.map_err(store_err)?;
    let text = if runs.is_empty() {
        "no runs".to_owned()
    } else {
        runs.iter()
            .map(|r| format!("{} {} {} ({})", r.id, r.slug, r.state, r.request_id))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { runs }).text(text))
}
