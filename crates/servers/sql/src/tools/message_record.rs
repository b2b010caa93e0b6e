//! `message_record`: add a message to the communication log.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{bounded, now, required};
use crate::Sql;
use crate::idempotency::{self, Key};

/// Which way the message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Received.
    In,
    /// Sent.
    Out,
}

/// Arguments.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project (request id) it belongs to.
    pub project: Option<String>,
    /// Conversation thread (e.g. the first Message-ID of an email thread).
    pub thread_id: Option<String>,
    /// "in" or "out".
    pub direction: Direction,
    /// "email", "rest", ...
    pub channel: String,
    /// Sender.
    pub from_addr: Option<String>,
    /// Recipient(s).
    pub to_addr: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Body text.
    pub body: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// In-Reply-To.
    pub in_reply_to: Option<String>,
    /// Trace id (defaults to this call's trace).
    pub trace_id: Option<String>,
    /// Makes the call safe to retry: the first call with a key records the message; a call with the same key and
    /// the same arguments returns that first record (`duplicate: true`) and records nothing; the same key with
    /// different arguments is refused as a conflict. Use one key per message meant, e.g. its Message-ID. At most
    /// 200 characters.
    pub idempotency_key: Option<String>,
}

/// The record.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Output {
    /// Record id.
    pub id: i64,
    /// The trace id stored with it.
    pub trace_id: Option<String>,
    /// True when this is the record of an earlier call with the same idempotency key: nothing was written this time.
    #[serde(default)]
    pub duplicate: bool,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "message_record",
        "Record a message received or sent (email, REST...) in the communication log of a project and thread.",
        Annotations::additive(false),
        run,
    )
    .title("Record a message")
}

async fn run(s: Arc<Sql>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    required("channel", &a.channel, 40)?;
    for (n, v, max) in [
        ("project", &a.project, 200),
        ("thread_id", &a.thread_id, 1000),
        ("from_addr", &a.from_addr, 1000),
        ("to_addr", &a.to_addr, 4000),
        ("subject", &a.subject, 2000),
        ("body", &a.body, 1 << 20),
        ("message_id", &a.message_id, 1000),
        ("in_reply_to", &a.in_reply_to, 1000),
        ("trace_id", &a.trace_id, 64),
    ] {
        bounded(n, v.as_deref().unwrap_or(""), max)?;
    }
    let key = Key::new("message_record", a.idempotency_key.as_deref(), &a)?;
    let trace_id = a.trace_id.clone().or_else(|| ctx.trace_id().map(str::to_owned));
    let (at, ms) = now();
    let direction = match a.direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    let (out, duplicate) = idempotency::write(&s.db, key.as_ref(), async |tx| {
        let row = s
            .db
            .query(
                "INSERT INTO messages (project, thread_id, direction, channel, from_addr, to_addr, subject, body, message_id, in_reply_to, trace_id, created_at, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            )
            .bind(a.project.as_deref())
            .bind(a.thread_id.as_deref())
            .bind(direction)
            .bind(&a.channel)
            .bind(a.from_addr.as_deref())
            .bind(a.to_addr.as_deref())
            .bind(a.subject.as_deref())
            .bind(a.body.as_deref())
            .bind(a.message_id.as_deref())
            .bind(a.in_reply_to.as_deref())
            .bind(trace_id.as_deref())
            .bind(&at)
            .bind(ms)
            .fetch_one(tx)
            .await?;
        let id: i64 = row.get(0);
        Ok((id, Output { id, trace_id: trace_id.clone(), duplicate: false }))
    })
    .await?;
    let text = idempotency::result_text(duplicate, "message", out.id, || format!("recorded message {}", out.id));
    Ok(Out::new(Output { duplicate, ..out }).text(text))
}
