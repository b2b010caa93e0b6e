//! `browser_click`: click an element by ref — scrolled into view, then real
//! mouse events at the centre of its box, as a user's click would be.

use mcp_core::prelude::*;

use super::Acted;
use crate::page;
use crate::session::Browsers;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The element's ref from the latest browser_snapshot (`e12`).
    #[serde(rename = "ref")]
    pub element: String,
    /// Double-click instead.
    #[serde(default)]
    pub double: bool,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_click",
        "Click an element (a ref from browser_snapshot): scrolls it into view and clicks the centre of its box. If \
         the click navigates, waits for the new page; the result says whether it did.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Click")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let node = page::resolve_ref(tab, &a.element)?;
    let start = super::mark(&c, tab);
    let at = page::center(&tab.page, super::act(&b), node).await?;
    page::mouse(&tab.page, super::act(&b), at, if a.double { 2 } else { 1 }).await?;
    super::acted(&b, &c, start).await
}
