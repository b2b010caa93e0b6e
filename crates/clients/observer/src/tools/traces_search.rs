//! `traces_search`: traces with a span matching the filters, one summary
//! each.

use mcp_core::prelude::*;

use crate::Observer;
use crate::store::TraceSummary;

/// Arguments. Every filter applies to one span: a trace matches when one of
/// its spans matches them all.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Spans of this service (`mcp-server-fs`).
    pub service: Option<String>,
    /// Spans with this name (`tools/call read_file`) or this tool name (`read_file`).
    pub operation: Option<String>,
    /// Spans lasting at least this many milliseconds.
    pub min_duration_ms: Option<f64>,
    /// Only spans that ended in error.
    pub errors_only: Option<bool>,
    /// Spans of this project (gen_ai.conversation.id or a `project` attribute).
    pub project: Option<String>,
    /// Spans starting at or after: RFC 3339, or a span back from now such as `15m`, `1h`, `7d` (default `24h`).
    pub since: Option<String>,
    /// Spans starting at or before: RFC 3339 or a span back from now (default: now).
    pub until: Option<String>,
    /// `recent` (latest activity first, the default) or `slowest` (longest matching span first).
    pub order: Option<String>,
    /// Most traces (default 20, at most 500).
    pub limit: Option<i64>,
}

/// The matches.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// One summary per trace.
    pub traces: Vec<TraceSummary>,
}

/// The tool.
pub fn tool() -> Tool<Observer> {
    Tool::new(
        "traces_search",
        "Search stored traces by service, operation or tool name, minimum span duration, errors, project and time \
         range. Returns one summary per trace: root span, services, start, duration, span and error counts. Open \
         one with trace_get.",
        Annotations::read_only(),
        run,
    )
    .title("Search traces")
}

async fn run(obs: Arc<Observer>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let traces = obs.search(&a).await?;
    let text = if traces.is_empty() {
        "no trace matches; widen `since` (default 24h) or drop a filter".to_owned()
    } else {
        traces
            .iter()
            .map(|t| {
                format!(
                    "{} {} {:.3}ms {} span(s) {} error(s) {} [{}]",
                    t.trace_id,
                    t.start,
                    t.duration_ms,
                    t.span_count,
                    t.error_count,
                    t.root_name,
                    t.services.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { traces }).text(text))
}
