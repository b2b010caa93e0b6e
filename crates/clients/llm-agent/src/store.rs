//! The agent's memory: requests (what is known, what was asked, where it
//! stands), the messages already processed (so a redelivered or re-read
//! message is never acted on twice), and the intake cursor. SQLite by
//! default, PostgreSQL in compose; the same SQL for both.

use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::db::sqlx::{self, Row};
use mcp_core::db::{Db, Migration, decode, encode};
use schemars::JsonSchema;
use serde::Serialize;

use crate::spec::Draft;
pub use mcp_types::request::{Decision, Lang, RequestState};

const TABLES: &str = r#"
CREATE TABLE agent_requests (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  requester TEXT,
  subject TEXT NOT NULL,
  first_message_id TEXT NOT NULL,
  reply_to TEXT,
  draft TEXT NOT NULL,
  state TEXT NOT NULL,
  rounds BIGINT NOT NULL,
  asked TEXT NOT NULL,
  reason TEXT,
  traceparent TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  run_id TEXT,
  tokens BIGINT NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL
);
CREATE INDEX agent_requests_state ON agent_requests (state, updated_ms);
CREATE TABLE agent_messages (
  message_id TEXT PRIMARY KEY,
  request_id TEXT,
  outcome TEXT NOT NULL,
  created_ms BIGINT NOT NULL
);
CREATE TABLE agent_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
"#;

/// The requester's language, the attempt (a retried project is a new run
/// of the same request), and the messages of each thread, so a reply sent
/// to the plain address still finds its request.
const LANG_ATTEMPT_THREADS: &str = r#"
ALTER TABLE agent_requests ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE agent_requests ADD COLUMN attempt BIGINT NOT NULL DEFAULT 1;
CREATE TABLE agent_threads (
  message_id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL
);
"#;

const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "requests, messages, state", sqlite: TABLES, postgres: TABLES },
    Migration {
        version: 2,
        name: "language, attempt, threads",
        sqlite: LANG_ATTEMPT_THREADS,
        postgres: LANG_ATTEMPT_THREADS,
    },
];

/// Storage errors: the shared database error (connection, query, a stored document that does not parse).
pub use mcp_core::db::DbError as StoreError;

/// A request as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Request {
    /// Request id (also the conversation id of its spans and the planner's idempotency key).
    pub id: String,
    /// `email` or `mcp`.
    pub channel: String,
    /// Who asked.
    pub requester: Option<String>,
    /// Subject of the first message.
    pub subject: String,
    /// Message-ID (or caller's id) of the first message.
    pub first_message_id: String,
    /// The email server's id of the latest message of the thread (what replies answer).
    pub reply_to: Option<String>,
    /// What is known.
    pub draft: Draft,
    /// Where it is.
    pub state: RequestState,
    /// Question rounds sent.
    pub rounds: i64,
    /// Fields asked in the last round.
    pub asked: Vec<String>,
    /// Why it is refused, gave up or failed.
    pub reason: Option<String>,
    #[serde(skip)]
    /// W3C traceparent every span of the request descends from.
    pub traceparent: String,
    /// Its trace id.
    pub trace_id: String,
    /// The planner's run, once planned.
    pub run_id: Option<String>,
    /// Model tokens spent on it.
    pub tokens: i64,
    /// The language the requester wrote in; every mail to them uses it.
    pub lang: Lang,
    /// Runs started for it: 1, and one more for each retry of a failed project.
    pub attempt: i64,
    /// Created, Unix ms.
    pub created_ms: i64,
    /// Last change, Unix ms.
    pub updated_ms: i64,
}

const COLUMNS: &str = "id, channel, requester, subject, first_message_id, reply_to, draft, state, rounds, asked, \
                       reason, traceparent, trace_id, run_id, tokens, created_ms, updated_ms, lang, attempt";

fn from_row(r: &AnyRow) -> Result<Request, StoreError> {
    Ok(Request {
        id: r.get(0),
        channel: r.get(1),
        requester: r.get(2),
        subject: r.get(3),
        first_message_id: r.get(4),
        reply_to: r.get(5),
        draft: decode("draft", &r.get::<String, _>(6))?,
        state: r
            .get::<String, _>(7)
            .parse()
            .map_err(|e: mcp_types::UnknownValue| StoreError::Corrupt("request state", e.to_string()))?,
        rounds: r.get(8),
        asked: decode("asked", &r.get::<String, _>(9))?,
        reason: r.get(10),
        traceparent: r.get(11),
        trace_id: r.get(12),
        run_id: r.get(13),
        tokens: r.get(14),
        created_ms: r.get(15),
        updated_ms: r.get(16),
        lang: r
            .get::<String, _>(17)
            .parse()
            .map_err(|e: mcp_types::UnknownValue| StoreError::Corrupt("request language", e.to_string()))?,
        attempt: r.get(18),
    })
}

