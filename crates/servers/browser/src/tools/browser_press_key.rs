//! `browser_press_key`: press one key in the focused element (or the page).

use mcp_core::prelude::*;

use super::Acted;
use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// A single character, or one of Enter, Tab, Escape, Backspace, Delete, ArrowUp, ArrowDown, ArrowLeft,
    /// ArrowRight, Home, End, PageUp, PageDown, Space.
    pub key: String,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_press_key",
        "Press and release one key in the focused element (focus one with browser_click or browser_type first). If it \
         navigates (Enter in a form), waits for the new page.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Press a key")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let start = super::mark(&c, tab);
    page::press(&tab.page, super::act(&b), &a.key).await?;
    super::acted(&b, &c, start).await
}
