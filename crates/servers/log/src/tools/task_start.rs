//! `task_start`: register a long-running job so it can be watched. Starting
//! again with the same `id` while it runs resumes it (a restarted planner
//! picks its task back up) instead of creating a duplicate.

use mcp_core::prelude::*;

use super::tasks::{self, Task, check_id};
use super::{db_err, name, text};
use crate::Log;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What the task is ("build", "test", "deploy", ...).
    pub name: String,
    /// The project it belongs to.
    pub project: Option<String>,
    /// The trace it runs under (default: the caller's trace).
    pub trace_id: Option<String>,
    /// A first progress note.
    pub detail: Option<String>,
    /// Your own id (letters, digits, `._:-`), to make starting idempotent. Default: a new random id.
    pub id: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "task_start",
        "Register a running task (returns its id). Send task_heartbeat while it works and task_finish when done; a \
         task without heartbeats for the stall threshold shows as stalled. Starting an id that is still running \
         resumes it.",
        Annotations::additive(true),
        run,
    )
    .title("Start a task")
}

async fn run(s: Arc<Log>, a: Args, ctx: Ctx) -> Result<Out<Task>, ToolError> {
    let task_name = name("name", &a.name, 128)?;
    let project = a.project.as_deref().map(|p| name("project", p, 256)).transpose()?;
    if let Some(d) = &a.detail {
        text("detail", d, 4096)?;
    }
    let trace_id = match a.trace_id.as_deref().or(ctx.trace_id()) {
        Some(t) => Some(crate::lines::normalize_trace_id(t).map_err(ToolError::invalid)?),
        None => None,
    };
    let id = match a.id.as_deref() {
        Some(id) => check_id(id)?,
        None => format!("task-{:016x}", rand::random::<u64>()),
    };
    let now = mcp_core::clock::now_ms();
    // Insert unless present; then look at what is there. One statement in
    // both dialects, so two concurrent starts of one id cannot both insert.
    s.db.query(
        "INSERT INTO tasks (id, name, project, trace_id, state, started_ms, heartbeat_ms, detail) \
         VALUES ($1, $2, $3, $4, 'running', $5, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(id.clone())
    .bind(task_name.clone())
    .bind(project.clone())
    .bind(trace_id)
    .bind(now)
    .bind(a.detail.clone())
    .execute(s.db.writer())
    .await
    .map_err(db_err)?;
    let existing = tasks::get(&s, &id).await?;
    if existing.state != "running" {
        return Err(ToolError::conflict(format!("task {id} already finished ({}); use a new id", existing.state)));
    }
    if existing.name != task_name || existing.project != project {
        return Err(ToolError::conflict(format!(
            "task {id} is a running {:?} task of another project or name",
            existing.name
        )));
    }
    // Resumed: count it as a heartbeat.
    s.db.query("UPDATE tasks SET heartbeat_ms = $1, detail = COALESCE($2, detail) WHERE id = $3 AND state = 'running'")
        .bind(now)
        .bind(a.detail)
        .bind(id.clone())
        .execute(s.db.writer())
        .await
        .map_err(db_err)?;
    let t = tasks::get(&s, &id).await?;
    let text = tasks::render(&t);
    Ok(Out::new(t).text(text))
}
