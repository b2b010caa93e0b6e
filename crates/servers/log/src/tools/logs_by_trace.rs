//! `logs_by_trace`: everything the fleet logged about one request, in order,
//! with a per-service count so a missing hop is visible at a glance.

use std::collections::BTreeMap;

use mcp_core::prelude::*;

use super::query::{self, Filter, Order};
use crate::Log;
use crate::lines::{Line, render};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The W3C trace id (32 hex digits).
    pub trace_id: String,
    /// Only this service's lines.
    pub service: Option<String>,
    /// This level and worse (TRACE, DEBUG, INFO, WARN, ERROR).
    pub min_level: Option<String>,
    /// Most lines, oldest first (default 500, at most 5000).
    pub limit: Option<i64>,
}

/// The lines of one trace.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The trace id, normalised.
    pub trace_id: String,
    /// Lines per service.
    pub services: BTreeMap<String, u64>,
    /// The lines, oldest first.
    pub lines: Vec<Line>,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "logs_by_trace",
        "All log lines of one trace_id across every service, oldest first, with a count per service.",
        Annotations::read_only(),
        run,
    )
    .title("Logs of a trace")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let trace_id = crate::lines::normalize_trace_id(&a.trace_id).map_err(ToolError::invalid)?;
    let filter =
        Filter { trace_id: Some(trace_id.clone()), service: a.service, min_level: a.min_level, ..Filter::default() };
    let lines = query::run(&s, filter, a.limit, Order::Oldest).await?;
    let mut services = BTreeMap::new();
    for l in &lines {
        *services.entry(l.service.clone()).or_insert(0) += 1;
    }
    let text = if lines.is_empty() {
        format!("no log lines for trace {trace_id}")
    } else {
        lines.iter().map(render).collect::<Vec<_>>().join("\n")
    };
    Ok(Out::new(Output { trace_id, services, lines }).text(text))
}
