//! The tables this server owns, as migrations in both dialects (the same
//! text: only portable types are used). Names carry the `test_` prefix
//! because in compose every service shares one PostgreSQL database.
//!
//! Times are stored twice, like the sql server's: RFC 3339 text for people
//! and Unix milliseconds for ordering. Booleans are `0`/`1` integers, which
//! both backends read back the same way through sqlx's `Any` driver.

use mcp_core::db::Migration;

/// Runs and their per-test rows.
const V1: &str = r#"
CREATE TABLE test_runs (
  run_id TEXT PRIMARY KEY,
  project TEXT NOT NULL,
  runner TEXT NOT NULL,
  argv TEXT NOT NULL,
  commit_sha TEXT,
  verdict TEXT NOT NULL,
  exit_code BIGINT,
  duration_ms BIGINT NOT NULL,
  tests BIGINT NOT NULL,
  passed BIGINT NOT NULL,
  failed BIGINT NOT NULL,
  errors BIGINT NOT NULL,
  skipped BIGINT NOT NULL,
  xfailed BIGINT NOT NULL,
  xpassed BIGINT NOT NULL,
  flaky BIGINT NOT NULL,
  summary TEXT NOT NULL,
  note TEXT,
  coverage_percent DOUBLE PRECISION,
  started_at TEXT NOT NULL,
  started_ms BIGINT NOT NULL
);
CREATE INDEX test_runs_project ON test_runs (project, started_ms);
CREATE TABLE test_cases (
  run_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  case_id TEXT NOT NULL,
  name TEXT NOT NULL,
  suite TEXT,
  status TEXT NOT NULL,
  duration_ms BIGINT NOT NULL,
  message TEXT,
  file TEXT,
  line BIGINT,
  output TEXT,
  flaky BIGINT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX test_cases_id ON test_cases (case_id, run_id);
"#;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[Migration { version: 1, name: "runs and cases", sqlite: V1, postgres: V1 }];
