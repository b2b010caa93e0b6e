//! `thread`: every stored message of a conversation, linked by Message-ID,
//! In-Reply-To and References (the server's own sent replies included).

use std::collections::{BTreeMap, HashSet, VecDeque};

use mcp_core::prelude::*;

use super::{Summary, load, summary};
use crate::addr::normalize_message_id;
use crate::{Email, db_error};

/// Most messages one thread returns.
const MAX_THREAD: usize = 200;

/// Arguments: one of `id` or `message_id`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// A message id of the thread (from wait_for_new, list_messages...).
    #[serde(default)]
    pub id: Option<String>,
    /// Or a Message-ID of the thread, `<...>`.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// The thread.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The messages, oldest first (by date).
    pub messages: Vec<Summary>,
    /// More than 200 messages: the list was cut.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "thread",
        "Get a whole conversation: every known message linked to the given one by Message-ID, In-Reply-To or \
         References, including the replies this server sent, oldest first. Never marks mail as seen.",
        Annotations::read_only(),
        run,
    )
    .title("Get a thread")
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut ids: VecDeque<String> = VecDeque::new();
    let mut found: BTreeMap<i64, crate::store::Stored> = BTreeMap::new();
    match (&a.id, &a.message_id) {
        (Some(id), None) => {
            let s = load(&e, id).await?;
            ids.push_back(s.m.message_id.clone());
            ids.extend(s.m.references.iter().cloned());
            ids.extend(s.m.in_reply_to.iter().cloned());
            found.insert(s.seq, s);
        }
        (None, Some(mid)) => {
            ids.push_back(
                normalize_message_id(mid).ok_or_else(|| ToolError::invalid(format!("{mid:?} is not a Message-ID")))?,
            );
        }
        _ => return Err(ToolError::invalid("give exactly one of id or message_id")),
    }
    let mut visited: HashSet<String> = HashSet::new();
    let mut truncated = false;
    while let Some(mid) = ids.pop_front() {
        if !visited.insert(mid.clone()) {
            continue;
        }
        if found.len() >= MAX_THREAD || visited.len() > 4 * MAX_THREAD {
            truncated = true;
            break;
        }
        let mut rows = e.store.by_message_id(&mid).await.map_err(db_error)?;
        for seq in e.store.referring_to(&mid).await.map_err(db_error)? {
            if !found.contains_key(&seq)
                && let Some(s) = e.store.get(seq).await.map_err(db_error)?
            {
                rows.push(s);
            }
        }
        for s in rows {
            if found.contains_key(&s.seq) || s.duplicate_of.is_some() {
                continue;
            }
            ids.push_back(s.m.message_id.clone());
            ids.extend(s.m.references.iter().cloned());
            ids.extend(s.m.in_reply_to.iter().cloned());
            found.insert(s.seq, s);
        }
    }
    if found.is_empty() {
        return Err(ToolError::not_found("no stored message belongs to that thread"));
    }
    let mut rows: Vec<&crate::store::Stored> = found.values().collect();
    rows.sort_by(|x, y| x.m.date.cmp(&y.m.date).then_with(|| x.seq.cmp(&y.seq)));
    let messages: Vec<Summary> = rows.iter().take(MAX_THREAD).map(|s| summary(s, e.config.max_text_bytes)).collect();
    Ok(Out::new(Output { messages, truncated }))
}
