//! `browser_close`: end the caller's browser (its Chromium process, tabs,
//! cookies and storage). The next browser tool starts a fresh one.

use mcp_core::prelude::*;

use crate::session::Browsers;

/// Arguments (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Closed {
    /// A browser was running and is now gone.
    pub closed: bool,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_close",
        "End this session's browser: its Chromium process, tabs, cookies and storage are gone. The next browser tool \
         starts a fresh, empty browser.",
        Annotations::destructive(true),
        run,
    )
    .title("Close the browser")
}

async fn run(b: Arc<Browsers>, _a: Args, ctx: Ctx) -> Result<Out<Closed>, ToolError> {
    Ok(Out::new(Closed { closed: b.close(&ctx).await }))
}
