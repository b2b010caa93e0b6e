//! `approvals_list`: approvals, newest first — the gateway's approval queue.

use mcp_core::prelude::*;

use mcp_types::approval::{ApprovalState, ApprovalsList as Output};

use crate::Planner;

use super::store_err;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only approvals in this state (`pending` for the queue of what waits for a person).
    #[serde(default)]
    pub state: Option<ApprovalState>,
    /// Only the approvals of this run.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Most approvals (default 50, at most 500).
    #[serde(default)]
    pub limit: Option<i64>,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "approvals_list",
        "List approvals (plan steps that wait for a person before they run), newest first, optionally only one \
         state (pending, approved, denied, expired) or one run. Decide a pending one with approval_decide.",
        Annotations::read_only(),
        run,
    )
    .title("List approvals")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = a.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ToolError::invalid("limit must be 1..=500"));
    }
    let rows = s.store.approvals(a.state, a.run_id.as_deref(), limit).await.map_err(store_err)?;
    let text = if rows.is_empty() {
        "no approvals".to_owned()
    } else {
        rows.iter().map(super::approval_line).collect::<Vec<_>>().join("\n")
    };
    Ok(Out::new(Output { approvals: rows.iter().map(|r| r.contract()).collect() }).text(text))
}