/// The store.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Connect and migrate.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Ok(Self { db: Db::connect(url, "llm_agent", MIGRATIONS).await? })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Insert a new request unless its id exists; the stored one either way.
    pub async fn create(&self, r: &Request) -> Result<Request, StoreError> {
        let q = format!(
            "INSERT INTO agent_requests ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             $14, $15, $16, $17, $18, $19) ON CONFLICT (id) DO NOTHING"
        );
        sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(r.id.clone())
            .bind(r.channel.clone())
            .bind(r.requester.clone())
            .bind(r.subject.clone())
            .bind(r.first_message_id.clone())
            .bind(r.reply_to.clone())
            .bind(encode(&r.draft))
            .bind(r.state.as_str().to_owned())
            .bind(r.rounds)
            .bind(encode(&r.asked))
            .bind(r.reason.clone())
            .bind(r.traceparent.clone())
            .bind(r.trace_id.clone())
            .bind(r.run_id.clone())
            .bind(r.tokens)
            .bind(r.created_ms)
            .bind(r.updated_ms)
            .bind(r.lang.as_str().to_owned())
            .bind(r.attempt)
            .execute(self.db.writer())
            .await?;
        self.get(&r.id).await?.ok_or(StoreError::Corrupt("request", "vanished after insert".into()))
    }

    /// Write back what changed in a request.
    pub async fn save(&self, r: &Request) -> Result<(), StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(
            self.db
                .sql(
                    "UPDATE agent_requests SET reply_to = $2, draft = $3, state = $4, rounds = $5, asked = $6, \
                     reason = $7, run_id = $8, tokens = $9, updated_ms = $10, attempt = $11 WHERE id = $1",
                )
                .into_owned(),
        ))
        .bind(r.id.clone())
        .bind(r.reply_to.clone())
        .bind(encode(&r.draft))
        .bind(r.state.as_str().to_owned())
        .bind(r.rounds)
        .bind(encode(&r.asked))
        .bind(r.reason.clone())
        .bind(r.run_id.clone())
        .bind(r.tokens)
        .bind(mcp_core::clock::now_ms())
        .bind(r.attempt)
        .execute(self.db.writer())
        .await?;
        Ok(())
    }

    /// A request by id.
    pub async fn get(&self, id: &str) -> Result<Option<Request>, StoreError> {
        let q = format!("SELECT {COLUMNS} FROM agent_requests WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(id.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Requests, latest first, optionally in one state.
    pub async fn list(&self, state: Option<RequestState>, limit: i64) -> Result<Vec<Request>, StoreError> {
        let q = format!(
            "SELECT {COLUMNS} FROM agent_requests WHERE ($1 = '' OR state = $1) ORDER BY updated_ms DESC, id LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(self.db.sql(&q).into_owned()))
            .bind(state.map_or("", RequestState::as_str).to_owned())
            .bind(limit.clamp(1, 1000))
            .fetch_all(self.db.reader())
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The outcome recorded for a message already processed.
    pub async fn processed(&self, message_id: &str) -> Result<Option<(Option<String>, String)>, StoreError> {
        let row = self
            .db
            .query("SELECT request_id, outcome FROM agent_messages WHERE message_id = $1")
            .bind(message_id.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Record a message as processed (the last write of its processing).
    pub async fn mark_processed(
        &self,
        message_id: &str,
        request_id: Option<&str>,
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.db
            .query(
                "INSERT INTO agent_messages (message_id, request_id, outcome, created_ms) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (message_id) DO NOTHING",
            )
            .bind(message_id.to_owned())
            .bind(request_id.map(str::to_owned))
            .bind(outcome.to_owned())
            .bind(mcp_core::clock::now_ms())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// Remember that `message_id` belongs to `request_id`'s thread (a
    /// message in or a reply out).
    pub async fn add_to_thread(&self, message_id: &str, request_id: &str) -> Result<(), StoreError> {
        self.db
            .query("INSERT INTO agent_threads (message_id, request_id) VALUES ($1, $2) ON CONFLICT (message_id) DO NOTHING")
            .bind(message_id.to_owned())
            .bind(request_id.to_owned())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }

    /// The request whose thread holds one of `message_ids` (a reply's
    /// `In-Reply-To` and `References`), the latest named first.
    pub async fn thread_of(&self, message_ids: &[String]) -> Result<Option<String>, StoreError> {
        for id in message_ids.iter().rev() {
            let row = self
                .db
                .query("SELECT request_id FROM agent_threads WHERE message_id = $1")
                .bind(id.clone())
                .fetch_optional(self.db.writer())
                .await?;
            if let Some(r) = row {
                return Ok(Some(r.get(0)));
            }
        }
        Ok(None)
    }

    /// A small persistent value (the intake cursor).
    pub async fn state(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = self
            .db
            .query("SELECT value FROM agent_state WHERE key = $1")
            .bind(key.to_owned())
            .fetch_optional(self.db.writer())
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Set a persistent value.
    pub async fn set_state(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.db
            .query(
                "INSERT INTO agent_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = \
                 excluded.value",
            )
            .bind(key.to_owned())
            .bind(value.to_owned())
            .execute(self.db.writer())
            .await?;
        Ok(())
    }
}
