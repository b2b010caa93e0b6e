//! `approval_get`: one approval, with who may answer it by email.

use mcp_core::prelude::*;

use mcp_types::approval::ApprovalDetail as Output;

use crate::Planner;

use super::store_err;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The approval's id (`ap-...`).
    pub id: String,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "approval_get",
        "One approval: the run, request and step it is for, what the step will do, its state (pending, approved, \
         denied, expired), when it expires, who decided and why, and the addresses that may answer it by email.",
        Annotations::read_only(),
        run,
    )
    .title("Get an approval")
}

async fn run(s: Arc<Planner>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let row = s.store.approval(&a.id).await.map_err(store_err)?;
    let row = row.ok_or_else(|| ToolError::not_found(format!("approval {}", a.id)))?;
    let text = super::approval_line(&row);
    Ok(Out::new(row.detail()).text(text))
}
