//! `browser_history`: back, forward or reload in the selected tab.

use mcp_core::prelude::*;
use mcp_types::browser::Navigation;

use crate::page;
use crate::session::Browsers;

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The previous page.
    Back,
    /// The next page.
    Forward,
    /// Load the current page again.
    Reload,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `back`, `forward` or `reload`.
    pub action: Action,
}

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_history",
        "Go back, forward, or reload the selected tab, and wait for the page to load. Answers like browser_navigate.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Back, forward, reload")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: Args, ctx: Ctx) -> Result<Out<Navigation>, ToolError> {
    let c = b.browser(&ctx).await?;
    let since = c.blocked.lock().map(|l| l.last()).unwrap_or(0);
    let tab = c.tab()?;
    let act = super::act(&b);
    if let Ok(mut l) = tab.log.lock() {
        l.main_status = None;
    }
    let epoch = page::epoch(tab);
    match a.action {
        Action::Reload => {
            page::exec(&tab.page, act, "Page.reload", json!({})).await?;
        }
        Action::Back | Action::Forward => {
            let h = page::exec(&tab.page, act, "Page.getNavigationHistory", json!({})).await?;
            let cur = h["currentIndex"].as_i64().unwrap_or(0);
            let entries = h["entries"].as_array().cloned().unwrap_or_default();
            let want = if matches!(a.action, Action::Back) { cur - 1 } else { cur + 1 };
            let Some(e) = usize::try_from(want).ok().and_then(|i| entries.get(i)) else {
                return Err(ToolError::conflict(format!(
                    "there is no page to go {} to",
                    if matches!(a.action, Action::Back) { "back" } else { "forward" }
                )));
            };
            page::exec(&tab.page, act, "Page.navigateToHistoryEntry", json!({"entryId": e["id"]})).await?;
        }
    }
    // Wait for the document to change (a same-document entry or a page
    // restored from the back/forward cache may not), then to load.
    let change = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while page::epoch(tab) == epoch && std::time::Instant::now() < change {
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    page::wait_loaded(&tab.page, b.config.nav_timeout).await;
    let (url, title) = page::url_title(&tab.page, act).await;
    let status = tab.log.lock().ok().and_then(|l| l.main_status);
    let blocked = c
        .blocked
        .lock()
        .map(|l| l.since(since).into_iter().take(50).map(|x| format!("{} ({})", x.url, x.rule)).collect())
        .unwrap_or_default();
    Ok(Out::new(Navigation { url, status, title, blocked }))
}
