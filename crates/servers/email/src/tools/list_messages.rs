//! `list_messages`: search a mailbox (dates, sender, subject, flags), newest
//! first, in pages.

use mcp_core::prelude::*;

use super::{Summary, within_budget};
use crate::Email;
use crate::addr::check_mailbox_name;
use crate::backend::{self, Query};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Mailbox (default the inbox); see list_mailboxes.
    #[serde(default)]
    pub mailbox: Option<String>,
    /// Only messages on or after this date, `YYYY-MM-DD`.
    #[serde(default)]
    pub since: Option<String>,
    /// Only messages before this date, `YYYY-MM-DD`.
    #[serde(default)]
    pub before: Option<String>,
    /// Only messages whose sender (address or name) contains this text.
    #[serde(default)]
    pub from: Option<String>,
    /// Only messages whose subject contains this text.
    #[serde(default)]
    pub subject: Option<String>,
    /// true: only seen messages; false: only unseen ones.
    #[serde(default)]
    pub seen: Option<bool>,
    /// true: only flagged messages; false: only unflagged ones.
    #[serde(default)]
    pub flagged: Option<bool>,
    /// Skip this many matches (paging; default 0).
    #[serde(default)]
    pub offset: Option<u32>,
    /// Most messages returned (default 20, at most 100).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A page of messages.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The mailbox searched.
    pub mailbox: String,
    /// How many messages match in all.
    pub total: usize,
    /// Newest first.
    pub messages: Vec<Summary>,
    /// Pass as `offset` for the next page; absent on the last page.
    pub next_offset: Option<usize>,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "list_messages",
        "List messages of a mailbox, newest first, filtered by date (since/before), sender, subject, seen and \
         flagged, in pages (offset/limit). Each entry has the new text and the attachment list; get_message has the \
         whole body. Never marks mail as seen.",
        Annotations::read_only(),
        run,
    )
    .title("List messages")
}

fn date(field: &str, v: &Option<String>) -> Result<Option<time::Date>, ToolError> {
    let Some(v) = v else { return Ok(None) };
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v.get(..10).unwrap_or(v), fmt)
        .map(Some)
        .map_err(|_| ToolError::invalid(format!("{field}: {v:?} is not a date like 2024-01-31")))
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mailbox = a.mailbox.clone().unwrap_or_else(|| match e.config.mode {
        crate::config::Mode::Maildir => "INBOX".into(),
        crate::config::Mode::Imap => e.config.inbox.clone(),
    });
    check_mailbox_name(&mailbox).map_err(ToolError::invalid)?;
    let q = Query {
        mailbox: mailbox.clone(),
        since: date("since", &a.since)?,
        before: date("before", &a.before)?,
        from: a.from.filter(|s| !s.is_empty()),
        subject: a.subject.filter(|s| !s.is_empty()),
        seen: a.seen,
        flagged: a.flagged,
        offset: a.offset.unwrap_or(0) as usize,
        limit: a.limit.unwrap_or(20).clamp(1, 100) as usize,
    };
    let (rows, total) = backend::list(&e, &q).await?;
    let messages = within_budget(&rows, e.config.max_text_bytes);
    let next = q.offset + messages.len();
    Ok(Out::new(Output {
        mailbox,
        total,
        next_offset: (next < total && !messages.is_empty()).then_some(next),
        messages,
    }))
}
