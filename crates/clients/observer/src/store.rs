//! The `spans` table: batch inserts and the queries behind the tools and
//! the HTTP routes.
//!
//! A batch is written in one transaction as multi-row `INSERT ... ON
//! CONFLICT (trace_id, span_id) DO NOTHING` statements (both dialects accept
//! that form), so a retried export neither fails nor duplicates. On SQLite the
//! writer pool has one connection, so concurrent exports queue there instead
//! of fighting over the file lock. Reads go to the reader pool.

use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Db, DbError};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::otlp::SpanRow;
use crate::schema::{COLUMNS, MIGRATIONS};

/// Rows per INSERT statement: 64 rows × 18 columns stays far below both
/// backends' bound-parameter limits (32766 and 65535), and is large enough
/// that per-statement overhead is small (ingest figures: `monitoring/README.md`).
const ROWS_PER_STATEMENT: usize = 64;

/// The columns read back for a span, in this order (see [`stored`]).
const SELECT_SPAN: &str = "SELECT trace_id, span_id, parent_span_id, service, name, kind, start_ms, start_unix_nano, \
     end_unix_nano, duration_ms, status_code, status_message, attributes, events FROM spans";

/// A span as read back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StoredSpan {
    /// Trace id.
    pub trace_id: String,
    /// Span id.
    pub span_id: String,
    /// Parent span id (none for a root).
    pub parent_span_id: Option<String>,
    /// Service that exported it.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: String,
    /// Start, Unix ms.
    pub start_ms: i64,
    /// Start, Unix ns.
    pub start_unix_nano: i64,
    /// End, Unix ns.
    pub end_unix_nano: i64,
    /// Duration, ms.
    pub duration_ms: f64,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: String,
    /// Status message.
    pub status_message: Option<String>,
    /// Attributes (object).
    pub attributes: Value,
    /// Events (array).
    pub events: Value,
}

fn stored(r: &AnyRow) -> Result<StoredSpan, sqlx::Error> {
    let json = |s: String| serde_json::from_str(&s).unwrap_or(Value::String(s));
    Ok(StoredSpan {
        trace_id: r.try_get(0)?,
        span_id: r.try_get(1)?,
        parent_span_id: r.try_get(2)?,
        service: r.try_get(3)?,
        name: r.try_get(4)?,
        kind: r.try_get(5)?,
        start_ms: r.try_get(6)?,
        start_unix_nano: r.try_get(7)?,
        end_unix_nano: r.try_get(8)?,
        duration_ms: r.try_get(9)?,
        status_code: r.try_get(10)?,
        status_message: r.try_get(11)?,
        attributes: json(r.try_get(12)?),
        events: json(r.try_get(13)?),
    })
}

/// One line per trace in a search.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceSummary {
    /// Trace id.
    pub trace_id: String,
    /// Name of the root span (the earliest span whose parent is not stored).
    pub root_name: String,
    /// Service of the root span.
    pub root_service: String,
    /// Every service with a span in the trace, sorted.
    pub services: Vec<String>,
    /// Start of the earliest span, RFC 3339.
    pub start: String,
    /// Start of the earliest span, Unix ms.
    pub start_ms: i64,
    /// From the earliest start to the latest end, ms.
    pub duration_ms: f64,
    /// Spans stored for the trace.
    pub span_count: i64,
    /// Spans with status ERROR.
    pub error_count: i64,
}

/// What to search for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Spans of this service.
    pub service: Option<String>,
    /// Spans with this name, or this tool name.
    pub operation: Option<String>,
    /// Spans at least this long.
    pub min_duration_ms: Option<f64>,
    /// Only spans with status ERROR.
    pub errors_only: bool,
    /// Spans of this project.
    pub project: Option<String>,
    /// Spans starting at or after, Unix ms.
    pub since_ms: i64,
    /// Spans starting at or before, Unix ms.
    pub until_ms: i64,
    /// Order: most recent first, or slowest matching span first.
    pub slowest_first: bool,
    /// Most traces.
    pub limit: i64,
}

