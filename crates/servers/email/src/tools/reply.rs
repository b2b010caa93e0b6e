//! `reply`: answer a trusted message in its thread.

use mcp_core::prelude::*;

use super::load;
use crate::Email;
use crate::outbound::{self, Attachment, Draft, Keyed, Sent};

/// Arguments.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The id of the message answered (it must be trusted).
    pub id: String,
    /// Plain-text body of the reply.
    pub text: String,
    /// A request id: the Reply-To then carries a signed token, so the next answer comes back with this
    /// request_id.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Also copy the other recipients of the original (default false; each must be on the recipient
    /// allow-list).
    #[serde(default)]
    pub reply_all: bool,
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
        "reply",
        "Reply to a trusted message: to its sender's From address (never an untrusted Reply-To), subject \"Re: ...\", \
         In-Reply-To and the full References chain so mail clients keep the thread. A copy is kept in Sent. \
         Untrusted messages cannot be answered. An ambiguous send is reported, not retried.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Reply to a message")
}

/// `Re: subject`, without stacking prefixes.
pub fn re_subject(subject: &str) -> String {
    let s = subject.trim();
    let lower = s.to_lowercase();
    if ["re:", "re :", "aw:", "sv:", "antw:"].iter().any(|p| lower.starts_with(p)) {
        s.to_owned()
    } else if s.is_empty() {
        "Re: (no subject)".to_owned()
    } else {
        format!("Re: {s}")
    }
}

async fn run(e: Arc<Email>, a: Args, _ctx: Ctx) -> Result<Out<Sent>, ToolError> {
    let idempotency = Keyed::new(a.idempotency_key.as_deref(), &a)?;
    let parent = load(&e, &a.id).await?;
    if !parent.m.trusted {
        return Err(ToolError::denied(format!(
            "message {} is not trusted ({}); untrusted mail is never answered",
            a.id, parent.m.trust_reason
        )));
    }
    let to = vec![parent.m.from.clone()];
    let mut cc = Vec::new();
    if a.reply_all {
        let own = |x: &str| x.eq_ignore_ascii_case(&e.config.address) || e.signer.check_address(x).is_some();
        for x in parent.m.to.iter().chain(parent.m.cc.iter()) {
            if !own(x)
                && !x.eq_ignore_ascii_case(&parent.m.from)
                && !cc.iter().any(|c: &String| c.eq_ignore_ascii_case(x))
            {
                cc.push(x.clone());
            }
        }
    }
    let synthetic = parent.m.message_id.ends_with("@mcp-server-email.invalid>");
    let mut references = parent.m.references.clone();
    if !synthetic {
        references.push(parent.m.message_id.clone());
    }
    let draft = Draft {
        to,
        cc,
        subject: crate::addr::one_line(&re_subject(&parent.m.subject)),
        text: a.text,
        in_reply_to: (!synthetic).then(|| parent.m.message_id.clone()),
        references,
        request_id: a.request_id,
        idempotency,
        attachments: a.attachments,
    };
    Ok(Out::new(outbound::send(&e, &draft).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        assert_eq!(re_subject("Build me a CLI"), "Re: Build me a CLI");
        assert_eq!(re_subject("Re: Build"), "Re: Build");
        assert_eq!(re_subject("RE: Build"), "RE: Build");
        assert_eq!(re_subject(""), "Re: (no subject)");
    }
}
