//! `browser_console`: the selected tab's console messages and uncaught
//! exceptions, newest last, from a ring of the last 500.

use mcp_core::prelude::*;

use crate::chrome::ConsoleEntry;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this level: `error`, `warning`, `info`, `log` or `debug`.
    pub level: Option<String>,
    /// Only messages after this `seq` (the last one you saw).
    pub since: Option<u64>,
    /// At most this many, the newest (default 100, at most 500).
    pub limit: Option<u32>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Console {
    /// Messages, oldest first.
    pub messages: Vec<ConsoleEntry>,
    /// Matching messages left out by `limit`.
    pub omitted: usize,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_console",
        "Console messages and uncaught exceptions of the selected tab (the last 500 are kept), optionally one level \
         and only those after `since`.",
        Annotations::read_only(),
        run,
    )
    .title("Console messages")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Console>, ToolError> {
    let limit = super::limit(a.limit, 100, 500)?;
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let l = tab.log.lock().map_err(|_| ToolError::internal("log lock"))?;
    let all: Vec<ConsoleEntry> = l
        .console
        .iter()
        .filter(|e| a.since.is_none_or(|s| e.seq > s))
        .filter(|e| a.level.as_deref().is_none_or(|lv| e.level == lv || (lv == "warn" && e.level == "warning")))
        .cloned()
        .collect();
    let omitted = all.len().saturating_sub(limit);
    Ok(Out::new(Console { messages: all[omitted..].to_vec(), omitted }))
}
