//! The cache table, as a migration in both dialects (the same text: only
//! portable types). The `registry_` prefix is because in compose every
//! service shares one PostgreSQL database.
//!
//! One row per request (the URL, plus the body for OSV's POST queries):
//! the answer's text (capped by `REGISTRY_MAX_BODY_BYTES` before it is
//! stored), its HTTP status (200, or 404 so "no such package" is cached and
//! answerable offline too), the validators the registry gave (`etag`,
//! `last_modified`) for conditional requests, and when it was fetched or
//! last revalidated (Unix milliseconds for arithmetic, RFC 3339 for people).

use mcp_core::db::Migration;

const V1: &str = r#"
CREATE TABLE registry_cache (
  cache_key TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  status BIGINT NOT NULL,
  body TEXT NOT NULL,
  etag TEXT,
  last_modified TEXT,
  fetched_ms BIGINT NOT NULL,
  fetched_at TEXT NOT NULL
);
CREATE INDEX registry_cache_source ON registry_cache (source, fetched_ms);
"#;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[Migration { version: 1, name: "cache", sqlite: V1, postgres: V1 }];
