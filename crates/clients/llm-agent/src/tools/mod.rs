//! The agent's MCP tools, one per file: `submit_request` (the gateway's way
//! in), `request_status`, `request_list`, `request_cancel`, `request_retry`,
//! and — only with a provider that can write code — `llm_implement` and
//! `llm_fix` for the planner. The registry is the list in `lib.rs`'s `server`.

pub mod llm_fix;
pub mod llm_implement;
pub mod request_cancel;
pub mod request_list;
pub mod request_retry;
pub mod request_status;
pub mod submit_request;

use crate::Agent;
use crate::llm::rules::Intent;
use crate::request::{Channel, Incoming, Outcome};
use crate::store::Request;

use mcp_core::ToolError;

/// A handling failure as a tool error: outages are "unavailable" (retry later), the rest internal.
pub fn handle_err(e: crate::request::HandleError) -> ToolError {
    use crate::request::HandleError;
    match e {
        e if e.transient() => ToolError::Unavailable(e.to_string()),
        // What a peer or the model said is useful to the caller; a database or template fault is not.
        HandleError::Peer(p) => ToolError::failed(p.message),
        HandleError::Llm(l) => ToolError::failed(l.to_string()),
        other => ToolError::internal(other),
    }
}

/// A store failure.
pub fn store_err(e: crate::store::StoreError) -> ToolError {
    ToolError::internal(e)
}

/// An LLM step failure.
pub fn coder_err(e: crate::coder::CoderError) -> ToolError {
    match e {
        crate::coder::CoderError::Llm(crate::llm::LlmError::Unavailable(m)) => ToolError::Unavailable(m),
        other => ToolError::failed(other.to_string()),
    }
}

/// Act on an existing request as its email intent would (`request_cancel`,
/// `request_retry`): one message through the same path. Each call is a
/// message of its own (a fresh id): an action that did not apply must not
/// be answered from the record once it would (a retry refused while the run
/// was going, asked again after it failed). Repeats are safe all the same:
/// the state decides — a cancelled request is not cancelled twice, and a
/// retry is a planner run keyed `<request>-retry<n>`, so two calls at once
/// start one run.
pub async fn act(s: &Agent, request_id: &str, intent: Intent, text: String) -> Result<(Request, Outcome), ToolError> {
    let r = s.store.get(request_id).await.map_err(store_err)?;
    let r = r.ok_or_else(|| ToolError::not_found(format!("request {request_id}")))?;
    let action = if intent == Intent::Cancel { "cancel" } else { "retry" };
    let m = Incoming {
        channel: Channel::Mcp,
        message_id: format!("mcp-{action}-{}-{}-{:016x}", r.id, r.attempt, rand::random::<u64>()),
        from: None,
        subject: r.subject.clone(),
        text,
        request_id: Some(r.id.clone()),
        thread: Vec::new(),
        received_at: Some(mcp_core::clock::now_rfc3339()),
        trusted: true,
        trust_reason: "authenticated MCP caller".into(),
    };
    let o = s.act(&m, intent).await.map_err(handle_err)?;
    Ok((r, o))
}
