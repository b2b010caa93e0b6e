//! `send`: a new message (or one threaded under a known Message-ID) to
//! allow-listed recipients.

use mcp_core::prelude::*;

use crate::addr::normalize_message_id;
use crate::outbound::{self, Attachment, Draft, Keyed, Sent};
use crate::{Email, db_error};

/// Arguments.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Recipients (plain addresses; each must be on the server's recipient allow-list).
    pub to: Vec<String>,
    /// Copy recipients (same rules).
    #[serde(default)]
    pub cc: Vec<String>,
    /// Subject, one line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Message-ID this message answers: sets In-Reply-To, and References from the stored parent's chain.
    #[serde(default)]
    pub in_reply_to: Option<String>,
    /// A request id: the Reply-To address then carries a signed token, so replies come back with this
    /// request_id. Letters, digits, '-', '_', '.', ':'; short (the address must fit 64 bytes).
    #[serde(default)]
    pub request_id: Option<String>,
    /// Makes the send idempotent: the same key with the same arguments returns the first result
    /// (`duplicate: true`) and sends nothing; the same key with different arguments is refused as a conflict; a
    /// key whose earlier send was interrupted is refused. Use one key per message meant.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// Files attached after the text (at most 5; PNG, JPEG, plain text, PDF or JSON; their bytes count against
    /// the server's size limit with the text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// The tool.
pub fn tool() -> Tool<Email> {
    Tool::new(
        "send",
        "Send a plain-text email to allow-listed recipients. With in_reply_to it threads under that message. With \
         request_id the Reply-To carries a signed token so answers map back to the request. A copy is kept in the \
         Sent mailbox. If the outcome is ambiguous (connection lost after the data) it is reported, not retried: \
         do not resend blindly.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Send an email")
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Sent>, ToolError> {
    let idempotency = Keyed::new(a.idempotency_key.as_deref(), &a)?;
    let mut references = Vec::new();
    if let Some(id) = &a.in_reply_to {
        let id = normalize_message_id(id)
            .ok_or_else(|| ToolError::invalid(format!("in_reply_to: {id:?} is not a Message-ID")))?;
        if let Some(parent) = e.store.by_message_id(&id).await.map_err(db_error)?.into_iter().next() {
            references = parent.m.references.clone();
        }
        references.push(id);
    }
    let draft = Draft {
        to: a.to,
        cc: a.cc,
        subject: a.subject,
        text: a.text,
        in_reply_to: a.in_reply_to,
        references,
        request_id: a.request_id,
        idempotency,
        attachments: a.attachments,
    };
    Ok(Out::new(outbound::send(&e, &draft).await?))
}
