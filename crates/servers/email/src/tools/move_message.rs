//! `move_message`: file a message into another mailbox.

use mcp_core::prelude::*;

use super::load;
use crate::{Email, backend};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The message id.
    pub id: String,
    /// The mailbox to move it to (an existing one; see list_mailboxes).
    pub to: String,
}

/// Where it went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The message id (unchanged by the move).
    pub id: String,
    /// The mailbox it was in.
    pub from_mailbox: String,
    /// The mailbox it is in now.
    pub mailbox: String,
    /// Its UID there, when known.
    pub uid: Option<i64>,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "move_message",
        "Move a message to another existing mailbox (e.g. an archive). The message keeps its id. Uses IMAP MOVE \
         (or UIDPLUS copy and expunge of that one message); never expunges anything else.",
        Annotations::destructive(true),
        run,
    )
    .title("Move a message")
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let s = load(&e, &a.id).await?;
    let from_mailbox = s.location.mailbox.clone();
    let loc = backend::move_to(&e, &s, a.to.trim()).await?;
    Ok(Out::new(Output { id: a.id, from_mailbox, mailbox: loc.mailbox, uid: loc.uid }))
}
