//! The tables this server owns, as migrations in both dialects. They differ
//! only where they must: identity columns, and full-text search (an FTS5
//! table kept in step by triggers on SQLite, a generated `tsvector` column
//! with a GIN index on PostgreSQL).
//!
//! Times are stored twice: RFC 3339 text for people and Unix milliseconds for
//! ordering and range queries (Grafana's panels use the latter).

use mcp_core::db::Migration;

/// The idempotency table: the same text in both dialects.
const IDEMPOTENCY: &str = r#"
CREATE TABLE sql_idempotency (
  tool TEXT NOT NULL,
  key TEXT NOT NULL,
  args_sha256 TEXT NOT NULL,
  record_id BIGINT NOT NULL,
  result TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  PRIMARY KEY (tool, key)
);
"#;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "knowledge base, messages, decisions",
        sqlite: r#"
CREATE TABLE kb_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT ',',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX kb_entries_project ON kb_entries (project, updated_ms);
CREATE VIRTUAL TABLE kb_fts USING fts5(title, body, tags, content='kb_entries', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER kb_entries_ai AFTER INSERT ON kb_entries BEGIN
  INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
END;;
CREATE TRIGGER kb_entries_ad AFTER DELETE ON kb_entries BEGIN
  INSERT INTO kb_fts(kb_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags);
END;;
CREATE TRIGGER kb_entries_au AFTER UPDATE ON kb_entries BEGIN
  INSERT INTO kb_fts(kb_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags);
  INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
END;;
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT,
  thread_id TEXT,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  from_addr TEXT,
  to_addr TEXT,
  subject TEXT,
  body TEXT,
  message_id TEXT,
  in_reply_to TEXT,
  trace_id TEXT,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX messages_project ON messages (project, created_ms);
CREATE INDEX messages_thread ON messages (thread_id, created_ms);
CREATE INDEX messages_trace ON messages (trace_id);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT,
  trace_id TEXT,
  actor TEXT NOT NULL,
  decision TEXT NOT NULL,
  rationale TEXT,
  inputs TEXT,
  outputs TEXT,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX decisions_project ON decisions (project, created_ms);
CREATE INDEX decisions_trace ON decisions (trace_id);
CREATE INDEX decisions_time ON decisions (created_ms);
"#,
        postgres: r#"
CREATE TABLE kb_entries (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project TEXT,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT ',',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_ms BIGINT NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
    setweight(to_tsvector('english', coalesce(body, '')), 'B') ||
    setweight(to_tsvector('simple', replace(coalesce(tags, ''), ',', ' ')), 'C')
  ) STORED
);
CREATE INDEX kb_entries_project ON kb_entries (project, updated_ms);
CREATE INDEX kb_entries_tsv ON kb_entries USING GIN (tsv);
CREATE TABLE messages (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project TEXT,
  thread_id TEXT,
  direction TEXT NOT NULL,
  channel TEXT NOT NULL,
  from_addr TEXT,
  to_addr TEXT,
  subject TEXT,
  body TEXT,
  message_id TEXT,
  in_reply_to TEXT,
  trace_id TEXT,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX messages_project ON messages (project, created_ms);
CREATE INDEX messages_thread ON messages (thread_id, created_ms);
CREATE INDEX messages_trace ON messages (trace_id);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE TABLE decisions (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project TEXT,
  trace_id TEXT,
  actor TEXT NOT NULL,
  decision TEXT NOT NULL,
  rationale TEXT,
  inputs TEXT,
  outputs TEXT,
  created_at TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE INDEX decisions_project ON decisions (project, created_ms);
CREATE INDEX decisions_trace ON decisions (trace_id);
CREATE INDEX decisions_time ON decisions (created_ms);
"#,
    },
    Migration {
        version: 2,
        name: "idempotency keys",
        // The keys of decision_record and message_record (see `idempotency`):
        // one row per (tool, key), written in the record's own transaction. The
        // table name carries the service's prefix because in compose every
        // service shares one PostgreSQL database.
        sqlite: IDEMPOTENCY,
        postgres: IDEMPOTENCY,
    },
];

/// Tables and their internals that the generic tools do not show or touch
/// (the idempotency keys too: a key rewritten by hand would replay the wrong
/// record).
pub fn is_internal(table: &str) -> bool {
    let t = table.to_ascii_lowercase();
    t.starts_with("_mcp_migrations")
        || t.starts_with("kb_fts")
        || t.starts_with("sqlite_")
        || t.starts_with("sql_idempotency")
}
