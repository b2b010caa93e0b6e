//! The tools, one per file, and what several share: the caller's name and
//! role check, the input cap, and the workflow's result shapes.

pub mod architecture_diagram;
pub mod spec_create;
pub mod spec_decide;
pub mod spec_document_get;
pub mod spec_document_write;
pub mod spec_draft_section;
pub mod spec_generate;
pub mod spec_list;
pub mod spec_render;
pub mod spec_status;
pub mod spec_submit;
pub mod spec_task_update;
pub mod spec_templates_list;

use mcp_core::auth::Role;
use mcp_core::prelude::*;
use mcp_types::documents::TemplateOrigin;

use crate::Spec;

/// Who is calling, for the records (`anonymous` on an open server).
pub fn actor(ctx: &Ctx) -> String {
    ctx.caller().map(|c| c.subject.clone()).unwrap_or_else(|| "anonymous".into())
}

/// Refuse a caller below `role` (fail closed when no caller is known).
pub fn require(ctx: &Ctx, role: Role, what: &str) -> Result<(), ToolError> {
    match ctx.caller() {
        Some(c) if c.role >= role => Ok(()),
        Some(c) => Err(ToolError::denied(format!(
            "{what} needs the {} role or higher; {} has {}",
            role.as_str(),
            c.subject,
            c.role.as_str()
        ))),
        None => Err(ToolError::denied(format!("{what} needs an authenticated caller"))),
    }
}

/// Refuse input larger than `SPEC_MAX_INPUT_BYTES`.
pub fn cap_input(s: &Spec, what: &str, len: usize) -> Result<(), ToolError> {
    if len > s.config.max_input {
        return Err(ToolError::invalid(format!(
            "{what} is {len} bytes; at most {} are taken (SPEC_MAX_INPUT_BYTES)",
            s.config.max_input
        )));
    }
    Ok(())
}

/// The size of a JSON value's text.
pub fn json_len(v: &Value) -> usize {
    serde_json::to_string(v).map(|t| t.len()).unwrap_or(usize::MAX)
}

/// `template:<name> (builtin|user)`.
pub fn source_of(template: &str, origin: TemplateOrigin) -> String {
    format!("template:{template} ({origin})")
}
