//! The agent's MCP tools, one per file: `submit_request` (the gateway's way
//! in), `request_status`, `request_list`, and — only with a provider that
//! can write code — `llm_implement` and `llm_fix` for the planner.

pub mod llm_fix;
pub mod llm_implement;
pub mod request_list;
pub mod request_status;
pub mod submit_request;

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
