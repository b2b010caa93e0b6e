//! `logs_tail`: the latest lines, or the lines after a cursor, so a caller
//! can follow the log by passing back the `cursor` it was given.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{db_err, limit};
use crate::Log;
use crate::lines::{self, Line, render};
use crate::schema::level_num;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this service.
    pub service: Option<String>,
    /// This level and worse.
    pub min_level: Option<String>,
    /// Lines stored after this cursor (from a previous call). Absent: the latest lines.
    pub after: Option<i64>,
    /// Most lines (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// The lines and where to continue.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Lines, oldest first.
    pub lines: Vec<Line>,
    /// Pass as `after` to get what comes next.
    pub cursor: i64,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "logs_tail",
        "The latest log lines (optionally one service, one minimum level), or those stored after a cursor from a \
         previous call, oldest first.",
        Annotations::read_only(),
        run,
    )
    .title("Tail logs")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = limit(a.limit, 100, 1000)?;
    let min = match a.min_level.as_deref() {
        None => 0,
        Some(l) => level_num(l).ok_or_else(|| ToolError::invalid(format!("unknown level {l:?}")))?,
    };
    let service = a.service.filter(|s| !s.is_empty());
    let db = &s.db;
    let mut lines: Vec<Line> = match a.after {
        Some(after) => db
            .query(
                "SELECT id, ts, level, service, trace_id, span_id, target, message, fields FROM log_lines \
                 WHERE id > $1 AND level_num >= $2 AND ($3 IS NULL OR service = $3) ORDER BY id LIMIT $4",
            )
            .bind(after)
            .bind(min)
            .bind(service)
            .bind(n)
            .fetch_all(db.reader())
            .await
            .map_err(db_err)?
            .iter()
            .map(lines::from_row)
            .collect(),
        None => {
            let mut v: Vec<Line> = db
                .query(
                    "SELECT id, ts, level, service, trace_id, span_id, target, message, fields FROM log_lines \
                     WHERE level_num >= $1 AND ($2 IS NULL OR service = $2) ORDER BY id DESC LIMIT $3",
                )
                .bind(min)
                .bind(service)
                .bind(n)
                .fetch_all(db.reader())
                .await
                .map_err(db_err)?
                .iter()
                .map(lines::from_row)
                .collect();
            v.reverse();
            v
        }
    };
    lines.sort_by_key(|l| l.id);
    let cursor = match (lines.last(), a.after) {
        (Some(l), _) => l.id,
        (None, Some(after)) => after,
        // Nothing matched yet: continue from the end of the log as it is
        // now, not from its beginning.
        (None, None) => {
            db.query("SELECT COALESCE(MAX(id), 0) FROM log_lines").fetch_one(db.reader()).await.map_err(db_err)?.get(0)
        }
    };
    let text = if lines.is_empty() {
        "no new lines".to_owned()
    } else {
        lines.iter().map(render).collect::<Vec<_>>().join("\n")
    };
    Ok(Out::new(Output { lines, cursor }).text(text))
}
