//! `kb_delete`: remove a knowledge-base entry.

use mcp_core::prelude::*;

use super::db_err;
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Entry id.
    pub id: i64,
}

/// What was deleted.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The id.
    pub id: i64,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new("kb_delete", "Delete one knowledge-base entry by id.", Annotations::destructive(true), run)
        .title("Delete knowledge")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let r =
        s.db.query("DELETE FROM kb_entries WHERE id = $1").bind(a.id).execute(s.db.writer()).await.map_err(db_err)?;
    if r.rows_affected() == 0 {
        return Err(ToolError::not_found(format!("knowledge-base entry {}", a.id)));
    }
    Ok(Out::new(Output { id: a.id }).text(format!("deleted knowledge-base entry {}", a.id)))
}