/// The store.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Connect and migrate.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        Ok(Self { db: Db::connect(url, "observer", MIGRATIONS).await? })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Write a batch in one transaction; returns how many rows were new (the
    /// rest were already stored: a retried export).
    pub async fn insert(&self, rows: &[SpanRow], received_ms: i64) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.writer().begin().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let sql = insert_sql(chunk.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&sql).into_owned()));
            for r in chunk {
                q = q
                    .bind(r.trace_id.as_str())
                    .bind(r.span_id.as_str())
                    .bind(r.parent_span_id.as_deref())
                    .bind(r.service.as_str())
                    .bind(r.name.as_str())
                    .bind(r.kind)
                    .bind(r.start_ms)
                    .bind(r.start_unix_nano)
                    .bind(r.end_unix_nano)
                    .bind(r.duration_ms)
                    .bind(r.status_code)
                    .bind(r.status_message.as_deref())
                    .bind(r.attributes.as_str())
                    .bind(r.events.as_str())
                    .bind(r.tool.as_deref())
                    .bind(r.method.as_deref())
                    .bind(r.project.as_deref())
                    .bind(received_ms);
            }
            inserted += q.execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// The spans of one trace, earliest first, at most `max`; and whether
    /// more were stored.
    pub async fn trace(&self, trace_id: &str, max: usize) -> Result<(Vec<StoredSpan>, bool), sqlx::Error> {
        let sql = format!("{SELECT_SPAN} WHERE trace_id = $1 ORDER BY start_unix_nano, span_id LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&sql).into_owned()))
            .bind(trace_id)
            .bind(max as i64 + 1)
            .fetch_all(self.db.reader())
            .await?;
        let mut spans = rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
        let truncated = spans.len() > max;
        spans.truncate(max);
        Ok((spans, truncated))
    }

    /// Spans stored for a trace.
    pub async fn count(&self, trace_id: &str) -> Result<i64, sqlx::Error> {
        self.db
            .query("SELECT COUNT(*) FROM spans WHERE trace_id = $1")
            .bind(trace_id)
            .fetch_one(self.db.reader())
            .await?
            .try_get(0)
    }

    /// Traces with at least one span matching `s`, one summary each.
    pub async fn search(&self, s: &Search) -> Result<Vec<TraceSummary>, sqlx::Error> {
        // Two static texts rather than a built ORDER BY: the filters are all
        // bound parameters, so nothing from the caller reaches the SQL text.
        let q = if s.slowest_first {
            self.db.query(
                "SELECT trace_id FROM spans WHERE start_ms >= $1 AND start_ms <= $2 \
                 AND ($3 IS NULL OR service = $3) AND ($4 IS NULL OR name = $4 OR tool = $4) \
                 AND duration_ms >= $5 AND ($6 = 0 OR status_code = 'ERROR') \
                 AND ($7 IS NULL OR project = $7) \
                 GROUP BY trace_id ORDER BY MAX(duration_ms) DESC, trace_id LIMIT $8",
            )
        } else {
            self.db.query(
                "SELECT trace_id FROM spans WHERE start_ms >= $1 AND start_ms <= $2 \
                 AND ($3 IS NULL OR service = $3) AND ($4 IS NULL OR name = $4 OR tool = $4) \
                 AND duration_ms >= $5 AND ($6 = 0 OR status_code = 'ERROR') \
                 AND ($7 IS NULL OR project = $7) \
                 GROUP BY trace_id ORDER BY MAX(start_unix_nano) DESC, trace_id LIMIT $8",
            )
        };
        let ids: Vec<String> = q
            .bind(s.since_ms)
            .bind(s.until_ms)
            .bind(s.service.as_deref())
            .bind(s.operation.as_deref())
            // Always a number: sqlx 0.9's Any driver binds a NULL double as
            // float4 on PostgreSQL, which breaks the cached statement for the
            // next call that binds a real float8. Durations are never negative.
            .bind(s.min_duration_ms.unwrap_or(-1.0))
            .bind(i64::from(s.errors_only))
            .bind(s.project.as_deref())
            .bind(s.limit)
            .fetch_all(self.db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        let mut out = self.summaries(&ids).await?;
        // Keep the order the search chose.
        out.sort_by_key(|t| ids.iter().position(|i| *i == t.trace_id));
        Ok(out)
    }

    /// Summaries of the given traces (those with no stored span are left out).
    pub async fn summaries(&self, ids: &[String]) -> Result<Vec<TraceSummary>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = placeholders(1, ids.len());
        let bind_all = |sql: String| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&sql).into_owned()));
            for id in ids {
                q = q.bind(id.as_str());
            }
            q
        };
        let totals = bind_all(format!(
            "SELECT trace_id, MIN(start_unix_nano), MAX(end_unix_nano), COUNT(*), \
             SUM(CASE WHEN status_code = 'ERROR' THEN 1 ELSE 0 END) FROM spans WHERE trace_id IN ({list}) GROUP BY trace_id"
        ))
        .fetch_all(self.db.reader())
        .await?;
        let services = bind_all(format!(
            "SELECT DISTINCT trace_id, service FROM spans WHERE trace_id IN ({list}) ORDER BY trace_id, service"
        ))
        .fetch_all(self.db.reader())
        .await?;
        let roots = bind_all(format!(
            "SELECT s.trace_id, s.name, s.service FROM spans s WHERE s.trace_id IN ({list}) AND (s.parent_span_id IS NULL \
             OR NOT EXISTS (SELECT 1 FROM spans p WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)) \
             ORDER BY s.start_unix_nano DESC"
        ))
        .fetch_all(self.db.reader())
        .await?;
        let mut out = Vec::with_capacity(totals.len());
        for r in &totals {
            let trace_id: String = r.try_get(0)?;
            let start: i64 = r.try_get(1)?;
            let end: i64 = r.try_get(2)?;
            // Roots come latest first, so the last match is the earliest root.
            let mut root = (String::new(), String::new());
            for x in &roots {
                if x.try_get::<String, _>(0)? == trace_id {
                    root = (x.try_get(1)?, x.try_get(2)?);
                }
            }
            let mut svc = Vec::new();
            for x in &services {
                if x.try_get::<String, _>(0)? == trace_id {
                    svc.push(x.try_get(1)?);
                }
            }
            out.push(TraceSummary {
                trace_id,
                root_name: root.0,
                root_service: root.1,
                services: svc,
                start: rfc3339_ns(start),
                start_ms: start / 1_000_000,
                duration_ms: (end - start).max(0) as f64 / 1e6,
                span_count: r.try_get(3)?,
                error_count: r.try_get(4)?,
            });
        }
        Ok(out)
    }

    /// Traces with spans tagged with `project`, latest first.
    pub async fn project_traces(&self, project: &str, limit: i64) -> Result<Vec<String>, sqlx::Error> {
        self.db
            .query(
                "SELECT trace_id FROM spans WHERE project = $1 GROUP BY trace_id \
                 ORDER BY MAX(start_unix_nano) DESC LIMIT $2",
            )
            .bind(project)
            .bind(limit)
            .fetch_all(self.db.reader())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect()
    }

    /// Delete spans that started before `before_ms`; returns how many.
    pub async fn purge(&self, before_ms: i64) -> Result<u64, sqlx::Error> {
        Ok(self
            .db
            .query("DELETE FROM spans WHERE start_ms < $1")
            .bind(before_ms)
            .execute(self.db.writer())
            .await?
            .rows_affected())
    }
}

fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

fn insert_sql(rows: usize) -> String {
    let cols = COLUMNS.len();
    let mut sql = format!("INSERT INTO spans ({}) VALUES ", COLUMNS.join(", "));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&placeholders(r * cols + 1, cols));
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (trace_id, span_id) DO NOTHING");
    sql
}

pub use mcp_core::clock::rfc3339_ns;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_text_numbers_every_parameter() {
        let sql = insert_sql(2);
        assert!(sql.contains("($1, $2,"), "{sql}");
        assert!(sql.contains(&format!("${})", 2 * COLUMNS.len())), "{sql}");
        assert!(sql.ends_with("ON CONFLICT (trace_id, span_id) DO NOTHING"));
    }

    #[test]
    fn nanos_format() {
        assert_eq!(rfc3339_ns(1_500_000_000), "1970-01-01T00:00:01.5Z");
    }
}
