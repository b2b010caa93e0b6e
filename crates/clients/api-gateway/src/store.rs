//! The gateway's tables, in both dialects: API keys and the audit.
//!
//! A key row holds the key's HMAC, never the key; the audit holds the shape
//! and hash of a call's arguments, never their values. Audit rows are
//! written in batches by [`crate::audit`]'s writer task, so a call never
//! waits for the database.

use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Db, DbError, Migration};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The migrations, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "keys_and_audit",
    sqlite: r#"
CREATE TABLE gateway_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  allow_globs TEXT NOT NULL,
  deny_globs TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  expires_ms BIGINT,
  revoked_ms BIGINT,
  last_used_ms BIGINT
);
CREATE TABLE gateway_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms BIGINT NOT NULL,
  subject TEXT NOT NULL,
  key_id TEXT,
  role TEXT NOT NULL,
  tool TEXT NOT NULL,
  args_shape TEXT NOT NULL,
  args_sha256 TEXT NOT NULL,
  decision TEXT NOT NULL,
  outcome TEXT,
  error_kind TEXT,
  duration_ms DOUBLE PRECISION NOT NULL,
  trace_id TEXT,
  via TEXT NOT NULL
);
CREATE INDEX gateway_audit_at ON gateway_audit (at_ms);
CREATE INDEX gateway_audit_subject ON gateway_audit (subject, at_ms);
CREATE INDEX gateway_audit_tool ON gateway_audit (tool, at_ms);
"#,
    postgres: r#"
CREATE TABLE gateway_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  allow_globs TEXT NOT NULL,
  deny_globs TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  expires_ms BIGINT,
  revoked_ms BIGINT,
  last_used_ms BIGINT
);
CREATE TABLE gateway_audit (
  id BIGSERIAL PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  subject TEXT NOT NULL,
  key_id TEXT,
  role TEXT NOT NULL,
  tool TEXT NOT NULL,
  args_shape TEXT NOT NULL,
  args_sha256 TEXT NOT NULL,
  decision TEXT NOT NULL,
  outcome TEXT,
  error_kind TEXT,
  duration_ms DOUBLE PRECISION NOT NULL,
  trace_id TEXT,
  via TEXT NOT NULL
);
CREATE INDEX gateway_audit_at ON gateway_audit (at_ms);
CREATE INDEX gateway_audit_subject ON gateway_audit (subject, at_ms);
CREATE INDEX gateway_audit_tool ON gateway_audit (tool, at_ms);
"#,
}];

/// One API key as stored (the HMAC, never the key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    /// The public id (the key's second part).
    pub id: String,
    /// A name people chose.
    pub name: String,
    /// HMAC-SHA-256 of the whole key, hex.
    pub hash: String,
    /// `viewer`, `operator` or `admin`.
    pub role: String,
    /// Qualified-name globs the key is limited to (empty: no limit beyond the role).
    pub allow: Vec<String>,
    /// Qualified-name globs the key may never use (deny wins).
    pub deny: Vec<String>,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Who created it.
    pub created_by: String,
    /// Expiry, Unix ms.
    pub expires_ms: Option<i64>,
    /// Revoked, Unix ms.
    pub revoked_ms: Option<i64>,
    /// Last used, Unix ms.
    pub last_used_ms: Option<i64>,
}

/// What a call through the gateway came to, as the audit's `decision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Forwarded to the upstream.
    Allowed,
    /// Refused by role or globs (the tool was hidden from this caller).
    Denied,
    /// Refused by a quota.
    RateLimited,
    /// Waiting for a person.
    AwaitingApproval,
}

impl Decision {
    /// The one text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::RateLimited => "rate_limited",
            Self::AwaitingApproval => "awaiting_approval",
        }
    }
}

