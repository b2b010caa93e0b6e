//! The planner's tables, in both dialects: runs (one per request) and their
//! steps, the checkpoints a restarted planner resumes from.

use mcp_core::db::Migration;

const TABLES: &str = r#"
CREATE TABLE planner_runs (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL,
  template TEXT NOT NULL,
  spec TEXT NOT NULL,
  request TEXT NOT NULL,
  budget TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT,
  trace_id TEXT,
  traceparent TEXT,
  steps_used BIGINT NOT NULL,
  tokens_used BIGINT NOT NULL,
  cancel_requested BIGINT NOT NULL,
  owner TEXT,
  lease_ms BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  finished_ms BIGINT
);
CREATE INDEX planner_runs_state ON planner_runs (state, created_ms);
CREATE TABLE planner_steps (
  run_id TEXT NOT NULL,
  idx BIGINT NOT NULL,
  key TEXT NOT NULL,
  def TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  started_ms BIGINT,
  finished_ms BIGINT,
  result TEXT,
  error TEXT,
  PRIMARY KEY (run_id, idx)
);
"#;

/// Why a step failed, as data (`mcp_core::ErrorKind`'s text form): a budget
/// stop is recognised after a restart from this, not from message text.
const STEP_ERROR_KIND: &str = "ALTER TABLE planner_steps ADD COLUMN error_kind TEXT";

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "runs and steps", sqlite: TABLES, postgres: TABLES },
    Migration { version: 2, name: "step error kinds", sqlite: STEP_ERROR_KIND, postgres: STEP_ERROR_KIND },
];
