//! `gateway__servers`: every upstream's state — up or down and why, tools
//! contributed, when it was last listed, the p95 of calls through the
//! gateway, and tools dropped from its list.

use mcp_core::prelude::*;

use crate::Gateway;
use crate::catalogue::ServerStatus;

/// Arguments.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this upstream (its short name: `fs`, `git`, `planner`...).
    pub name: Option<String>,
}

/// The upstreams.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// In configuration order.
    pub servers: Vec<ServerStatus>,
}

/// The tool.
pub fn tool() -> Tool<Gateway> {
    Tool::new(
        "gateway__servers",
        "The fleet programs behind this gateway: for each upstream its state (up, down, unknown before the first \
         refresh), why it is down, how many tools it contributes, when it was last listed, the 95th percentile of \
         calls through the gateway, and tools left out of the catalogue with the reason. Use it when a \
         {server}__{tool} you expected is missing or a call says an upstream is unavailable.",
        Annotations::read_only(),
        run,
    )
    .title("Upstream servers")
}

async fn run(gw: Arc<Gateway>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut servers = gw.servers();
    if let Some(n) = &a.name {
        servers.retain(|s| &s.name == n);
        if servers.is_empty() {
            let known: Vec<String> = gw.servers().into_iter().map(|s| s.name).collect();
            return Err(ToolError::not_found(format!("no upstream {n:?}; configured: {}", known.join(", "))));
        }
    }
    let mut text = String::new();
    for s in &servers {
        text.push_str(&format!("{} ({}): {}, {} tools", s.name, s.program, s.state, s.tool_count));
        if let Some(p) = s.p95_ms {
            text.push_str(&format!(", p95 {p:.1} ms over {} calls", s.calls_sampled));
        }
        if let Some(e) = &s.last_error {
            text.push_str(&format!(" — {e}"));
        }
        for p in &s.problems {
            text.push_str(&format!("\n  problem: {p}"));
        }
        text.push('\n');
    }
    Ok(Out::new(Output { servers }).text(text))
}
