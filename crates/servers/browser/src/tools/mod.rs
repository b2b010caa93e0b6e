//! The tools, one per file, and the result shapes several share.

pub mod browser_click;
pub mod browser_close;
pub mod browser_console;
pub mod browser_evaluate;
pub mod browser_fill_form;
pub mod browser_history;
pub mod browser_hover;
pub mod browser_navigate;
pub mod browser_network;
pub mod browser_pdf;
pub mod browser_press_key;
pub mod browser_screenshot;
pub mod browser_select;
pub mod browser_snapshot;
pub mod browser_tabs;
pub mod browser_type;
pub mod browser_wait_for;

use std::time::Duration;

use mcp_core::prelude::*;

use crate::chrome::{Chrome, Tab};
use crate::session::Browsers;

/// Where the page is after an action.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Acted {
    /// The page's URL now.
    pub url: String,
    /// Its title.
    pub title: String,
    /// The action started a navigation (refs from earlier snapshots are now stale).
    pub navigated: bool,
    /// Requests the allow-list refused during the action (`URL (rule)`): a popup or a navigation it started.
    pub blocked: Vec<String>,
}

/// A count within `1..=max`, `default` when absent.
pub fn limit(v: Option<u32>, default: u32, max: u32) -> Result<usize, ToolError> {
    match v {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(ToolError::invalid(format!("{n} is outside 1..={max}"))),
    }
}

/// The action time limit.
pub fn act(b: &Browsers) -> Duration {
    b.config.action_timeout
}

/// Where an action starts from: the tab's navigation epoch and log
/// position, and the browser's blocked-request count.
pub fn mark(c: &Chrome, t: &Tab) -> ((u64, u64), u64) {
    (crate::page::position(t), c.blocked.lock().map(|l| l.last()).unwrap_or(0))
}

/// Finish an action: follow a navigation it started, report where the page
/// is and what the allow-list refused meanwhile.
pub async fn acted(b: &Browsers, c: &Chrome, (before, since): ((u64, u64), u64)) -> Result<Out<Acted>, ToolError> {
    let t = c.tab()?;
    let navigated = crate::page::settle(t, before, b.config.nav_timeout).await;
    let (url, title) = crate::page::url_title(&t.page, act(b)).await;
    let blocked: Vec<String> = c
        .blocked
        .lock()
        .map(|l| l.since(since).into_iter().take(50).map(|x| format!("{} ({})", x.url, x.rule)).collect())
        .unwrap_or_default();
    let text = format!(
        "{}done; page {url} \"{title}\"{}",
        if navigated { "navigated; " } else { "" },
        if blocked.is_empty() { String::new() } else { format!("; blocked: {}", blocked.join(", ")) }
    );
    Ok(Out::new(Acted { url, title, navigated, blocked }).text(text))
}

/// The call limit of tools that may navigate: the largest
/// BROWSER_NAV_TIMEOUT_SECS (80 s) plus room to start a browser.
pub fn nav_timeout() -> Duration {
    Duration::from_secs(90)
}
