//! `browser_navigate`: open a URL in the selected tab and wait for it to
//! load. The URL is checked before anything starts (so the refusal names its
//! rule); every request the page then makes is checked by the interceptor,
//! and the ones it refused come back in `blocked`.

use mcp_core::prelude::*;
use mcp_types::browser::{NavigateArgs, Navigation};

use crate::chrome::Chrome;
use crate::origin::Verdict;
use crate::page;
use crate::session::Browsers;

/// The tool.
pub fn tool() -> Tool<Browsers> {
    Tool::new(
        "browser_navigate",
        "Open a URL in the selected tab and wait until it has loaded. Only http(s) URLs on the server's allowed origins \
         (and file:// under its roots) load; requests the page makes to other origins are refused and listed in \
         `blocked`. Returns the final URL (after redirects), the HTTP status and the title. Refs from earlier \
         snapshots are stale afterwards.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Open a URL")
    .timeout(super::nav_timeout())
}

async fn run(b: Arc<Browsers>, a: NavigateArgs, ctx: Ctx) -> Result<Out<Navigation>, ToolError> {
    let mut c = b.browser(&ctx).await?;
    let n = navigate(&b, &mut c, a.url.trim()).await?;
    let text = format!(
        "{} {} \"{}\"{}",
        n.status.map_or_else(|| "-".to_owned(), |s| s.to_string()),
        n.url,
        n.title,
        if n.blocked.is_empty() { String::new() } else { format!("; blocked: {}", n.blocked.join(", ")) }
    );
    Ok(Out::new(n).text(text))
}

/// Navigate the selected tab of `c` to `url`.
pub async fn navigate(b: &Browsers, c: &mut Chrome, url: &str) -> Result<Navigation, ToolError> {
    if let Verdict::Deny(rule) = b.policy.check_navigation(url) {
        return Err(ToolError::denied(rule));
    }
    let since = c.blocked.lock().map(|l| l.last()).unwrap_or(0);
    let tab = c.tab()?;
    if let Ok(mut l) = tab.log.lock() {
        l.main_status = None;
    }
    let limit = b.config.nav_timeout;
    let started = std::time::Instant::now();
    let r = page::exec(&tab.page, limit, "Page.navigate", json!({"url": url})).await?;
    let blocked: Vec<String> = c
        .blocked
        .lock()
        .map(|l| l.since(since).into_iter().take(50).map(|x| format!("{} ({})", x.url, x.rule)).collect())
        .unwrap_or_default();
    if let Some(err) = r["errorText"].as_str().filter(|e| !e.is_empty()) {
        if err.contains("BLOCKED_BY_CLIENT") && !blocked.is_empty() {
            return Err(ToolError::denied(format!("the navigation was refused: {}", blocked.join(", "))));
        }
        return Err(ToolError::failed(format!("the page did not load: {err}")));
    }
    let left = limit.saturating_sub(started.elapsed());
    let loaded = page::wait_loaded(&tab.page, left).await;
    let (final_url, title) = page::url_title(&tab.page, super::act(b)).await;
    if !loaded {
        return Err(ToolError::timeout(format!(
            "{final_url} did not finish loading within {} s (BROWSER_NAV_TIMEOUT_SECS)",
            limit.as_secs()
        )));
    }
    let status = tab.log.lock().ok().and_then(|l| l.main_status);
    // Requests refused while the page loaded, not only during the first hop.
    let blocked = c
        .blocked
        .lock()
        .map(|l| l.since(since).into_iter().take(50).map(|x| format!("{} ({})", x.url, x.rule)).collect())
        .unwrap_or(blocked);
    Ok(Navigation { url: final_url, status, title, blocked })
}
