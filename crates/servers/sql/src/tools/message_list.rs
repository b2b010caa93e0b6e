//! `message_list`: the communication log of a project, thread or message.

use mcp_core::db::sqlx::Row;
use mcp_core::db::sqlx::any::AnyRow;
use mcp_core::prelude::*;

use super::{db_err, limit};
use crate::Sql;

/// Arguments. At least one filter is required.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Messages of this project: its folder name or its request id (records under either and under the traces they
    /// share are one project).
    pub project: Option<String>,
    /// Messages of this thread.
    pub thread_id: Option<String>,
    /// The message with this Message-ID (and any others recorded with it).
    pub message_id: Option<String>,
    /// Most messages, the latest ones (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// One message.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Message {
    /// Record id.
    pub id: i64,
    /// Project.
    pub project: Option<String>,
    /// Thread.
    pub thread_id: Option<String>,
    /// "in" or "out".
    pub direction: String,
    /// Channel.
    pub channel: String,
    /// Sender.
    pub from_addr: Option<String>,
    /// Recipients.
    pub to_addr: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// In-Reply-To.
    pub in_reply_to: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// When, RFC 3339.
    pub created_at: String,
    /// When, Unix ms.
    pub created_ms: i64,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Messages, oldest first.
    pub items: Vec<Message>,
}

/// A row of the columns selected below, in that order.
pub fn from_row(r: &AnyRow) -> Message {
    Message {
        id: r.get(0),
        project: r.get(1),
        thread_id: r.get(2),
        direction: r.get(3),
        channel: r.get(4),
        from_addr: r.get(5),
        to_addr: r.get(6),
        subject: r.get(7),
        body: r.get(8),
        message_id: r.get(9),
        in_reply_to: r.get(10),
        trace_id: r.get(11),
        created_at: r.get(12),
        created_ms: r.get(13),
    }
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "message_list",
        "List recorded messages of a project, a thread or a Message-ID, oldest first (the latest `limit` of them).",
        Annotations::read_only(),
        run,
    )
    .title("List messages")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.project.is_none() && a.thread_id.is_none() && a.message_id.is_none() {
        return Err(ToolError::invalid("give project, thread_id or message_id"));
    }
    let n = limit(a.limit, 100, 1000)?;
    let rows = s
        .db
        .query(concat!(
            "SELECT id, project, thread_id, direction, channel, from_addr, to_addr, subject, body, message_id, in_reply_to, trace_id, created_at, created_ms \
             FROM messages WHERE ($1 IS NULL OR ",
            crate::project_match!(),
            ") AND ($2 IS NULL OR thread_id = $2) AND ($3 IS NULL OR message_id = $3) \
             ORDER BY created_ms DESC, id DESC LIMIT $4"
        ))
        .bind(a.project.as_deref())
        .bind(a.thread_id.as_deref())
        .bind(a.message_id.as_deref())
        .bind(n)
        .fetch_all(s.db.reader())
        .await
        .map_err(db_err)?;
    let mut items: Vec<Message> = rows.iter().map(from_row).collect();
    items.reverse();
    let text = if items.is_empty() {
        "no messages".to_owned()
    } else {
        items
            .iter()
            .map(|m| format!("{} {} [{}] {}", m.created_at, m.direction, m.channel, m.subject.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { items }).text(text))
}
