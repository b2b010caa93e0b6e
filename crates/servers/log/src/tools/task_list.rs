//! `task_list`: tasks by state and project, stalled ones marked.

use mcp_core::prelude::*;

use super::tasks::{self, Task};
use super::{db_err, limit};
use crate::Log;

/// Which tasks.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// Running, stalled or not (the default).
    #[default]
    Running,
    /// Running without recent heartbeats.
    Stalled,
    /// Succeeded, failed or cancelled.
    Finished,
    /// Every task.
    All,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// running (default), stalled, finished or all.
    #[serde(default)]
    pub state: Which,
    /// Only this project's tasks.
    pub project: Option<String>,
    /// Most tasks, latest started first (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Tasks, latest started first.
    pub tasks: Vec<Task>,
    /// How many of them are stalled.
    pub stalled: usize,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "task_list",
        "List tasks: running (default), stalled, finished or all, optionally for one project; stalled tasks (no \
         heartbeat within the threshold) are marked.",
        Annotations::read_only(),
        run,
    )
    .title("List tasks")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = limit(a.limit, 100, 1000)?;
    let now = mcp_core::clock::now_ms();
    let stall = s.config.stall.as_millis() as i64;
    // (state is, state is not, last heartbeat at most)
    let (is, is_not, max_heartbeat) = match a.state {
        Which::Running => (Some("running"), None, i64::MAX),
        Which::Stalled => (Some("running"), None, now - stall - 1),
        Which::Finished => (None, Some("running"), i64::MAX),
        Which::All => (None, None, i64::MAX),
    };
    let rows = s
        .db
        .query(
            "SELECT id, name, project, trace_id, state, started_ms, heartbeat_ms, finished_ms, detail, result \
             FROM tasks WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR state <> $2) AND heartbeat_ms <= $3 AND ($4 IS NULL OR project = $4) \
             ORDER BY started_ms DESC, id LIMIT $5",
        )
        .bind(is)
        .bind(is_not)
        .bind(max_heartbeat)
        .bind(a.project.filter(|p| !p.is_empty()))
        .bind(n)
        .fetch_all(s.db.reader())
        .await
        .map_err(db_err)?;
    let list: Vec<Task> = rows.iter().map(|r| tasks::from_row(r, now, stall)).collect();
    let stalled = list.iter().filter(|t| t.stalled).count();
    let text = if list.is_empty() {
        "no tasks".to_owned()
    } else {
        list.iter().map(tasks::render).collect::<Vec<_>>().join("\n")
    };
    Ok(Out::new(Output { tasks: list, stalled }).text(text))
}
