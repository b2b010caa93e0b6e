//! `browser_hover`: move the mouse over an element by ref.

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
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_hover",
        "Move the mouse over an element (a ref from browser_snapshot), e.g. to open a menu or show a tooltip.",
        Annotations::additive(true).open_world(),
        run,
    )
    .title("Hover")
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Acted>, ToolError> {
    let c = b.browser(&ctx).await?;
    let tab = c.tab()?;
    let node = page::resolve_ref(tab, &a.element)?;
    let start = super::mark(&c, tab);
    let at = page::center(&tab.page, super::act(&b), node).await?;
    page::mouse(&tab.page, super::act(&b), at, 0).await?;
    super::acted(&b, &c, start).await
}
