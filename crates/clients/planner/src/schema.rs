//! The planner's tables, in both dialects: runs (one per request) and their
//! steps, the checkpoints a restarted planner resumes from, and the approvals
//! steps wait for.

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

/// Human approval gates: one row per run and step (the gate creates it
/// idempotently on that pair), decided once. `approvers` is a JSON array: the
/// addresses the approval email went to, kept with the row so a later
/// change of `PLANNER_APPROVERS` does not change who may answer it.
const APPROVALS: &str = r#"
CREATE TABLE planner_approvals (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  request_id TEXT NOT NULL,
  step TEXT NOT NULL,
  action TEXT NOT NULL,
  summary TEXT NOT NULL,
  approvers TEXT NOT NULL,
  state TEXT NOT NULL,
  requested_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL,
  decided_ms BIGINT,
  decided_by TEXT,
  reason TEXT,
  trace_id TEXT,
  UNIQUE (run_id, step)
);
CREATE INDEX planner_approvals_state ON planner_approvals (state, expires_ms);
CREATE INDEX planner_approvals_requested ON planner_approvals (requested_ms);
"#;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "runs and steps", sqlite: TABLES, postgres: TABLES },
    Migration { version: 2, name: "step error kinds", sqlite: STEP_ERROR_KIND, postgres: STEP_ERROR_KIND },
    Migration { version: 3, name: "approvals", sqlite: APPROVALS, postgres: APPROVALS },
];