/// One audit row to write.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// When, Unix ms.
    pub at_ms: i64,
    /// Who.
    pub subject: String,
    /// With which key.
    pub key_id: Option<String>,
    /// Their role.
    pub role: String,
    /// The qualified tool.
    pub tool: String,
    /// The arguments' shape (types, never values), JSON.
    pub args_shape: String,
    /// SHA-256 of the arguments' canonical JSON, hex.
    pub args_sha256: String,
    /// What the gateway decided.
    pub decision: Decision,
    /// `ok`, `error` or none when it was not forwarded.
    pub outcome: Option<String>,
    /// The error's kind, when it failed.
    pub error_kind: Option<String>,
    /// How long the call took, ms.
    pub duration_ms: f64,
    /// The call's trace.
    pub trace_id: Option<String>,
    /// `mcp` or `rest`.
    pub via: String,
}

/// One audit entry as read back.
#[derive(Debug, Clone, Serialize, JsonSchema, ToSchema)]
pub struct AuditEntry {
    /// Row id (the `before` cursor of the next page).
    pub id: i64,
    /// When, RFC 3339.
    pub at: String,
    /// Who.
    pub subject: String,
    /// With which key.
    pub key_id: Option<String>,
    /// Their role.
    pub role: String,
    /// The qualified tool.
    pub tool: String,
    /// The arguments' shape.
    pub args_shape: serde_json::Value,
    /// SHA-256 of the arguments.
    pub args_sha256: String,
    /// `allowed`, `denied`, `rate_limited`, `awaiting_approval`.
    pub decision: String,
    /// `ok`, `error`, or none.
    pub outcome: Option<String>,
    /// The error's kind.
    pub error_kind: Option<String>,
    /// Milliseconds.
    pub duration_ms: f64,
    /// Trace id.
    pub trace_id: Option<String>,
    /// `mcp` or `rest`.
    pub via: String,
}

/// Which audit rows to read.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only this subject.
    pub subject: Option<String>,
    /// Only this tool (qualified name).
    pub tool: Option<String>,
    /// Only this decision.
    pub decision: Option<String>,
    /// Rows with an id below this (paging backwards).
    pub before: Option<i64>,
    /// At most this many (1..=500).
    pub limit: i64,
}

/// The gateway's database.
pub struct Store {
    db: Db,
}

fn key_row(r: &AnyRow) -> Result<KeyRow, sqlx::Error> {
    let list = |s: String| serde_json::from_str::<Vec<String>>(&s).unwrap_or_default();
    Ok(KeyRow {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        hash: r.try_get(2)?,
        role: r.try_get(3)?,
        allow: list(r.try_get(4)?),
        deny: list(r.try_get(5)?),
        created_ms: r.try_get(6)?,
        created_by: r.try_get(7)?,
        expires_ms: r.try_get(8)?,
        revoked_ms: r.try_get(9)?,
        last_used_ms: r.try_get(10)?,
    })
}

