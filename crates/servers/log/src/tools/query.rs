//! The one filtered query behind `logs_by_trace`, `logs_search` and
//! `GET /api/logs`. Every query is bounded: by trace_id (an index), or by a
//! time range that defaults to the last hour, and always by a row limit.

use mcp_core::ToolError;

use super::{db_err, limit};
use crate::Log;
use crate::lines::{self, Line};
use crate::schema::level_num;

/// What to select. All set filters must hold.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Lines of this trace.
    pub trace_id: Option<String>,
    /// Lines of this service.
    pub service: Option<String>,
    /// This level and worse.
    pub min_level: Option<String>,
    /// Message contains this text, case-insensitively (no wildcards).
    pub contains: Option<String>,
    /// From (RFC 3339 or `15m`-style span back from now).
    pub since: Option<String>,
    /// Until (same forms).
    pub until: Option<String>,
}

/// Which end of the range a limit keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The first lines, oldest first.
    Oldest,
    /// The latest lines, newest first.
    Newest,
}

/// Most lines one query returns.
pub const MAX_LIMIT: i64 = 5000;

/// A point in time from the caller.
pub fn time(name: &str, v: &str) -> Result<i64, ToolError> {
    mcp_core::clock::parse_time(v)
        .ok_or_else(|| ToolError::invalid(format!("{name} {v:?} is neither RFC 3339 nor a span like 30s, 15m, 2h, 7d")))
}

/// `%text%` for LIKE with `\` as the escape character, so `%` and `_` in
/// the caller's text are matched literally.
pub fn like_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Run the query.
pub async fn run(s: &Log, f: Filter, n: Option<i64>, order: Order) -> Result<Vec<Line>, ToolError> {
    let n = limit(n, 500, MAX_LIMIT)?;
    let trace = f.trace_id.as_deref().map(lines::normalize_trace_id).transpose().map_err(ToolError::invalid)?;
    let min = match f.min_level.as_deref() {
        None => 0,
        Some(l) => level_num(l)
            .ok_or_else(|| ToolError::invalid(format!("unknown level {l:?}: use TRACE, DEBUG, INFO, WARN or ERROR")))?,
    };
    let now = mcp_core::clock::now_ms();
    let since = match (f.since.as_deref(), &trace) {
        (Some(v), _) => time("since", v)?,
        // One trace is small and indexed: all of it, whenever it happened.
        (None, Some(_)) => 0,
        (None, None) => now - 3_600_000,
    };
    let until = match f.until.as_deref() {
        Some(v) => time("until", v)?,
        None => i64::MAX,
    };
    if since > until {
        return Err(ToolError::invalid("since is after until"));
    }
    let pattern = match f.contains.as_deref() {
        None => None,
        Some(t) if t.is_empty() || t.len() > 512 => {
            return Err(ToolError::invalid("the search text must be 1 to 512 bytes"));
        }
        Some(t) => Some(like_pattern(t)),
    };
    let service = f.service.filter(|s| !s.is_empty());
    let db = &s.db;
    // Two static texts rather than a built one: the ORDER BY is the only
    // difference, and static SQL keeps injection impossible by construction.
    let q = match order {
        Order::Oldest => db.query(
            "SELECT id, ts, level, service, trace_id, span_id, target, message, fields FROM log_lines \
             WHERE ts_ms >= $1 AND ts_ms <= $2 AND level_num >= $3 \
             AND ($4 IS NULL OR trace_id = $4) AND ($5 IS NULL OR service = $5) \
             AND ($6 IS NULL OR LOWER(message) LIKE $6 ESCAPE '\\') \
             ORDER BY ts_ms, id LIMIT $7",
        ),
        Order::Newest => db.query(
            "SELECT id, ts, level, service, trace_id, span_id, target, message, fields FROM log_lines \
             WHERE ts_ms >= $1 AND ts_ms <= $2 AND level_num >= $3 \
             AND ($4 IS NULL OR trace_id = $4) AND ($5 IS NULL OR service = $5) \
             AND ($6 IS NULL OR LOWER(message) LIKE $6 ESCAPE '\\') \
             ORDER BY ts_ms DESC, id DESC LIMIT $7",
        ),
    };
    let rows = q
        .bind(since)
        .bind(until)
        .bind(min)
        .bind(trace)
        .bind(service)
        .bind(pattern)
        .bind(n)
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    Ok(rows.iter().map(lines::from_row).collect())
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Hello"), "%hello%");
    }
}
