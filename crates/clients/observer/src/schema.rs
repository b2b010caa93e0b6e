//! The `spans` table, in both dialects.
//!
//! One row per span, keyed by `(trace_id, span_id)` so a retried export is
//! absorbed by `ON CONFLICT DO NOTHING` instead of duplicating rows. Columns
//! are chosen for Grafana as much as for the tools: `start_ms` (Unix ms) for
//! `$__timeFilter`, `duration_ms` as a float, the status as text, and the
//! attributes the dashboards group by (`tool`, `method`, `project`) pulled out
//! of the JSON into columns of their own. Ids are lowercase hex; a root span
//! has a NULL `parent_span_id`.

use mcp_core::db::Migration;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "spans",
    sqlite: r#"
CREATE TABLE spans (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  service TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ms BIGINT NOT NULL,
  start_unix_nano BIGINT NOT NULL,
  end_unix_nano BIGINT NOT NULL,
  duration_ms REAL NOT NULL,
  status_code TEXT NOT NULL,
  status_message TEXT,
  attributes TEXT NOT NULL,
  events TEXT NOT NULL,
  tool TEXT,
  method TEXT,
  project TEXT,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX spans_start ON spans (start_ms);
CREATE INDEX spans_service ON spans (service, start_ms);
CREATE INDEX spans_name ON spans (name, start_ms);
CREATE INDEX spans_duration ON spans (duration_ms);
CREATE INDEX spans_project ON spans (project, start_ms);
CREATE INDEX spans_status ON spans (status_code, start_ms);
"#,
    postgres: r#"
CREATE TABLE spans (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_span_id TEXT,
  service TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  start_ms BIGINT NOT NULL,
  start_unix_nano BIGINT NOT NULL,
  end_unix_nano BIGINT NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  status_code TEXT NOT NULL,
  status_message TEXT,
  attributes TEXT NOT NULL,
  events TEXT NOT NULL,
  tool TEXT,
  method TEXT,
  project TEXT,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX spans_start ON spans (start_ms);
CREATE INDEX spans_service ON spans (service, start_ms);
CREATE INDEX spans_name ON spans (name, start_ms);
CREATE INDEX spans_duration ON spans (duration_ms);
CREATE INDEX spans_project ON spans (project, start_ms);
CREATE INDEX spans_status ON spans (status_code, start_ms);
"#,
}];

/// The columns of `spans` in insert order (every one but none left out).
pub const COLUMNS: &[&str] = &[
    "trace_id",
    "span_id",
    "parent_span_id",
    "service",
    "name",
    "kind",
    "start_ms",
    "start_unix_nano",
    "end_unix_nano",
    "duration_ms",
    "status_code",
    "status_message",
    "attributes",
    "events",
    "tool",
    "method",
    "project",
    "received_ms",
];
