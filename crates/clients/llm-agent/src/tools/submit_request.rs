//! `submit_request`: a request (or the answer to the agent's questions)
//! through MCP instead of email — the REST gateway's way in. Same
//! processing as a trusted email: screened, read, questions returned in the
//! result instead of mailed, and idempotent on `message_id`.

use mcp_core::prelude::*;

use crate::Agent;
use sha2::{Digest, Sha256};

use super::handle_err;
use crate::request::{Channel, Incoming, Outcome};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The request in words; labelled lines ("Name: ...", "Language: ...", "Kind: ...") are read most reliably.
    pub text: String,
    /// A subject line.
    #[serde(default)]
    pub subject: Option<String>,
    /// Who asks (an email address: the completion report is mailed there when the email server is configured).
    #[serde(default)]
    pub requester: Option<String>,
    /// To answer the questions of an earlier request, its request_id; omit for a new request.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Idempotency key of this submission (default: a hash of the other fields). The same key returns the
    /// recorded outcome and does nothing again.
    #[serde(default)]
    pub message_id: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "submit_request",
        "Submit a project request, or answer the questions of an earlier one (pass its request_id). Returns the \
         decision: asked (with the questions to answer), proceeded (with the planner's run_id; follow it there), \
         refused (with the reason) or gave_up. Idempotent on message_id.",
        Annotations::additive(true),
        run,
    )
    .title("Submit a request")
}

fn valid_id(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-<>@+".contains(&b))
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<Outcome>, ToolError> {
    if a.text.trim().is_empty() || a.text.len() > 100_000 {
        return Err(ToolError::invalid("text must be 1 to 100000 bytes"));
    }
    if let Some(r) = &a.requester
        && (r.len() > 254 || r.matches('@').count() != 1 || r.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(ToolError::invalid(format!("requester {r:?} is not an email address")));
    }
    for id in [&a.request_id, &a.message_id].into_iter().flatten() {
        if !valid_id(id) {
            return Err(ToolError::invalid(format!(
                "{id:?}: ids are 1-128 characters of letters, digits and ._:-<>@+"
            )));
        }
    }
    if let Some(id) = &a.request_id
        && s.store.get(id).await.map_err(super::store_err)?.is_none()
    {
        return Err(ToolError::not_found(format!("request {id}; omit request_id to start a new request")));
    }
    let subject = a.subject.clone().unwrap_or_else(|| "Project request".into());
    let message_id = a.message_id.clone().unwrap_or_else(|| {
        let mut h = Sha256::new();
        for part in [a.request_id.as_deref().unwrap_or(""), a.requester.as_deref().unwrap_or(""), &subject, &a.text] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        format!("mcp-{}", h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect::<String>())
    });
    let m = Incoming {
        channel: Channel::Mcp,
        message_id,
        from: a.requester,
        subject,
        text: a.text,
        request_id: a.request_id,
        thread: Vec::new(),
        received_at: Some(mcp_core::clock::now_rfc3339()),
        trusted: true,
        trust_reason: "authenticated MCP caller".into(),
    };
    let o = s.handle(&m).await.map_err(handle_err)?;
    let mut text = format!(
        "{}{} for request {}",
        o.decision,
        if o.duplicate { " (already processed)" } else { "" },
        o.request_id.as_deref().unwrap_or("-")
    );
    if !o.questions.is_empty() {
        text.push_str(&format!("\n{}", o.questions.join("\n")));
    }
    if let Some(r) = &o.reason {
        text.push_str(&format!("\n{r}"));
    }
    if let Some(run) = &o.run_id {
        text.push_str(&format!("\nplanner run {run}"));
    }
    Ok(Out::new(o).text(text))
}
