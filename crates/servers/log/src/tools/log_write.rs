//! `log_write`: store log lines through MCP (for producers that are not
//! fleet programs, such as build scripts run by the planner). Fleet programs
//! ship their own lines over `POST /v1/logs` instead.

use mcp_core::prelude::*;

use crate::Log;
use crate::api::{IngestError, ingest_body};
use crate::lines::{LineIn, Refused};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The lines (at most the configured batch size).
    pub lines: Vec<LineIn>,
}

/// What was stored.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Lines stored.
    pub accepted: u64,
    /// Lines refused, with the reason.
    pub rejected: Vec<Refused>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "log_write",
        "Store structured log lines ({level, service, message, trace_id?, span_id?, target?, fields?, timestamp?}). \
         Each line is checked on its own; refused lines are reported by index and the rest are stored.",
        Annotations::additive(false),
        run,
    )
    .title("Write log lines")
}

async fn run(s: Arc<Log>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.lines.is_empty() {
        return Err(ToolError::invalid("lines is empty"));
    }
    // One path for every producer: re-encode and go through the ingest
    // checks, so the tool and the HTTP route cannot drift apart. A line
    // without a trace_id takes the caller's.
    let trace = ctx.trace_id().map(str::to_owned);
    let mut body = Vec::new();
    for l in a.lines {
        let mut v = json!({
            "level": l.level, "service": l.service, "message": l.message,
            "trace_id": l.trace_id.or_else(|| trace.clone()), "span_id": l.span_id,
            "target": l.target, "fields": l.fields,
        });
        if let Some(t) = l.timestamp {
            v["timestamp"] = Value::String(t);
        }
        body.extend_from_slice(v.to_string().as_bytes());
        body.push(b'\n');
    }
    let (accepted, rejected) = ingest_body(&s, &body).await.map_err(|e| match e {
        IngestError::Body(m) => ToolError::invalid(m),
        IngestError::Store(e) => ToolError::internal(e),
    })?;
    let text = if rejected.is_empty() {
        format!("stored {accepted} lines")
    } else {
        let why: Vec<String> = rejected.iter().map(|r| format!("line {}: {}", r.index, r.reason)).collect();
        format!("stored {accepted} lines, refused {}:\n{}", rejected.len(), why.join("\n"))
    };
    Ok(Out::new(Output { accepted, rejected }).text(text))
}
