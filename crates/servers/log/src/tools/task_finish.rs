//! `task_finish`: record a task's outcome. Finishing twice with the same
//! outcome is accepted (a retried call); a different outcome is a conflict.

use mcp_core::prelude::*;

use super::db_err;
use super::tasks::{self, Task, check_id};
use crate::Log;

/// How a task ended.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It did its job.
    Succeeded,
    /// It failed.
    Failed,
    /// It was stopped.
    Cancelled,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The task id from task_start.
    pub id: String,
    /// succeeded, failed or cancelled.
    pub outcome: Outcome,
    /// Details of the outcome (any JSON, at most 16 KiB).
    pub result: Option<Value>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "task_finish",
        "Record that a task succeeded, failed or was cancelled, with optional result details.",
        Annotations::additive(true),
        run,
    )
    .title("Finish a task")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Task>, ToolError> {
    let id = check_id(&a.id)?;
    let result = a.result.filter(|v| !v.is_null()).map(|v| v.to_string());
    if let Some(r) = &result
        && r.len() > 16 * 1024
    {
        return Err(ToolError::invalid(format!("result is {} bytes of JSON, over 16384", r.len())));
    }
    let now = mcp_core::clock::now_ms();
    let done =
        s.db.query(
            "UPDATE tasks SET state = $1, finished_ms = $2, heartbeat_ms = $2, result = $3 \
             WHERE id = $4 AND state = 'running'",
        )
        .bind(a.outcome.as_str())
        .bind(now)
        .bind(result)
        .bind(id.clone())
        .execute(s.db.writer())
        .await
        .map_err(db_err)?
        .rows_affected();
    let t = tasks::get(&s, &id).await?;
    if done == 0 && t.state != a.outcome.as_str() {
        return Err(ToolError::conflict(format!("task {id} already finished as {}", t.state)));
    }
    let text = tasks::render(&t);
    Ok(Out::new(t).text(text))
}
