//! `project_timeline`: a project's messages and decisions merged in time order.

use mcp_core::prelude::*;

use super::{db_err, limit};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: its folder name or the request id the agent gave it (either gives the whole story).
    pub project: String,
    /// Most entries of each kind, the latest ones (default 200, at most 2000).
    pub limit: Option<i64>,
}

/// One entry.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry {
    /// A message.
    Message(super::message_list::Message),
    /// A decision.
    Decision(super::decision_list::Decision),
}

impl Entry {
    fn at(&self) -> (i64, i64) {
        match self {
            Self::Message(m) => (m.created_ms, m.id),
            Self::Decision(d) => (d.created_ms, d.id),
        }
    }
}

/// The timeline.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project.
    pub project: String,
    /// Entries, oldest first.
    pub entries: Vec<Entry>,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "project_timeline",
        "A project's history: its messages and decisions merged in time order, each with its trace id. The project is \
         its folder name or its request id: records under either, and under the traces they share, are one story.",
        Annotations::read_only(),
        run,
    )
    .title("Project timeline")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = limit(a.limit, 200, 2000)?;
    let db = &s.db;
    let messages = db
        .query(concat!(
            "SELECT id, project, thread_id, direction, channel, from_addr, to_addr, subject, body, message_id, in_reply_to, trace_id, created_at, created_ms \
             FROM messages WHERE ",
            crate::project_match!(),
            " ORDER BY created_ms DESC, id DESC LIMIT $2"
        ))
        .bind(&a.project)
        .bind(n)
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    let decisions = db
        .query(concat!(
            "SELECT id, project, trace_id, actor, decision, rationale, inputs, outputs, created_at, created_ms FROM decisions \
             WHERE ",
            crate::project_match!(),
            " ORDER BY created_ms DESC, id DESC LIMIT $2"
        ))
        .bind(&a.project)
        .bind(n)
        .fetch_all(db.reader())
        .await
        .map_err(db_err)?;
    let mut entries: Vec<Entry> = messages
        .iter()
        .map(|r| Entry::Message(super::message_list::from_row(r)))
        .chain(decisions.iter().map(|r| Entry::Decision(super::decision_list::from_row(r))))
        .collect();
    entries.sort_by_key(Entry::at);
    let text = if entries.is_empty() {
        format!("nothing recorded for project {}", a.project)
    } else {
        entries
            .iter()
            .map(|e| match e {
                Entry::Message(m) => format!(
                    "{} message {} {}: {}",
                    m.created_at,
                    m.direction,
                    m.channel,
                    m.subject.as_deref().unwrap_or("")
                ),
                Entry::Decision(d) => format!(
                    "{} decision {} {}: {}",
                    d.created_at,
                    d.actor,
                    d.decision,
                    d.rationale.as_deref().unwrap_or("")
                ),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { project: a.project, entries }).text(text))
}
