//! `task_heartbeat`: a running task says it is alive, optionally with a
//! progress note.

use mcp_core::prelude::*;

use super::tasks::{self, Task, check_id};
use super::{db_err, text};
use crate::Log;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The task id from task_start.
    pub id: String,
    /// A progress note ("3/7 test suites done").
    pub detail: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "task_heartbeat",
        "Mark a running task alive now, optionally with a progress note. Fails if the task is unknown or finished.",
        Annotations::additive(true),
        run,
    )
    .title("Task heartbeat")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Task>, ToolError> {
    let id = check_id(&a.id)?;
    if let Some(d) = &a.detail {
        text("detail", d, 4096)?;
    }
    let done = s
        .db
        .query("UPDATE tasks SET heartbeat_ms = $1, detail = COALESCE($2, detail) WHERE id = $3 AND state = 'running'")
        .bind(mcp_core::clock::now_ms())
        .bind(a.detail)
        .bind(id.clone())
        .execute(s.db.writer())
        .await
        .map_err(db_err)?
        .rows_affected();
    let t = tasks::get(&s, &id).await?;
    if done == 0 {
        return Err(ToolError::conflict(format!("task {id} is {}, not running", t.state)));
    }
    let text = tasks::render(&t);
    Ok(Out::new(t).text(text))
}
