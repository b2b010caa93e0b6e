//! `list_mailboxes`: the mailboxes with message and unseen counts.

use mcp_core::prelude::*;

use crate::config::Mode;
use crate::{Email, backend};

/// Arguments (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// One mailbox.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Mailbox {
    /// Name, as list_messages and move_message take it.
    pub name: String,
    /// Messages in it, when known.
    pub messages: Option<u32>,
    /// Unseen messages in it, when known.
    pub unseen: Option<u32>,
}

/// Mailboxes.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The mailboxes.
    pub mailboxes: Vec<Mailbox>,
    /// The watched inbox.
    pub inbox: String,
    /// Where copies of sent mail go.
    pub sent: String,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "list_mailboxes",
        "List the mailboxes (folders) with their message and unseen counts, and name the watched inbox and the \
         Sent mailbox.",
        Annotations::read_only(),
        run,
    )
    .title("List mailboxes")
}

async fn run(e: Arc<Email>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let list = backend::mailboxes(&e).await?;
    let (inbox, sent) = match e.config.mode {
        Mode::Maildir => ("INBOX".to_owned(), "Sent".to_owned()),
        Mode::Imap => (e.config.inbox.clone(), e.config.sent_mailbox.clone()),
    };
    Ok(Out::new(Output {
        mailboxes: list.into_iter().map(|(name, messages, unseen)| Mailbox { name, messages, unseen }).collect(),
        inbox,
        sent,
    }))
}
