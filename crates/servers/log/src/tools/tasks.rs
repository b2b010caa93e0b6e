//! The task table, shared by the `task_*` tools and the stall watch.
//!
//! A task is `running` from `task_start` until `task_finish` sets
//! `succeeded`, `failed` or `cancelled`. "Stalled" is not stored: it is a
//! running task whose last heartbeat is older than `LOG_TASK_STALL_SECS`,
//! computed when read, so it can never disagree with the heartbeats.

use mcp_core::ToolError;
use mcp_core::db::sqlx::Row;
use mcp_core::db::sqlx::any::AnyRow;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::{db_err, name};
use crate::Log;

/// The columns [`from_row`] reads, in its order.
pub const COLUMNS: &str = "id, name, project, trace_id, state, started_ms, heartbeat_ms, finished_ms, detail, result";

/// A task as the tools return it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Task {
    /// Task id.
    pub id: String,
    /// What it is ("build", "test", ...).
    pub name: String,
    /// Project it belongs to.
    pub project: Option<String>,
    /// Trace it runs under.
    pub trace_id: Option<String>,
    /// running, succeeded, failed or cancelled.
    pub state: String,
    /// Running without a heartbeat for longer than the stall threshold.
    pub stalled: bool,
    /// Seconds since the last heartbeat (running tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent_secs: Option<i64>,
    /// Started, RFC 3339.
    pub started_at: String,
    /// Last heartbeat, RFC 3339.
    pub heartbeat_at: String,
    /// Finished, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// The latest progress note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The outcome's details (JSON when it was JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

fn at(ms: i64) -> String {
    mcp_core::clock::rfc3339(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000)
}

/// A row selected with [`COLUMNS`], judged against `stall_ms` at `now`.
pub fn from_row(r: &AnyRow, now: i64, stall_ms: i64) -> Task {
    let state: String = r.get(4);
    let heartbeat: i64 = r.get(6);
    let finished: Option<i64> = r.get(7);
    let running = state == "running";
    let result: Option<String> = r.get(9);
    Task {
        id: r.get(0),
        name: r.get(1),
        project: r.get(2),
        trace_id: r.get(3),
        stalled: running && now - heartbeat > stall_ms,
        silent_secs: running.then(|| (now - heartbeat).max(0) / 1000),
        state,
        started_at: at(r.get(5)),
        heartbeat_at: at(heartbeat),
        finished_at: finished.map(at),
        detail: r.get(8),
        result: result.map(|t| serde_json::from_str(&t).unwrap_or(Value::String(t))),
    }
}

/// A task id: letters, digits and `._:-`, at most 128 bytes.
pub fn check_id(id: &str) -> Result<String, ToolError> {
    let id = name("id", id, 128)?;
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) {
        return Err(ToolError::invalid("id may hold only letters, digits and . _ : -"));
    }
    Ok(id)
}

/// One task by id.
pub async fn get(s: &Log, id: &str) -> Result<Task, ToolError> {
    let row =
        s.db.query(
            "SELECT id, name, project, trace_id, state, started_ms, heartbeat_ms, finished_ms, detail, result \
             FROM tasks WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_optional(s.db.writer())
        .await
        .map_err(db_err)?
        .ok_or_else(|| ToolError::not_found(format!("task {id}")))?;
    Ok(from_row(&row, mcp_core::clock::now_ms(), s.config.stall.as_millis() as i64))
}

/// Running tasks silent for longer than the threshold: the stall gauge.
pub async fn count_stalled(s: &Log) -> Result<i64, mcp_core::db::sqlx::Error> {
    let cutoff = mcp_core::clock::now_ms() - s.config.stall.as_millis() as i64;
    Ok(s.db
        .query("SELECT COUNT(*) FROM tasks WHERE state = 'running' AND heartbeat_ms < $1")
        .bind(cutoff)
        .fetch_one(s.db.reader())
        .await?
        .get(0))
}

/// One line about a task.
pub fn render(t: &Task) -> String {
    let state = if t.stalled { format!("stalled ({}s silent)", t.silent_secs.unwrap_or(0)) } else { t.state.clone() };
    let project = t.project.as_deref().map(|p| format!(" [{p}]")).unwrap_or_default();
    let detail = t.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    format!("{} {}{} {}{}", t.id, t.name, project, state, detail)
}
