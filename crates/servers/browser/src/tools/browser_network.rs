//! `browser_network`: the selected tab's requests — method, URL, type,
//! status, failures, and which ones the allow-list refused.

use mcp_core::prelude::*;

use crate::chrome::NetEntry;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only URLs containing this text.
    pub url_contains: Option<String>,
    /// Only failed requests (blocked, refused, aborted, or status >= 400).
    #[serde(default)]
    pub failed_only: bool,
    /// Only requests after this `seq` (the last one you saw).
    pub since: Option<u64>,
    /// At most this many, the newest (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Network {
    /// Requests, oldest first.
    pub requests: Vec<NetEntry>,
    /// Matching requests left out by `limit`.
    pub omitted: usize,
    /// Requests started and not finished now.
    pub in_flight: usize,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_network",
        "Requests the selected tab made (the last 500): method, URL, resource type, status, failure; `blocked` marks \
         those the origin allow-list refused.",
        Annotations::read_only(),
        run,
    )
    .title("Network requests")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Network>, ToolError> {
    let limit = super::limit(a.limit, 100, 500)?;
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let l = tab.log.lock().map_err(|_| ToolError::internal("log lock"))?;
    let all: Vec<NetEntry> = l
        .network
        .iter()
        .filter(|e| a.since.is_none_or(|s| e.seq > s))
        .filter(|e| a.url_contains.as_deref().is_none_or(|u| e.url.contains(u)))
        .filter(|e| !a.failed_only || e.failed.is_some() || e.status.is_some_and(|s| s >= 400))
        .cloned()
        .collect();
    let omitted = all.len().saturating_sub(limit);
    Ok(Out::new(Network { requests: all[omitted..].to_vec(), omitted, in_flight: l.in_flight() }))
}
