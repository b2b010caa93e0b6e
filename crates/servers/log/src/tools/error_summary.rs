//! `error_summary`: warnings and errors in a time range, grouped by service
//! and message, most frequent first, each with its latest trace to follow up.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::query::time;
use super::{db_err, limit};
use crate::Log;
use crate::schema::level_num;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// From: RFC 3339 or a span back from now like `15m`, `24h` (default `1h`).
    pub since: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// Lowest level counted (default WARN).
    pub min_level: Option<String>,
    /// Most groups (default 20, at most 200).
    pub limit: Option<i64>,
}

/// One group of identical messages.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Group {
    /// Service.
    pub service: String,
    /// Level.
    pub level: String,
    /// Message.
    pub message: String,
    /// How many times.
    pub count: i64,
    /// The last time, RFC 3339.
    pub last_ts: String,
    /// A trace it happened in (the latest with one).
    pub trace_id: Option<String>,
}

/// The summary.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Lines counted.
    pub total: i64,
    /// Groups, most frequent first.
    pub groups: Vec<Group>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "error_summary",
        "Warnings and errors in a time range (default the last hour), grouped by service and message, most frequent \
         first, each with a trace_id to look into.",
        Annotations::read_only(),
        run,
    )
    .title("Error summary")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = limit(a.limit, 20, 200)?;
    let since = time("since", a.since.as_deref().unwrap_or("1h"))?;
    let min = match a.min_level.as_deref() {
        None => 3,
        Some(l) => level_num(l).ok_or_else(|| ToolError::invalid(format!("unknown level {l:?}")))?,
    };
    let service = a.service.filter(|s| !s.is_empty());
    let db = &s.db;
    let rows = db
        .query(
            "SELECT service, level, message, COUNT(*), MAX(ts), MAX(trace_id) FROM log_lines \
             WHERE ts_ms >= $1 AND level_num >= $2 AND ($3 IS NULL OR service = $3) \
             GROUP BY service, level, message ORDER BY COUNT(*) DESC, MAX(ts_ms) DESC LIMIT $4",
        )
        .bind(since)
        .bind(min)
        .bind(service.clone())
        .bind(n)
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    let groups: Vec<Group> = rows
        .iter()
        .map(|r| Group {
            service: r.get(0),
            level: r.get(1),
            message: r.get(2),
            count: r.get(3),
            last_ts: r.get(4),
            trace_id: r.get(5),
        })
        .collect();
    let total: i64 = db
        .query("SELECT COUNT(*) FROM log_lines WHERE ts_ms >= $1 AND level_num >= $2 AND ($3 IS NULL OR service = $3)")
        .bind(since)
        .bind(min)
        .bind(service)
        .fetch_one(db.reader())
        .await
        .map_err(db_err)?
        .get(0);
    let text = if groups.is_empty() {
        "no warnings or errors".to_owned()
    } else {
        let mut t = format!("{total} lines\n");
        for g in &groups {
            t.push_str(&format!("{:>5}x {} {} {}\n", g.count, g.level, g.service, g.message));
        }
        t
    };
    Ok(Out::new(Output { total, groups }).text(text))
}
