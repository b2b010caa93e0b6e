//! `trace_get`: one trace as a tree of spans with timings, services, status
//! and attributes.

use mcp_core::prelude::*;

use crate::Observer;
use crate::tree::{TraceTree, render};

/// Arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The trace id: 32 hex digits (the second field of a traceparent, or the trace_id of a log line).
    pub trace_id: String,
    /// Most spans to return, earliest first (default and maximum: OBSERVER_MAX_TRACE_SPANS, 2000 unless set).
    pub max_spans: Option<i64>,
    /// Include each span's attributes and events (default true); false gives a much smaller answer.
    pub attributes: Option<bool>,
    /// Also fetch the decisions recorded under this trace from the sql server (default false).
    pub decisions: Option<bool>,
}

/// The trace.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The trace as a tree.
    pub trace: TraceTree,
    /// Decisions recorded with this trace_id (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decisions: Option<Vec<Value>>,
    /// What could not be included, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Observer> {
    Tool::new(
        "trace_get",
        "One trace as a tree: every stored span under its parent, with service, name, kind, start offset, \
         duration, status and attributes; spans whose parent is not stored are roots marked parent_missing. \
         Optionally the decisions recorded under the trace. Find trace ids with traces_search.",
        Annotations::read_only(),
        run,
    )
    .title("Get a trace")
}

async fn run(obs: Arc<Observer>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let out = obs.trace(&a).await?;
    let mut text = render(&out.trace);
    if let Some(d) = &out.decisions {
        text.push_str(&format!("{} decision(s) under this trace\n", d.len()));
    }
    for w in &out.warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    Ok(Out::new(out).text(text))
}