impl Store {
    /// Connect and migrate.
    pub async fn open(url: &str) -> Result<Self, DbError> {
        Ok(Self { db: Db::connect(url, "gateway", MIGRATIONS).await? })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Every key, revoked ones included, oldest first.
    pub async fn keys(&self) -> Result<Vec<KeyRow>, sqlx::Error> {
        let rows = self
            .db
            .query(
                "SELECT id, name, hash, role, allow_globs, deny_globs, created_ms, created_by, expires_ms, revoked_ms, \
                 last_used_ms FROM gateway_keys ORDER BY created_ms, id",
            )
            .fetch_all(self.db.writer())
            .await?;
        rows.iter().map(key_row).collect()
    }

    /// Store a new key.
    pub async fn insert_key(&self, k: &KeyRow) -> Result<(), sqlx::Error> {
        self.db
            .query(
                "INSERT INTO gateway_keys (id, name, hash, role, allow_globs, deny_globs, created_ms, created_by, \
                 expires_ms, revoked_ms, last_used_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL)",
            )
            .bind(k.id.clone())
            .bind(k.name.clone())
            .bind(k.hash.clone())
            .bind(k.role.clone())
            .bind(serde_json::to_string(&k.allow).unwrap_or_else(|_| "[]".into()))
            .bind(serde_json::to_string(&k.deny).unwrap_or_else(|_| "[]".into()))
            .bind(k.created_ms)
            .bind(k.created_by.clone())
            .bind(k.expires_ms)
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Revoke a key; `false` when there is no such key (revoking twice keeps
    /// the first time).
    pub async fn revoke_key(&self, id: &str, at_ms: i64) -> Result<bool, sqlx::Error> {
        let r = self
            .db
            .query("UPDATE gateway_keys SET revoked_ms = COALESCE(revoked_ms, $2) WHERE id = $1")
            .bind(id.to_owned())
            .bind(at_ms)
            .execute(self.db.writer())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Record last-used times (batched by the caller).
    pub async fn touch_keys(&self, used: &[(String, i64)]) -> Result<(), sqlx::Error> {
        if used.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.writer().begin().await?;
        for (id, ms) in used {
            sqlx::query(sqlx::AssertSqlSafe(
                self.db
                    .sql("UPDATE gateway_keys SET last_used_ms = $2 WHERE id = $1 AND (last_used_ms IS NULL OR last_used_ms < $2)")
                    .into_owned(),
            ))
            .bind(id.clone())
            .bind(*ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Write audit rows in one transaction.
    pub async fn insert_audit(&self, rows: &[AuditRow]) -> Result<(), sqlx::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = self
            .db
            .sql(
                "INSERT INTO gateway_audit (at_ms, subject, key_id, role, tool, args_shape, args_sha256, decision, \
                 outcome, error_kind, duration_ms, trace_id, via) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .into_owned();
        let mut tx = self.db.writer().begin().await?;
        for a in rows {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(a.at_ms)
                .bind(a.subject.clone())
                .bind(a.key_id.clone())
                .bind(a.role.clone())
                .bind(a.tool.clone())
                .bind(a.args_shape.clone())
                .bind(a.args_sha256.clone())
                .bind(a.decision.as_str())
                .bind(a.outcome.clone())
                .bind(a.error_kind.clone())
                .bind(a.duration_ms)
                .bind(a.trace_id.clone())
                .bind(a.via.clone())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }

    /// Audit rows, newest first.
    pub async fn audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, sqlx::Error> {
        // One static statement: every filter is a parameter that may be NULL.
        let rows = self
            .db
            .query(
                "SELECT id, at_ms, subject, key_id, role, tool, args_shape, args_sha256, decision, outcome, error_kind, \
                 duration_ms, trace_id, via FROM gateway_audit \
                 WHERE ($1 IS NULL OR subject = $1) AND ($2 IS NULL OR tool = $2) AND ($3 IS NULL OR decision = $3) \
                 AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
            )
            .bind(q.subject.clone())
            .bind(q.tool.clone())
            .bind(q.decision.clone())
            .bind(q.before)
            .bind(q.limit.clamp(1, 500))
            .fetch_all(self.db.reader())
            .await?;
        rows.iter()
            .map(|r| {
                let shape: String = r.try_get(6)?;
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: mcp_core::clock::rfc3339_ms(r.try_get(1)?),
                    subject: r.try_get(2)?,
                    key_id: r.try_get(3)?,
                    role: r.try_get(4)?,
                    tool: r.try_get(5)?,
                    args_shape: serde_json::from_str(&shape).unwrap_or(serde_json::Value::String(shape)),
                    args_sha256: r.try_get(7)?,
                    decision: r.try_get(8)?,
                    outcome: r.try_get(9)?,
                    error_kind: r.try_get(10)?,
                    duration_ms: r.try_get(11)?,
                    trace_id: r.try_get(12)?,
                    via: r.try_get(13)?,
                })
            })
            .collect()
    }
}
