//! `gateway__audit` (admin): recent calls through the gateway — who called
//! which tool, what the gateway decided, how it ended. Served through the
//! tool source so that only admins see it (see the module docs of `tools`).

use mcp_core::prelude::*;
use mcp_core::tool::Handler;

use crate::Gateway;
use crate::store::{AuditEntry, AuditQuery};

/// Arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only calls by this subject (a key's name, `jwt:<sub>`, `fleet`).
    pub subject: Option<String>,
    /// Only calls of this qualified tool (`fs__read_file`).
    pub tool: Option<String>,
    /// Only this decision: `allowed`, `denied`, `rate_limited` or `awaiting_approval`.
    pub decision: Option<String>,
    /// Only rows older than this row id (the `id` of the last row of the previous page).
    pub before: Option<i64>,
    /// Most rows, newest first (default 50, at most 500).
    pub limit: Option<i64>,
}

/// The rows.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Newest first. Arguments appear as their shape (JSON types) and SHA-256, never their values.
    pub entries: Vec<AuditEntry>,
}

/// The tool (its definition; the handler is [`handler`]).
pub fn tool() -> Tool<Gateway> {
    Tool::new(
        "gateway__audit",
        "Recent tool calls through this gateway, newest first: when, who (subject, key id, role), which tool, the \
         arguments' shape and SHA-256 (never their values), the decision (allowed, denied, rate_limited, \
         awaiting_approval), the outcome and error kind, the duration and the trace_id. Filter by subject, tool or \
         decision; page with before.",
        Annotations::read_only(),
        run,
    )
    .title("Audit log")
}

/// The handler over `gw`.
pub fn handler(gw: Arc<Gateway>) -> Handler {
    tool().bind(gw)
}

async fn run(gw: Arc<Gateway>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if let Some(d) = &a.decision
        && !["allowed", "denied", "rate_limited", "awaiting_approval"].contains(&d.as_str())
    {
        return Err(ToolError::invalid(format!(
            "decision {d:?}: expected allowed, denied, rate_limited or awaiting_approval"
        )));
    }
    let limit = a.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ToolError::invalid(format!("limit {limit}: expected 1..=500")));
    }
    let q = AuditQuery { subject: a.subject, tool: a.tool, decision: a.decision, before: a.before, limit };
    let entries = gw.store.audit(&q).await.map_err(ToolError::internal)?;
    let mut text = format!("{} audit rows\n", entries.len());
    for e in &entries {
        text.push_str(&format!(
            "{} {} {} {} {}{}\n",
            e.at,
            e.subject,
            e.tool,
            e.decision,
            e.outcome.as_deref().unwrap_or("-"),
            e.error_kind.as_deref().map(|k| format!(" ({k})")).unwrap_or_default()
        ));
    }
    Ok(Out::new(Output { entries }).text(text))
}
