//! `logs_search`: lines matching text, service and level within a time
//! range (the last hour unless told), newest first.

use mcp_core::prelude::*;

use super::query::{self, Filter, Order};
use crate::Log;
use crate::lines::{Line, render};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Text the message contains, case-insensitively (literal, no wildcards).
    pub query: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// This level and worse (TRACE, DEBUG, INFO, WARN, ERROR).
    pub min_level: Option<String>,
    /// Only this trace.
    pub trace_id: Option<String>,
    /// From: RFC 3339, or a span back from now like `15m`, `2h`, `7d` (default `1h`).
    pub since: Option<String>,
    /// Until: same forms (default now).
    pub until: Option<String>,
    /// Most lines, newest first (default 500, at most 5000).
    pub limit: Option<i64>,
}

/// The matches.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Lines, newest first.
    pub lines: Vec<Line>,
    /// Whether the limit cut the result short.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Log> {
    Tool::new(
        "logs_search",
        "Search log lines by message text, service, level and trace within a time range (default the last hour), \
         newest first.",
        Annotations::read_only(),
        run,
    )
    .title("Search logs")
}

async fn run(s: Arc<Log>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = a.limit.unwrap_or(500);
    let filter = Filter {
        trace_id: a.trace_id,
        service: a.service,
        min_level: a.min_level,
        contains: a.query,
        since: Some(a.since.unwrap_or_else(|| "1h".into())),
        until: a.until,
    };
    let lines = query::run(&s, filter, Some(n), Order::Newest).await?;
    let truncated = lines.len() as i64 >= n;
    let text = if lines.is_empty() {
        "no matching log lines".to_owned()
    } else {
        let mut t = lines.iter().map(render).collect::<Vec<_>>().join("\n");
        if truncated {
            t.push_str(&format!("\n(first {n} lines; narrow the range or raise limit)"));
        }
        t
    };
    Ok(Out::new(Output { lines, truncated }).text(text))
}
