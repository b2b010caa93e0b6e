//! The tables this server owns, in both dialects. `level_num` orders levels
//! (TRACE 0 ... ERROR 4) so "warnings and worse" is one range condition.

use mcp_core::db::Migration;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "log lines and tasks",
    sqlite: r#"
CREATE TABLE log_lines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  level TEXT NOT NULL,
  level_num BIGINT NOT NULL,
  service TEXT NOT NULL,
  trace_id TEXT,
  span_id TEXT,
  target TEXT,
  message TEXT NOT NULL,
  fields TEXT
);
CREATE INDEX log_lines_trace ON log_lines (trace_id, ts_ms);
CREATE INDEX log_lines_service ON log_lines (service, ts_ms);
CREATE INDEX log_lines_level ON log_lines (level_num, ts_ms);
CREATE INDEX log_lines_time ON log_lines (ts_ms);
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  project TEXT,
  trace_id TEXT,
  state TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  heartbeat_ms BIGINT NOT NULL,
  finished_ms BIGINT,
  detail TEXT,
  result TEXT
);
CREATE INDEX tasks_state ON tasks (state, heartbeat_ms);
CREATE INDEX tasks_project ON tasks (project);
"#,
    postgres: r#"
CREATE TABLE log_lines (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  ts TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  level TEXT NOT NULL,
  level_num BIGINT NOT NULL,
  service TEXT NOT NULL,
  trace_id TEXT,
  span_id TEXT,
  target TEXT,
  message TEXT NOT NULL,
  fields TEXT
);
CREATE INDEX log_lines_trace ON log_lines (trace_id, ts_ms);
CREATE INDEX log_lines_service ON log_lines (service, ts_ms);
CREATE INDEX log_lines_level ON log_lines (level_num, ts_ms);
CREATE INDEX log_lines_time ON log_lines (ts_ms);
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  project TEXT,
  trace_id TEXT,
  state TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  heartbeat_ms BIGINT NOT NULL,
  finished_ms BIGINT,
  detail TEXT,
  result TEXT
);
CREATE INDEX tasks_state ON tasks (state, heartbeat_ms);
CREATE INDEX tasks_project ON tasks (project);
"#,
}];

/// Level names and their order.
pub fn level_num(level: &str) -> Option<i64> {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => Some(0),
        "DEBUG" => Some(1),
        "INFO" => Some(2),
        "WARN" | "WARNING" => Some(3),
        "ERROR" | "FATAL" | "CRITICAL" => Some(4),
        _ => None,
    }
}
